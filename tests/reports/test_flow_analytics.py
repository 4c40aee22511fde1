"""Built-in flow analytics against a hand computation on three instances of a permit flow:
time per node (p50/p90), the bottleneck, rework, overdue rate, and waiting work by person and
department — on SQLite and PostgreSQL, for any flow, with no setup.

Now is 2026-04-20 04:00Z. Tasks (hours from creation to completion):

  I1 completed 04-01 00:00 → 04-03 00:00 (48 h)
     apply  u1 2 h   · review u2 24 h, due 04-01 10:00 (late) · sign u3 22 h, due 04-03 02:00 (on time)
  I2 running since 04-05 00:00
     apply u1 4 h · review u2 24 h REJECT, due 04-05 12:00 (late) · apply u1 2 h
     · review u2 open since 04-06 06:00, due 04-07 06:00 (overdue) · a cc to u4
  I3 running since 04-10 00:00
     apply u4 1 h · review u3 open since 04-10 01:00, due 04-25 (not yet due)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository
from engine.store.models import StoredInstance, StoredTask
from tests.helpers import auth, grant, make_user
from tests.reports.support import Plant


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 4, day, hour, tzinfo=UTC)


FLOW = {"key": "permit", "form": "hazard", "nodes": [
    {"id": "start", "type": "start"},
    {"id": "apply", "type": "fill", "assignee": "initiator", "name": {"zh": "申请", "en": "Apply"}},
    {"id": "review", "type": "approve", "assignee": {"user": "u2"}, "name": {"zh": "审批", "en": "Review"}},
    {"id": "sign", "type": "approve", "assignee": {"user": "u3"}, "name": {"zh": "签发", "en": "Sign"}},
    {"id": "end", "type": "end"}],
    "edges": [{"from": "start", "to": "apply"}, {"from": "apply", "to": "review"}, {"from": "review", "to": "sign"},
              {"from": "sign", "to": "end"}]}

# (instance, node, kind, status, user, decision, created, hours to completion or None, due)
TASKS = [
    (1, "apply", "fill", "done", "u1", "submit", at(1), 2, None),
    (1, "review", "approve", "done", "u2", "approve", at(1, 2), 24, at(1, 10)),
    (1, "sign", "approve", "done", "u3", "approve", at(2, 2), 22, at(3, 2)),
    (2, "apply", "fill", "done", "u1", "submit", at(5), 4, None),
    (2, "review", "approve", "done", "u2", "reject", at(5, 4), 24, at(5, 12)),
    (2, "apply", "fill", "done", "u1", "submit", at(6, 4), 2, None),
    (2, "review", "approve", "open", "u2", None, at(6, 6), None, at(7, 6)),
    (2, "review", "cc", "cc", "u4", None, at(6, 6), None, None),
    (3, "apply", "fill", "done", "u4", "submit", at(10), 1, None),
    (3, "review", "approve", "open", "u3", None, at(10, 1), None, at(25)),
]
INSTANCES = [(1, "u1", at(1), at(3), "completed"), (2, "u1", at(5), None, "running"),
             (3, "u4", at(10), None, "running")]


@pytest.fixture
def flows(plant: Plant) -> Plant:
    with plant.site.session() as session:
        DefinitionRepository(session).publish(Actor.system(), "flow", "permit", FLOW)
        ids = {}
        for n, initiator, started, ended, status in INSTANCES:
            row = StoredInstance(flow_key="permit", flow_version=1, status=status, form="hazard",
                                 initiator_id=plant.users[initiator], state={}, row_version=1, started_at=started,
                                 ended_at=ended, updated_at=ended or started)
            session.add(row)
            session.flush()
            ids[n] = row.id
        for i, (n, node, kind, status, user, decision, created, hours, due) in enumerate(TASKS, start=1):
            done = created + timedelta(hours=hours) if hours is not None else None
            session.add(StoredTask(id=f"{ids[n]}.{i}", instance_id=ids[n], flow_key="permit", node=node, kind=kind,
                                   status=status, assignee_id=plant.users[user],
                                   actor_id=plant.users[user] if done else None, decision=decision,
                                   created_at=created, completed_at=done, due_at=due))
    return plant


@pytest.fixture
def api(flows: Plant) -> Iterator[TestClient]:
    with TestClient(create_app(site=flows.site, run_worker=False), raise_server_exceptions=False) as client:
        make_user(flows.site, "boss", admin=True)
        yield client


def analytics(api: TestClient, user: str = "boss", **params: Any) -> dict[str, Any]:
    response = api.get("/api/v1/flow-analytics/permit", headers=auth(api, user), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def rows(body: dict[str, Any], widget: str) -> list[list[Any]]:
    found = next(w for w in body["widgets"] if w["id"] == widget)
    assert found.get("error") is None, found
    return found["data"]["rows"]


def test_time_per_node_has_p50_p90_total_and_count(api):
    body = analytics(api)
    # apply 1, 2, 2, 4 h: p50 2, p90 2 + 0.7 × 2; review 24, 24; sign 22
    assert [[r[0], pytest.approx(r[1]), pytest.approx(r[2]), pytest.approx(r[3]), r[4]]
            for r in rows(body, "node_time")] == [["apply", 2.0, 3.4, 9.0, 4], ["review", 24.0, 24.0, 48.0, 2],
                                                  ["sign", 22.0, 22.0, 22.0, 1]]
    labels = next(w for w in body["widgets"] if w["id"] == "node_time")["data"]["columns"][0]["labels"]
    assert {k: labels[k] for k in ("apply", "review", "sign")} == {"apply": "Apply", "review": "Review",
                                                                   "sign": "Sign"}


def test_the_bottleneck_is_the_node_with_the_largest_share_of_task_time(api):
    # review 48 of 79 task hours
    bottleneck = analytics(api)["bottleneck"]
    assert bottleneck["node"] == "review" and bottleneck["share"] == pytest.approx(48 / 79)


def test_rework_counts_rejections_per_node_and_instances_rejected_at_least_once(api):
    body = analytics(api)
    assert rows(body, "rework") == [["review", 1, 1]]
    # one of three instances went back
    assert next(w for w in body["widgets"] if w["id"] == "rework_rate")["summary"]["value"] == pytest.approx(1 / 3)


def test_the_overdue_rate_counts_late_and_still_open_past_due(api):
    body = analytics(api)
    # tasks with a deadline: review (late), sign (on time), review (late), review (open, past due), review (not due)
    assert next(w for w in body["widgets"] if w["id"] == "overdue_rate")["summary"]["value"] == pytest.approx(3 / 5)
    # per node: apply has no deadlines; review 3 of 4 (I3's is not yet due); sign 0 of 1
    assert [[r[0], r[1] if r[1] is None else pytest.approx(r[1])] for r in rows(body, "node_overdue")] == [
        ["apply", None], ["review", 0.75], ["sign", 0.0]]


def test_waiting_work_by_assignee_and_department(api, flows):
    body = analytics(api)
    u, d = flows.users, flows.departments
    # u2 waits since 04-06 06:00 (13 d 22 h = 334 h), u3 since 04-10 01:00 (243 h)
    assert [[r[0], r[1], pytest.approx(r[2])] for r in rows(body, "by_approver")] == [
        [u["u2"], 1, 334.0], [u["u3"], 1, 243.0]]
    assert [r[:2] for r in rows(body, "by_department")] == [[d["D1"], 1], [d["D2"], 1]]
    assert rows(body, "waiting") == [[2]]


def test_cycle_time_and_the_weekly_trend_come_from_instances(api):
    body = analytics(api)
    assert rows(body, "cycle") == [[48.0]]
    # Shanghai weeks: 04-01 (Wed) and 04-05 (Sun) fall in the week of 03-30; 04-10 in the week of 04-06
    assert rows(body, "started") == [["2026-03-30", 2, 1], ["2026-04-06", 1, 0]]


def test_a_department_head_sees_the_flow_through_their_department(api, flows):
    grant(flows.site, "d2_head", "flow", "permit", "read", scope="department")
    make_user(flows.site, "d2", roles=("d2_head",), department=flows.departments["D2"])
    body = analytics(api, "d2")
    # tasks of D2's people (u3): sign 22 h done, review waiting
    assert [r[0] for r in rows(body, "node_time")] == ["sign"]
    assert [r[0] for r in rows(body, "by_approver")] == [flows.users["u3"]]


def test_without_read_on_the_flow_there_are_no_analytics(api, flows):
    make_user(flows.site, "outsider")
    assert api.get("/api/v1/flow-analytics/permit", headers=auth(api, "outsider")).status_code == 403
    assert api.get("/api/v1/flow-analytics/nope", headers=auth(api, "boss")).status_code == 404
