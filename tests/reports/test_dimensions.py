"""Every date bucket, department levels, option labels and the row conditions of a dataset,
against the plant of tests/reports/support.py (site time zone Asia/Shanghai)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.reports import Dataset, QueryContext, RowFilter, run_dataset
from engine.reports.periods import Period
from tests.reports.support import NOW, Plant

COUNT = [{"key": "n", "agg": "count"}]


def result(plant: Plant, body: dict[str, Any], filters: tuple[RowFilter, ...] = ()):
    body = {"source": {"form": "hazard"}, "measures": COUNT, **body}
    with plant.site.session() as session:
        return run_dataset(session, Dataset.model_validate(body),
                           QueryContext(now=NOW, tz=plant.site.settings.tz, filters=filters))


def counts(plant: Plant, body: dict[str, Any], filters: tuple[RowFilter, ...] = ()) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in result(plant, body, filters).rows]


def by_bucket(plant: Plant, bucket: str) -> list[tuple[Any, ...]]:
    return counts(plant, {"dimensions": [{"field": "created_at", "bucket": bucket}]})


def test_day_buckets_are_local_dates(plant):
    # r6 was created 2026-03-31 18:00Z, which is 04-01 02:00 in Shanghai
    assert by_bucket(plant, "day") == [("2026-01-05", 1), ("2026-01-06", 1), ("2026-01-20", 1), ("2026-02-10", 1),
                                       ("2026-02-11", 1), ("2026-04-01", 1), ("2026-04-15", 1)]


def test_week_buckets_are_named_by_their_monday(plant):
    # 01-05 Mon, 01-06 Tue → 01-05; 01-20 Tue → 01-19; 02-10 Tue, 02-11 Wed → 02-09; 04-01 Wed → 03-30
    assert by_bucket(plant, "week") == [("2026-01-05", 2), ("2026-01-19", 1), ("2026-02-09", 2), ("2026-03-30", 1),
                                        ("2026-04-13", 1)]


def test_month_buckets(plant):
    assert by_bucket(plant, "month") == [("2026-01", 3), ("2026-02", 2), ("2026-04", 2)]


def test_quarter_buckets(plant):
    assert by_bucket(plant, "quarter") == [("2026-Q1", 5), ("2026-Q2", 2)]


def test_year_buckets(plant):
    assert by_bucket(plant, "year") == [("2026", 7)]


def test_buckets_of_a_datetime_field_in_the_record(plant):
    # closed: r1 01-06 10:00, r2 01-09 11:00, r4 02-12 13:00, r5 02-12 02:00 (local), r7 04-25 15:00
    assert counts(plant, {"dimensions": [{"field": "closed_at", "bucket": "month"}],
                          "filter": "not isblank(closed_at)"}) == [("2026-01", 2), ("2026-02", 2), ("2026-04", 1)]
    assert counts(plant, {"dimensions": [{"field": "closed_at", "bucket": "day"}], "filter": 'area == "C"'}) == [
        ("2026-02-12", 1), ("2026-04-25", 1)]


def test_a_department_rolls_up_to_its_ancestor_at_a_level(plant):
    res = result(plant, {"dimensions": [{"field": "dept", "level": 1}]})
    d = plant.departments
    assert [tuple(r) for r in res.rows] == [(d["P1"], 5), (d["P2"], 2)]
    assert res.labels("dept", "zh-CN") == ["一厂", "二厂"]


def test_a_level_below_a_department_keeps_the_department_itself(plant):
    res = result(plant, {"dimensions": [{"field": "department_id", "level": 3}]})
    d = plant.departments
    assert [tuple(r) for r in res.rows] == [(d["D1"], 3), (d["D2"], 2), (d["D3"], 2)]
    assert res.labels("department_id", "en") == ["一车间", "二车间", "三车间"]


def test_option_values_carry_their_labels(plant):
    res = result(plant, {"dimensions": [{"field": "level"}]})
    assert [tuple(r) for r in res.rows] == [("general", 4), ("major", 3)]
    assert res.labels("level", "zh-CN") == ["一般", "重大"] and res.labels("level", "en") == ["General", "Major"]


def test_people_are_named(plant):
    res = result(plant, {"dimensions": [{"field": "owner_id"}]})
    assert res.labels("owner_id", "en") == ["User 1", "User 2", "User 3", "User 4"]
    assert [r[1] for r in res.rows] == [2, 1, 2, 2]


def test_yes_no_fields_group_as_booleans(plant):
    res = result(plant, {"dimensions": [{"field": "quick"}]})
    assert [tuple(r) for r in res.rows] == [(False, 5), (True, 2)]
    assert res.labels("quick", "zh-CN") == ["否", "是"]


def test_two_dimensions_group_by_both(plant):
    assert counts(plant, {"dimensions": [{"field": "area"}, {"field": "level"}]}) == [
        ("A", "general", 2), ("A", "major", 1), ("B", "general", 1), ("B", "major", 1), ("C", "general", 1),
        ("C", "major", 1)]


def test_sort_by_a_measure_and_limit(plant):
    assert counts(plant, {"dimensions": [{"field": "area"}], "sort": [{"by": "n", "desc": True}], "limit": 1}) == [
        ("A", 3)]


def test_a_filter_expression_narrows_the_rows(plant):
    assert counts(plant, {"filter": "score >= 40 and level == \"major\""}) == [(3,)]
    assert counts(plant, {"filter": 'area in ["A", "B"] and not quick'}) == [(4,)]


def test_a_filter_can_compare_the_creation_time(plant):
    # created from 2026-02-10 13:00 Shanghai on: r4 … r7
    assert counts(plant, {"filter": "created_at >= datetime(2026, 2, 10, 13, 0)"}) == [(4,)]
    assert counts(plant, {"filter": "created_at > datetime(2026, 2, 10, 13, 0)"}) == [(3,)]


def test_a_range_keeps_local_dates(plant):
    # April in Shanghai includes r6 (03-31 18:00Z)
    assert counts(plant, {"range": {"from": "2026-04-01", "to": "2026-04-30"}}) == [(2,)]
    assert counts(plant, {"range": "last_month"}) == [(0,)]
    assert counts(plant, {"range": "this_year"}) == [(7,)]


def test_the_range_can_apply_to_another_date(plant):
    # closed in January: r1 and r2
    body = {"date_field": "closed_at", "range": {"from": "2026-01-01", "to": "2026-01-31"}}
    assert counts(plant, body) == [(2,)]


def test_dashboard_filters_narrow_by_department_subtree_and_field_values(plant):
    d = plant.departments
    assert counts(plant, {}, (RowFilter("department", d["P1"]),)) == [(5,)]
    assert counts(plant, {}, (RowFilter("department", d["D3"], field="dept"),)) == [(2,)]
    assert counts(plant, {}, (RowFilter("in", ["A", "C"], field="area"),)) == [(5,)]
    assert counts(plant, {}, (RowFilter("eq", "major", field="level"),
                              RowFilter("period", Period(date(2026, 2, 1), date(2026, 3, 1))))) == [(1,)]


def test_a_drilled_bucket_narrows_to_that_bucket(plant):
    assert counts(plant, {}, (RowFilter("bucket", "2026-04", field="created_at", bucket="month"),)) == [(2,)]


def test_a_filter_can_read_who_is_looking(plant):
    from engine.reports import Viewer
    from engine.store.access import Principal

    me = Principal(user_id=plant.users["u3"], username="u3", name="u3", is_admin=True)
    body = {"source": {"form": "hazard"}, "measures": COUNT, "filter": "owner_id == viewer.id"}
    with plant.site.session() as session:
        res = run_dataset(session, Dataset.model_validate(body),
                          QueryContext(now=NOW, tz=plant.site.settings.tz, viewer=Viewer(me)))
    assert res.rows == [[2]]


@pytest.mark.parametrize(("body", "path", "code"), [
    ({"dimensions": [{"field": "areaa"}]}, "dataset.dimensions[0].field", "reports.unknown_field"),
    ({"measures": [{"key": "s", "agg": "sum", "field": "area"}]}, "dataset.measures[0].field",
     "reports.measure_kind"),
    ({"dimensions": [{"field": "area", "bucket": "month"}]}, "dataset.dimensions[0].bucket",
     "reports.bucket_not_date"),
    ({"dimensions": [{"field": "area", "level": 2}]}, "dataset.dimensions[0].level", "reports.level_not_department"),
    ({"measures": [{"key": "n", "agg": "count", "compare": "previous"}]}, "dataset.measures",
     "reports.compare_needs_range"),
    ({"measures": [{"key": "d", "agg": "avg", "duration": {"from": "area", "to": "now"}}]},
     "dataset.measures[0].duration.from", "reports.not_a_date"),
])
def test_a_dataset_that_does_not_fit_its_source_is_refused_with_the_place(plant, body, path, code):
    with pytest.raises(InvalidInput) as caught:
        result(plant, body)
    assert [(p.code, p.path) for p in caught.value.problems] == [(code, path)]


def test_a_bad_filter_is_located_in_the_filter_text(plant):
    with pytest.raises(InvalidInput) as caught:
        result(plant, {"filter": 'score > "high"'})
    problem = caught.value.problems[0]
    assert problem.path == "dataset.filter" and problem.column == 1
