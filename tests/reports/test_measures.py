"""Every measure against a hand computation on the plant of tests/reports/support.py, on SQLite
and PostgreSQL. The arithmetic is written next to each expectation."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from engine.reports import Dataset, QueryContext, RowFilter, Viewer, run_dataset
from engine.reports.periods import Period
from tests.reports.support import NOW, Plant


def run(plant: Plant, body: dict[str, Any], *, viewer: Viewer | None = None,
        filters: tuple[RowFilter, ...] = ()) -> list[dict[str, Any]]:
    body = {"source": {"form": "hazard"}, **body}
    with plant.site.session() as session:
        result = run_dataset(session, Dataset.model_validate(body),
                             QueryContext(now=NOW, tz=plant.site.settings.tz, viewer=viewer or Viewer(),
                                          filters=filters))
    return result.records()


def one(plant: Plant, *measures: dict[str, Any], **body: Any) -> dict[str, Any]:
    rows = run(plant, {"measures": list(measures), **body})
    assert len(rows) == 1
    return rows[0]


HOURS = {"from": "created_at", "to": "closed_at", "unit": "hours"}


def test_count_counts_live_records_and_never_a_deleted_one(plant):
    assert one(plant, {"key": "n", "agg": "count"}) == {"n": 7}


def test_count_with_where_counts_only_matching_rows(plant):
    # majors: r2, r4, r7
    assert one(plant, {"key": "n", "agg": "count", "where": 'level == "major"'}) == {"n": 3}


def test_count_distinct_counts_each_owner_once(plant):
    # owners u1 (r1, r5), u2 (r2), u3 (r3, r4), u4 (r6, r7)
    assert one(plant, {"key": "people", "agg": "count_distinct", "field": "owner_id"}) == {"people": 4}


def test_sum_avg_min_max_of_an_integer_field(plant):
    row = one(plant, {"key": "s", "agg": "sum", "field": "score"}, {"key": "a", "agg": "avg", "field": "score"},
              {"key": "lo", "agg": "min", "field": "score"}, {"key": "hi", "agg": "max", "field": "score"})
    # 10 + 40 + 20 + 80 + 30 + 60 + 90 = 330; 330 / 7
    assert row["s"] == 330 and row["a"] == pytest.approx(330 / 7)
    assert (row["lo"], row["hi"]) == (10, 90)


def test_sum_and_avg_skip_empty_values(plant):
    row = one(plant, {"key": "s", "agg": "sum", "field": "cost"}, {"key": "a", "agg": "avg", "field": "cost"})
    # r5 has no cost: 100 + 300 + 50 + 500 + 20 + 1000 = 1970 over 6 records
    assert row["s"] == pytest.approx(1970.0) and row["a"] == pytest.approx(1970 / 6)


def test_min_and_max_of_a_datetime_field(plant):
    row = one(plant, {"key": "first", "agg": "min", "field": "closed_at"},
              {"key": "last", "agg": "max", "field": "closed_at"})
    # r5 closed 2026-02-11 18:00Z is not the earliest: r1 closed 2026-01-06 02:00Z; r7 closed 04-25 07:00Z
    assert (row["first"], row["last"]) == ("2026-01-06T02:00:00Z", "2026-04-25T07:00:00Z")


def test_rate_is_the_share_of_rows_where_its_condition_holds(plant):
    # closed: r1, r2, r4, r5, r7 → 5 / 7
    assert one(plant, {"key": "r", "agg": "rate", "where": 'state == "closed"'})["r"] == pytest.approx(5 / 7)


def test_rate_of_a_subset_divides_by_that_subset_only(plant):
    # fixed on the spot among general hazards: r1, r5 of r1, r3, r5, r6 → 2 / 4
    row = one(plant, {"key": "r", "agg": "rate", "where": "quick", "of": 'level == "general"'})
    assert row["r"] == pytest.approx(0.5)


def test_scale_turns_a_rate_into_a_percentage(plant):
    row = one(plant, {"key": "pct", "agg": "rate", "where": 'state == "closed"', "scale": 100})
    assert row["pct"] == pytest.approx(500 / 7)


def test_avg_of_a_duration_between_two_fields(plant):
    # closed: 24 + 72 + 48 + 12 + 240 = 396 hours over 5 = 79.2 h = 3.3 days
    row = one(plant, {"key": "h", "agg": "avg", "duration": HOURS},
              {"key": "d", "agg": "avg", "duration": {**HOURS, "unit": "days"}})
    assert row["h"] == pytest.approx(79.2) and row["d"] == pytest.approx(3.3)


def test_duration_to_now_is_the_age_of_open_items(plant):
    # now 2026-04-20 04:00Z; open: r3 (01-20 04:00Z) 90 days, r6 (03-31 18:00Z) 19 days 10 h
    row = one(plant, {"key": "age", "agg": "avg", "where": 'state == "open"',
                      "duration": {"from": "created_at", "to": "now", "unit": "days"}})
    assert row["age"] == pytest.approx((90 + 19 + 10 / 24) / 2)


def test_percentiles_of_a_duration_interpolate_between_ranks(plant):
    # sorted hours 12, 24, 48, 72, 240: median 48; p90 at rank 0.9 × 4 = 3.6 → 72 + 0.6 × (240 − 72)
    row = one(plant, {"key": "p50", "agg": "percentile", "p": 0.5, "duration": HOURS},
              {"key": "p90", "agg": "percentile", "p": 0.9, "duration": HOURS})
    assert row["p50"] == pytest.approx(48.0) and row["p90"] == pytest.approx(172.8)


def test_percentiles_are_computed_per_group(plant):
    rows = run(plant, {"dimensions": [{"field": "area"}],
                       "measures": [{"key": "p50", "agg": "percentile", "p": 0.5, "duration": HOURS},
                                    {"key": "p90", "agg": "percentile", "p": 0.9, "duration": HOURS}]})
    # A: 24, 72 → 48 and 24 + 0.9 × 48; B: 48 alone; C: 12, 240 → 126 and 12 + 0.9 × 228
    assert [(r["area"], pytest.approx(r["p50"]), pytest.approx(r["p90"])) for r in rows] == [
        ("A", 48.0, 67.2), ("B", 48.0, 48.0), ("C", 126.0, 217.2)]


def test_percentile_of_a_group_without_values_is_empty(plant):
    rows = run(plant, {"dimensions": [{"field": "state"}],
                       "measures": [{"key": "p50", "agg": "percentile", "p": 0.5, "duration": HOURS}]})
    assert rows == [{"state": "closed", "p50": pytest.approx(48.0)}, {"state": "open", "p50": None}]


def test_percentile_of_an_integer_field(plant):
    # scores 10 20 30 40 60 80 90: median 40; p25 at rank 1.5 → 20 + 0.5 × 10
    row = one(plant, {"key": "med", "agg": "percentile", "p": 0.5, "field": "score"},
              {"key": "q1", "agg": "percentile", "p": 0.25, "field": "score"})
    assert row == {"med": pytest.approx(40.0), "q1": pytest.approx(25.0)}


def test_compare_with_the_previous_date_bucket(plant):
    rows = run(plant, {"dimensions": [{"field": "created_at", "bucket": "month"}],
                       "measures": [{"key": "n", "agg": "count", "compare": "previous"}]})
    # Jan 3; Feb 2 (Jan 3 → −1/3); Apr 2 (March had none: no previous bucket)
    assert [(r["created_at_month"], r["n"], r["n__previous"]) for r in rows] == [
        ("2026-01", 3, None), ("2026-02", 2, 3), ("2026-04", 2, None)]
    assert rows[1]["n__change"] == pytest.approx(-1 / 3)


def test_compare_with_the_previous_quarter(plant):
    rows = run(plant, {"dimensions": [{"field": "created_at", "bucket": "quarter"}],
                       "measures": [{"key": "n", "agg": "count", "compare": "previous"}]})
    assert [(r["created_at_quarter"], r["n"], r["n__previous"]) for r in rows] == [
        ("2026-Q1", 5, None), ("2026-Q2", 2, 5)]


def test_compare_with_the_period_before_the_range(plant):
    # February (r4, r5) against January (r1, r2, r3)
    row = one(plant, {"key": "n", "agg": "count", "compare": "previous"},
              {"key": "s", "agg": "sum", "field": "score", "compare": "previous"},
              range={"from": "2026-02-01", "to": "2026-02-28"})
    assert (row["n"], row["n__previous"]) == (2, 3) and row["n__change"] == pytest.approx(-1 / 3)
    # scores: Feb 80 + 30 = 110, Jan 10 + 40 + 20 = 70
    assert (row["s"], row["s__previous"]) == (110, 70) and row["s__change"] == pytest.approx(40 / 70)


def test_compare_against_a_relative_range(plant):
    # now is 2026-04-20 (Shanghai): this_month = April (r6, r7), last month March: none
    row = one(plant, {"key": "n", "agg": "count", "compare": "previous"}, range="this_month")
    assert (row["n"], row["n__previous"], row["n__change"]) == (2, 0, None)


def test_the_dashboard_date_filter_replaces_the_dataset_range(plant):
    period = Period(__import__("datetime").date(2026, 1, 1), __import__("datetime").date(2026, 2, 1))
    rows = run(plant, {"measures": [{"key": "n", "agg": "count"}], "range": "this_month"},
               filters=(RowFilter("period", period),))
    assert rows == [{"n": 3}]


def test_a_dataset_is_one_sql_statement(plant):
    statements: list[str] = []
    body = {"source": {"form": "hazard"}, "dimensions": [{"field": "dept", "level": 1},
                                                          {"field": "created_at", "bucket": "month"}],
            "measures": [{"key": "n", "agg": "count", "compare": "previous"},
                         {"key": "p90", "agg": "percentile", "p": 0.9, "duration": HOURS},
                         {"key": "r", "agg": "rate", "where": 'state == "closed"'}]}
    with plant.site.session() as session:
        engine = session.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            run_dataset(session, Dataset.model_validate(body), QueryContext(now=NOW, tz=plant.site.settings.tz))
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "records" in s]
    assert len(selects) == 1 and "GROUP BY" in selects[0]
