"""The engine on SQL (SQLite always, PostgreSQL when configured): pinned versions, optimistic
locking under concurrent approvals, durable deadline timers that survive a restart, the inbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from engine.errors import Conflict
from engine.flows import Action
from engine.runtime.bootstrap import wire
from engine.runtime.flows import flow_engine
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository
from engine.store.flows import FlowInstanceRepository, inbox, inbox_counts
from engine.store.models import StoredInstance, StoredTask
from tests.flows.helpers import apply_node, linear
from tests.helpers import make_user

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def publish(site: Site, flow: dict) -> int:
    with site.session() as session:
        return DefinitionRepository(session).publish(Actor.system(), "flow", flow["key"], flow).version


def people(site: Site, *names: str) -> dict[str, int]:
    return {name: make_user(site, name) for name in names}


def start(site: Site, key: str, initiator: int, data: dict | None = None) -> int:
    with site.session() as session:
        return flow_engine(session, site).start(key, data or {}, initiator).id


def act(site: Site, instance_id: int, node: str, user: int, kind: str = "approve", **kw) -> None:
    with site.session() as session:
        engine = flow_engine(session, site)
        inst = engine.instance(instance_id)
        task = next(t for t in inst.tasks.values() if t.node == node and t.assignee == user and t.live)
        engine.act(task.id, Action(kind, user, **kw))


def load(site: Site, instance_id: int):
    with site.session() as session:
        return flow_engine(session, site).instance(instance_id)


COUNTERSIGN = ["u1", "u2", "u3", "u4", "u5", "u6"]


def countersign_flow() -> dict:
    return linear(apply_node(), {"id": "l1", "type": "approve", "mode": "countersign",
                                 "assignees": [{"user": u} for u in COUNTERSIGN]},
                  {"id": "l2", "type": "approve", "assignee": {"user": "boss"}}, key="permit")


def test_an_instance_is_persisted_with_its_tasks_and_pinned_version(site):
    ids = people(site, "alice", "u1", "u2", "u3", "u4", "u5", "u6", "boss")
    publish(site, countersign_flow())
    instance_id = start(site, "permit", ids["alice"], {"title": "weld"})
    act(site, instance_id, "apply", ids["alice"], "submit")
    inst = load(site, instance_id)
    assert inst.flow_version == 1 and inst.open_nodes() == ["l1"]
    with site.session() as session:
        rows = session.execute(select(StoredTask).where(StoredTask.instance_id == instance_id)).scalars().all()
        assert sorted(r.status for r in rows) == ["done"] + ["open"] * 6
        assert session.get(StoredInstance, instance_id).row_version == inst.row_version


def test_two_concurrent_approvals_on_one_countersign_are_both_counted_once(site):
    ids = people(site, "alice", *COUNTERSIGN, "boss")
    publish(site, countersign_flow())
    instance_id = start(site, "permit", ids["alice"])
    act(site, instance_id, "apply", ids["alice"], "submit")
    barrier = threading.Barrier(len(COUNTERSIGN))
    errors: list[BaseException] = []

    def approve(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            act(site, instance_id, "l1", ids[name])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(name,)) for name in COUNTERSIGN]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    inst = load(site, instance_id)
    l1 = [t for t in inst.tasks.values() if t.node == "l1"]
    assert sorted(t.decision for t in l1) == ["approve"] * len(COUNTERSIGN)
    assert inst.completed.count("l1") == 1
    assert inst.open_nodes() == ["l2"] and len(inst.open_tasks("l2")) == 1
    assert sum(1 for e in inst.history if e["action"] == "approve") == len(COUNTERSIGN)


def test_a_save_over_a_newer_version_is_refused(site):
    ids = people(site, "alice", "u1", "u2", "u3", "u4", "u5", "u6", "boss")
    publish(site, countersign_flow())
    instance_id = start(site, "permit", ids["alice"])
    with site.session() as session:
        repo = FlowInstanceRepository(session)
        state = repo.load(instance_id)
        session.execute(update(StoredInstance).where(StoredInstance.id == instance_id)
                        .values(row_version=StoredInstance.row_version + 1))
        state["row_version"] += 1
        with pytest.raises(Conflict):
            repo.save(state)


def test_an_instance_stays_on_v1_after_v2_is_published(site):
    ids = people(site, "alice", "u1", "u2", "u3", "u4", "u5", "u6", "boss")
    v1 = countersign_flow()
    publish(site, v1)
    old = start(site, "permit", ids["alice"])
    v2 = linear(apply_node(), {"id": "quick", "type": "approve", "assignee": {"user": "boss"}}, key="permit")
    assert publish(site, v2) == 2
    new = start(site, "permit", ids["alice"])
    act(site, old, "apply", ids["alice"], "submit")
    act(site, new, "apply", ids["alice"], "submit")
    assert load(site, old).flow_version == 1 and load(site, old).open_nodes() == ["l1"]
    assert load(site, new).flow_version == 2 and load(site, new).open_nodes() == ["quick"]


def test_a_deadline_timer_fires_after_a_restart(settings):
    clock = ManualClock(START)
    first = wire(Site(settings, clock=clock))
    first.migrate()
    ids = people(first, "alice", "dave", "boss")
    flow = linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "dave"},
                                 "deadline": {"after": "4h", "on_timeout": "auto_approve"}},
                  {"id": "l2", "type": "approve", "assignee": {"user": "boss"}}, key="timed")
    publish(first, flow)
    instance_id = start(first, "timed", ids["alice"])
    act(first, instance_id, "apply", ids["alice"], "submit")
    first.db.dispose()  # the server stops; nothing but the database survives

    later = ManualClock(START + timedelta(hours=5))
    second = wire(Site(settings, clock=later))
    report = second.tick()
    assert report.ran == 1 and report.failed == 0
    inst = load(second, instance_id)
    assert inst.open_nodes() == ["l2"]
    assert any(e.get("reason") == "timeout" for e in inst.history)
    assert second.tick().ran == 0  # done, not run again
    second.db.dispose()


def test_the_inbox_lists_todo_done_cc_and_started_with_counts(site):
    ids = people(site, "alice", "bob", "erin")
    flow = linear(apply_node(), {"id": "tell", "type": "cc", "to": [{"user": "erin"}]},
                  {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}, key="inboxed")
    publish(site, flow)
    first = start(site, "inboxed", ids["alice"])
    start(site, "inboxed", ids["alice"])
    act(site, first, "apply", ids["alice"], "submit")
    with site.session() as session:
        assert inbox_counts(session, ids["bob"]) == {"todo": 1, "done": 0, "cc": 0, "started": 0}
        assert inbox_counts(session, ids["alice"]) == {"todo": 1, "done": 1, "cc": 0, "started": 2}
        assert inbox_counts(session, ids["erin"])["cc"] == 1
        entries, total = inbox(session, ids["alice"], "todo", flow_key="inboxed")
        assert total == 1 and entries[0].node == "apply"


def test_every_action_is_in_the_audit_log(site):
    from engine.store import audit

    ids = people(site, "alice", "bob")
    publish(site, linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}, key="audited"))
    instance_id = start(site, "audited", ids["alice"])
    act(site, instance_id, "apply", ids["alice"], "submit")
    act(site, instance_id, "l1", ids["bob"], "approve", comment="fine")
    with site.session() as session:
        entries = list(audit.query(session, object_type="flow_instance", object_id=str(instance_id)))
        assert [(e.action, e.actor) for e in entries] == [
            ("flow.started", "alice"), ("flow.submit", "alice"), ("flow.approve", "bob")]
        approve = entries[2].diff["history"]
        assert approve[0]["comment"] == "fine" and approve[-1]["action"] == "completed"
        assert audit.verify(session).ok


def test_open_tasks_move_to_the_substitute_when_a_delegation_starts(settings):
    from engine.directory import Delegation
    from engine.runtime.flows import schedule_hand_over

    clock = ManualClock(START)
    site = wire(Site(settings, clock=clock))
    site.migrate()
    ids = people(site, "alice", "bob", "frank")
    publish(site, linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}, key="away"))
    instance_id = start(site, "away", ids["alice"])
    act(site, instance_id, "apply", ids["alice"], "submit")
    with site.session() as session:
        schedule_hand_over(session, site, Delegation(ids["bob"], ids["frank"], START + timedelta(days=1),
                                                      START + timedelta(days=5)))
    assert site.tick().ran == 0
    clock.advance(timedelta(days=1))
    assert site.tick().ran == 1
    task = load(site, instance_id).open_tasks("l1")[0]
    assert (task.assignee, task.on_behalf_of) == (ids["frank"], ids["bob"])
    site.db.dispose()


def test_a_store_on_a_database_writes_state_tasks_timers_and_audit_in_each_steps_transaction(site):
    """The bench's store: each step its own transaction on a bare connection (no caller session)."""
    from engine.directory import StaticDirectory
    from engine.errors import InvalidInput
    from engine.flows import FlowEngine, MemoryCatalog, parse_definition
    from engine.flows.persistence import SqlFlowStore
    from engine.store import audit
    from engine.store.models import Timer

    ids = people(site, "alice", "dave")
    flow = parse_definition(linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "dave"},
                                                  "deadline": {"after": "4h", "on_timeout": "auto_approve"}},
                                   key="direct"))
    directory = StaticDirectory.from_dict({"users": [{"id": i, "username": n} for n, i in ids.items()]})
    store = SqlFlowStore(database=site.db, clock=site.clock)
    engine = FlowEngine(store=store, catalog=MemoryCatalog([flow]), directory=directory, clock=site.clock)
    inst = engine.start("direct", {}, ids["alice"])
    inst = engine.act(inst.open_tasks("apply")[0].id, Action("submit", ids["alice"]))
    with pytest.raises(InvalidInput):  # refused: nothing of this step is written
        engine.act(inst.open_tasks("l1")[0].id, Action("approve", ids["dave"], data={"nope": 1}))
    with site.session() as session:
        row = session.get(StoredInstance, inst.id)
        assert row.status == "running" and row.row_version == inst.row_version
        tasks = session.execute(select(StoredTask.node, StoredTask.status).order_by(StoredTask.id)).all()
        assert [tuple(t) for t in tasks] == [("apply", "done"), ("l1", "open")]
        timers = session.execute(select(Timer.key).where(Timer.status == "pending")).scalars().all()
        assert len(timers) == 1 and timers[0].startswith(f"flow:{inst.id}:t:")
        entries = list(audit.query(session, object_type="flow_instance", object_id=str(inst.id)))
        assert [(e.action, e.actor) for e in entries] == [("flow.started", "alice"), ("flow.submit", "alice")]
        assert audit.verify(session).ok
    assert [e["action"] for e in engine.instance(inst.id).history] == [e["action"] for e in inst.history]
    store.close()


def test_a_repository_follows_its_session_across_commits(site):
    ids = people(site, "alice", *COUNTERSIGN, "boss")
    publish(site, countersign_flow())
    first, second = start(site, "permit", ids["alice"]), start(site, "permit", ids["alice"])
    with site.session() as session:
        repo = FlowInstanceRepository(session)
        state = repo.load(first)
        session.commit()  # the session may now run on another connection
        assert repo.load(second)["id"] == second
        state["row_version"] += 1
        repo.save(state)
    assert load(site, first).row_version == state["row_version"]
