"""The instance row's own columns (status, version, end...) follow its state document, and a
step that changes only the document leaves them, and their indexes, unwritten."""

from __future__ import annotations

import pytest

from engine.flows.migration import migrate_instances
from engine.store.flows import FlowInstanceRepository
from engine.store.models import StoredInstance
from tests.flows.helpers import apply_node, linear
from tests.flows.test_persistence import act, load, people, publish, start

V1 = linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}, key="permit")
V2 = linear(apply_node(), {"id": "review", "type": "approve", "assignee": {"user": "bob"}}, key="permit")


def row(site, instance_id: int) -> StoredInstance:
    with site.session() as session:
        found = session.get(StoredInstance, instance_id)
        assert found is not None
        session.expunge(found)
        return found


def test_the_row_shows_the_end_of_an_instance(site):
    ids = people(site, "alice", "bob")
    publish(site, V1)
    instance_id = start(site, "permit", ids["alice"])
    act(site, instance_id, "apply", ids["alice"], "submit")
    assert (row(site, instance_id).status, row(site, instance_id).ended_at) == ("running", None)
    act(site, instance_id, "l1", ids["bob"])
    inst, stored = load(site, instance_id), row(site, instance_id)
    assert (stored.status, stored.ended_at, stored.row_version) == ("completed", inst.ended_at, inst.row_version)


def test_a_migrated_instance_is_listed_under_its_new_version(site):
    ids = people(site, "alice", "bob")
    publish(site, V1)
    instance_id = start(site, "permit", ids["alice"])
    act(site, instance_id, "apply", ids["alice"], "submit")
    publish(site, V2)
    with site.session() as session:
        assert migrate_instances(session, "permit", mapping={"l1": "review"}, dry_run=False).refused == []
    assert row(site, instance_id).flow_version == 2
    with site.session() as session:
        repo = FlowInstanceRepository(session)
        assert (repo.instances_of("permit", version=1), repo.instances_of("permit", version=2)) == ([], [instance_id])


def test_a_save_that_changes_only_the_document_writes_only_the_document(site):
    if site.db.dialect != "sqlite":
        pytest.skip("reads the statements through SQLite's trace callback")
    ids = people(site, "alice", "bob")
    publish(site, V1)
    instance_id = start(site, "permit", ids["alice"])
    written: list[str] = []
    with site.session() as session:
        repo = FlowInstanceRepository(session)
        state = repo.load(instance_id)
        session.connection().connection.dbapi_connection.set_trace_callback(written.append)
        state["data"] = {"title": "weld"}
        state["row_version"] += 1
        repo.save(state)
        state["status"] = "cancelled"
        state["row_version"] += 1
        repo.save(state)
        session.connection().connection.dbapi_connection.set_trace_callback(None)
    updates = [s for s in written if s.startswith("UPDATE flow_instances")]
    assert len(updates) == 2
    assert "status=" not in updates[0] and "status='cancelled'" in updates[1]  # (the trace shows the values)
    stored = row(site, instance_id)
    assert (stored.status, stored.state["data"], stored.row_version) == ("cancelled", {"title": "weld"},
                                                                          state["row_version"])
