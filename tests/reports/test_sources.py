"""Datasets over the other sources — sensor readings, rule firings, the audit log — computed in SQL
like records, with their own permissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.errors import Forbidden
from engine.reports import Dataset, QueryContext, Viewer, run_dataset
from engine.store.access import load_principal
from engine.store.models import RuleFiring, SensorReading
from tests.helpers import grant, make_user
from tests.reports.support import NOW, Plant

READINGS = [("gas.h2s", "G1", 2.0, 1), ("gas.h2s", "G1", 6.0, 2), ("gas.h2s", "G2", 10.0, 3),
            ("gas.h2s", "G2", 4.0, 26), ("pressure", "P1", 1.5, 2)]
FIRINGS = [("cluster", "fired", True), ("cluster", "not_matched", False), ("cluster", "fired", True),
           ("expiry", "deduped", False)]


@pytest.fixture
def sources(plant: Plant) -> Plant:
    with plant.site.session() as session:
        for metric, source, value, day in READINGS:
            at = datetime(2026, 4, day, 1, 0, tzinfo=UTC)
            session.add(SensorReading(metric=metric, source=source, value=value, at=at, received_at=at))
        for i, (rule, outcome, fired) in enumerate(FIRINGS):
            session.add(RuleFiring(rule=rule, ruleset="hazards", version=1, trigger="record.created", subject="hazard",
                                   record_id=i + 1, outcome=outcome, fired=fired,
                                   at=datetime(2026, 4, 10 + i, tzinfo=UTC)))
    return plant


def rows(plant: Plant, body: dict[str, Any], viewer: Viewer | None = None) -> list[list[Any]]:
    with plant.site.session() as session:
        return run_dataset(session, Dataset.model_validate(body),
                           QueryContext(now=NOW, tz=plant.site.settings.tz, viewer=viewer or Viewer())).rows


def test_sensor_readings_aggregate_per_source(sources):
    body = {"source": {"kind": "sensor_readings", "metric": "gas.h2s"}, "dimensions": [{"field": "source"}],
            "measures": [{"key": "avg", "agg": "avg", "field": "value"}, {"key": "max", "agg": "max", "field": "value"},
                         {"key": "n", "agg": "count"}]}
    # G1: 2, 6; G2: 10, 4
    assert rows(sources, body) == [["G1", 4.0, 6.0, 2], ["G2", 7.0, 10.0, 2]]


def test_sensor_readings_by_day_with_a_filter(sources):
    body = {"source": {"kind": "sensor_readings"}, "filter": "value > 3",
            "dimensions": [{"field": "at", "bucket": "week"}], "measures": [{"key": "n", "agg": "count"}]}
    # over 3: 6 (04-02), 10 (04-03) in the week of 03-30; 4 (04-26, a Sunday) in the week of 04-20
    assert rows(sources, body) == [["2026-03-30", 2], ["2026-04-20", 1]]


def test_rule_firings_count_by_outcome_and_rate(sources):
    body = {"source": {"kind": "rule_firings", "rule": "cluster"}, "dimensions": [{"field": "outcome"}],
            "measures": [{"key": "n", "agg": "count"}]}
    assert rows(sources, body) == [["fired", 2], ["not_matched", 1]]
    rate = {"source": {"kind": "rule_firings"}, "measures": [{"key": "r", "agg": "rate", "where": "fired"}]}
    assert rows(sources, rate) == [[0.5]]


def test_the_audit_log_counts_actions(sources):
    body = {"source": {"kind": "audit_log"}, "filter": 'object_type == "record"',
            "dimensions": [{"field": "action"}], "measures": [{"key": "n", "agg": "count"}]}
    # the plant: 8 records created (one later deleted), r1 … r7 kept
    assert rows(sources, body) == [["record.create", 8], ["record.delete", 1]]


def test_sources_without_owners_are_for_viewers_who_see_everything(sources):
    grant(sources.site, "sensor_reader", "system", "sensors", "read", scope="department")
    grant(sources.site, "sensor_admin", "system", "sensors", "read", scope="all")
    scoped = make_user(sources.site, "scoped", roles=("sensor_reader",), department=sources.departments["D1"])
    full = make_user(sources.site, "full", roles=("sensor_admin",))
    nobody = make_user(sources.site, "nobody")
    body = {"source": {"kind": "sensor_readings"}, "measures": [{"key": "n", "agg": "count"}]}
    with sources.site.session() as session:
        viewers = {name: Viewer(load_principal(session, uid)) for name, uid in
                   (("scoped", scoped), ("full", full), ("nobody", nobody))}
    assert rows(sources, body, viewers["full"]) == [[5]]
    assert rows(sources, body, viewers["scoped"]) == [[0]]
    with pytest.raises(Forbidden):
        rows(sources, body, viewers["nobody"])
