"""Rollups answer exactly what the records answer, follow every record change through the
record events, heal at the nightly rebuild, and are used only where they can be exact."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, text, update

from engine.forms.records import RecordService
from engine.reports import Dataset, QueryContext, RowFilter, Viewer, run_dataset
from engine.reports.periods import Period
from engine.reports.rollups import accelerate
from engine.store.access import load_principal
from engine.store.models import RollupRow
from tests.reports.support import NOW, Plant, reader

# Covers everything since long before the plant opened, but is not whole months: read records.
EVERYTHING = RowFilter("period", Period(date(2000, 1, 2), date(2100, 1, 1)))

SERVED = [
    {"dimensions": [{"field": "created_at", "bucket": "month"}],
     "measures": [{"key": "n", "agg": "count", "compare": "previous"}, {"key": "s", "agg": "sum", "field": "score"},
                  {"key": "a", "agg": "avg", "field": "cost"},
                  {"key": "r", "agg": "rate", "where": 'state == "closed"'}]},
    {"dimensions": [{"field": "area"}, {"field": "level"}], "measures": [{"key": "n", "agg": "count"}],
     "filter": 'state == "open" or level == "major"'},
    {"dimensions": [{"field": "department_id", "level": 1}, {"field": "created_at", "bucket": "quarter"}],
     "measures": [{"key": "n", "agg": "count"}, {"key": "major", "agg": "count", "where": 'level == "major"'}]},
    {"dimensions": [{"field": "created_at", "bucket": "year"}],
     "measures": [{"key": "s", "agg": "sum", "field": "score"}]},
    {"measures": [{"key": "n", "agg": "count", "compare": "previous"},
                  {"key": "r", "agg": "rate", "where": 'state == "closed"', "of": 'level == "major"'}],
     "range": {"from": "2026-02-01", "to": "2026-02-28"}},
]
NOT_SERVED = [
    {"measures": [{"key": "p", "agg": "percentile", "p": 0.5, "field": "score"}]},
    {"dimensions": [{"field": "created_at", "bucket": "day"}], "measures": [{"key": "n", "agg": "count"}]},
    {"measures": [{"key": "n", "agg": "count"}], "range": "last_30d"},
    {"measures": [{"key": "n", "agg": "count"}], "filter": "created_at > datetime(2026, 2, 1, 0, 0)"},
    {"measures": [{"key": "n", "agg": "count"}], "filter": "cost > 30"},
    {"dimensions": [{"field": "quick"}], "measures": [{"key": "n", "agg": "count"}]},
    {"measures": [{"key": "d", "agg": "count_distinct", "field": "owner_id"}]},
]


def dataset(body: dict[str, Any]) -> Dataset:
    return Dataset.model_validate({"source": {"form": "hazard"}, **body})


def run(plant: Plant, body: dict[str, Any], *filters: RowFilter, viewer: Viewer | None = None):
    with plant.site.session() as session:
        return run_dataset(session, dataset(body), QueryContext(now=NOW, tz=plant.site.settings.tz,
                                                                viewer=viewer or Viewer(), filters=list(filters)))


def rows(result: Any) -> list[list[Any]]:
    return [[pytest.approx(v) if isinstance(v, float) else v for v in row] for row in result.rows]


def prepare(plant: Plant, bodies: list[dict[str, Any]]) -> dict[str, list[str]]:
    with plant.site.session() as session:
        return accelerate(session, [dataset(b) for b in bodies], plant.site.settings.timezone, NOW)


@pytest.mark.parametrize("body", SERVED)
def test_a_rollup_answers_exactly_what_the_records_answer(plant, body):
    before = run(plant, body)
    assert before.served_by == "records"
    prepare(plant, [body])
    after = run(plant, body)
    assert after.served_by == "rollup" and after.rows == rows(before)
    assert [c.key for c in after.columns] == [c.key for c in before.columns]


@pytest.mark.parametrize("body", NOT_SERVED)
def test_what_a_rollup_cannot_answer_exactly_reads_the_records(plant, body):
    prepare(plant, [body])
    assert run(plant, body).served_by == "records"


def test_scoped_viewers_and_filters_outside_the_rollup_read_the_records(plant):
    body = SERVED[1]
    prepare(plant, [body])
    viewer = reader(plant.site, "d2_lead", plant.departments["D2"], "department")
    with plant.site.session() as session:
        principal = load_principal(session, viewer)
    assert run(plant, body, viewer=Viewer(principal)).served_by == "records"
    assert run(plant, body, RowFilter("in", ["A"], field="area")).served_by == "rollup"
    assert run(plant, body, RowFilter("in", [True], field="quick")).served_by == "records"
    assert run(plant, body, RowFilter("department", plant.departments["P1"])).served_by == "rollup"


def test_record_changes_reach_the_rollup_through_their_events(plant):
    body = SERVED[0]
    prepare(plant, [body])
    site = plant.site
    site.clock.set(datetime(2026, 4, 20, 5, 0, tzinfo=UTC))
    with site.session() as session:
        service = RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)
        new = service.create("hazard", {"title": "new", "area": "B", "level": "major", "score": 70, "cost": 5.0,
                                        "state": "closed"}, owner_id=plant.users["u1"],
                             department_id=plant.departments["D1"])
        r4 = service.get("hazard", plant.records["r4"])
        service.update("hazard", r4.id, {"score": 10, "state": "open"}, row_version=r4.row_version)
        service.delete("hazard", plant.records["r7"])
    site.drain()
    served = run(plant, body)
    assert served.served_by == "rollup" and served.rows == rows(run(plant, body, EVERYTHING))
    # April: r6 and the new one (r7 deleted); February: r4 now open and scored 10
    april = next(r for r in served.records() if r["created_at_month"] == "2026-04")
    assert (april["n"], april["s"]) == (2, 130)
    with site.session() as session:
        RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock).restore(
            "hazard", plant.records["r7"])
        del new
    site.drain()
    assert run(plant, body).rows == rows(run(plant, body, EVERYTHING))


def _create(plant, title: str) -> None:
    site = plant.site
    with site.session() as session:
        RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock).create(
            "hazard", {"title": title, "area": "B", "level": "major", "score": 40, "cost": 2.0, "state": "open"},
            owner_id=plant.users["u1"], department_id=plant.departments["D1"])


def test_a_write_is_counted_once_whatever_the_clocks_of_the_writer_and_the_build_say(plant):
    """Whether a record event is already in a rollup is told by the write's audit number against
    the audit head the build read (commit order), not by clocks: a writer whose clock runs behind
    the build's is still counted, one whose clock runs ahead of a later build is not counted twice."""
    from engine.runtime.reports import rebuild_rollups_now

    body = SERVED[0]
    prepare(plant, [body])  # built at NOW
    site = plant.site
    site.clock.set(datetime(2026, 4, 20, 3, 0, tzinfo=UTC))  # a writer an hour behind the build
    _create(plant, "behind")
    site.drain()
    assert run(plant, body).rows == rows(run(plant, body, EVERYTHING))
    site.clock.set(datetime(2026, 4, 20, 5, 0, tzinfo=UTC))  # a writer an hour ahead ...
    _create(plant, "ahead")
    with site.session() as session:  # ... whose write a rebuild at NOW takes in before its event runs
        rebuild_rollups_now(session, NOW)
    site.drain()
    served = run(plant, body)
    assert served.served_by == "rollup" and served.rows == rows(run(plant, body, EVERYTHING))


def test_the_nightly_rebuild_heals_a_rollup_that_drifted(plant):
    body = SERVED[0]
    prepare(plant, [body])
    site = plant.site
    with site.session() as session:
        session.execute(update(RollupRow).values(n=RollupRow.n + 100))
        from engine.runtime.reports import arm_rebuild

        arm_rebuild(session, site)
    assert run(plant, body).rows != rows(run(plant, body, EVERYTHING))
    site.clock.set(datetime(2026, 4, 20, 19, 0, 1, tzinfo=UTC))  # 03:00:01 in Shanghai, the next day
    site.drain()
    assert run(plant, body).rows == rows(run(plant, body, EVERYTHING))


def test_publishing_a_dashboard_indexes_the_fields_it_groups_and_filters_by(plant):
    result = prepare(plant, [SERVED[1], {"dimensions": [{"field": "dept"}], "measures": [{"key": "n", "agg": "count"}],
                                         "filter": "score > 10"}])
    assert set(result["indexes"]) == {"ixf_area_text", "ixf_level_text", "ixf_state_text", "ixf_dept_integer",
                                      "ixf_score_integer"}
    with plant.site.session() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        query = ("SELECT indexname FROM pg_indexes WHERE tablename = 'records'" if postgres
                 else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'")
        names = set(session.execute(text(query)).scalars())
        assert set(result["indexes"]) <= names
        assert session.execute(select(RollupRow.id)).first() is not None


def test_an_emptied_group_and_a_rate_with_no_rows_match_the_records(plant):
    """A group whose last record moved away has no row, and a share of nothing is 0, not
    unknown — as when counting the records."""
    body = {"dimensions": [{"field": "area"}, {"field": "level"}],
            "measures": [{"key": "n", "agg": "count"}, {"key": "r", "agg": "rate", "where": 'state == "open"'}]}
    prepare(plant, [body])
    site = plant.site
    site.clock.set(datetime(2026, 4, 20, 5, 0, tzinfo=UTC))
    with site.session() as session:
        service = RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)
        r5 = service.get("hazard", plant.records["r5"])
        service.update("hazard", r5.id, {"area": "B"}, row_version=r5.row_version)
    site.drain()
    served, counted = run(plant, body), run(plant, body, EVERYTHING)
    assert served.served_by == "rollup" and counted.served_by == "records"
    assert served.rows == rows(counted)
    assert ["C", "general"] not in [row[:2] for row in served.rows]
    assert 0 in [row[3] for row in served.rows]


def test_two_workers_adding_to_a_new_group_at_once_both_count(plant):
    """On PostgreSQL two workers apply events of a group no row holds yet: the second's insert
    waits on the first's, then adds to its row (an upsert), instead of failing on the group's
    unique key."""
    import threading

    from engine.events import RECORD_CREATED, Event
    from engine.reports.rollups import apply_event

    site = plant.site
    if site.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL's concurrent writers")
    body = {"dimensions": [{"field": "area"}], "measures": [{"key": "n", "agg": "count"}]}
    prepare(plant, [body])
    site.clock.set(datetime(2026, 4, 20, 5, 0, tzinfo=UTC))
    events = []
    with site.session() as session:
        service = RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)
        for title in ("z1", "z2"):
            view = service.create("hazard", {"title": title, "area": "B", "level": "major", "score": 1, "cost": 2.0,
                                             "state": "open"}, owner_id=plant.users["u1"],
                                  department_id=plant.departments["D1"], emit=False)
            events.append(Event(RECORD_CREATED, subject="hazard", record_id=view.id, data=view.data,
                                at=datetime(2026, 4, 20, 5, 0, tzinfo=UTC)))
    first_applied, errors = threading.Event(), []

    def first() -> None:
        with site.session() as session:
            apply_event(session, events[0])
            first_applied.set()
            threading.Event().wait(0.5)  # the second worker is now waiting on this row

    def second() -> None:
        first_applied.wait(10)
        try:
            with site.session() as session:
                apply_event(session, events[1])
        except Exception as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert errors == []
    served = run(plant, body)
    assert served.served_by == "rollup" and served.rows == rows(run(plant, body, EVERYTHING))
    assert ["B", 4] in served.rows  # r3, r4 and the two new ones (a group of April: no row before)
