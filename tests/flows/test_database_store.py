"""The store on a Database (the bench's): each step is one transaction begun on the driver, which
SQLAlchemy joins only when the step needs it (an ORM session, a Core query) — committed or rolled
back whole either way, and the held connection is clean for the next step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.directory import StaticDirectory
from engine.flows import Action, FlowEngine, MemoryCatalog, parse_definition
from engine.flows.persistence import SqlFlowStore
from engine.store.models import StoredInstance, Timer
from tests.flows.helpers import apply_node, linear
from tests.flows.test_persistence import people

FLOW = linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "dave"}}, key="direct")


@pytest.fixture
def store(site) -> Iterator[SqlFlowStore]:
    store = SqlFlowStore(database=site.db, clock=site.clock)
    yield store
    store.close()


def engine_on(store: SqlFlowStore, ids: dict[str, int]) -> FlowEngine:
    directory = StaticDirectory.from_dict({"users": [{"id": i, "username": n} for n, i in ids.items()]})
    return FlowEngine(store=store, catalog=MemoryCatalog([parse_definition(FLOW)]), directory=directory)


def count(site, model) -> int:
    with site.session() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_step_with_a_core_query_commits_and_the_next_step_runs_on_the_same_connection(site, store):
    ids = people(site, "alice", "dave")
    engine = engine_on(store, ids)
    inst = engine.start("direct", {}, ids["alice"])
    with store.atomic() as unit:  # a Core query: SQLAlchemy joins the driver's transaction
        assert unit.open_tasks_of(ids["alice"]) == [(inst.id, inst.open_tasks("apply")[0].id)]
    inst = engine.act(inst.open_tasks("apply")[0].id, Action("submit", ids["alice"]))
    inst = engine.act(inst.open_tasks("l1")[0].id, Action("approve", ids["dave"]))
    with site.session() as session:
        assert session.get(StoredInstance, inst.id).status == "completed"


def test_a_failed_step_rolls_back_what_it_wrote_on_the_driver(site, store):
    with pytest.raises(RuntimeError), store.atomic() as unit:
        unit.repo.reserve_id("direct", 1, datetime(2026, 1, 5, tzinfo=UTC))
        raise RuntimeError("the step fails")
    assert count(site, StoredInstance) == 0


def test_a_failed_step_rolls_back_what_its_orm_session_wrote(site, store):
    with pytest.raises(RuntimeError), store.atomic() as unit:
        unit.repo.reserve_id("direct", 1, datetime(2026, 1, 5, tzinfo=UTC))
        unit.session.add(Timer(kind="flow.deadline", key="k", due_at=datetime(2026, 1, 5, tzinfo=UTC), payload={}))
        unit.session.flush()
        raise RuntimeError("the step fails")
    assert (count(site, StoredInstance), count(site, Timer)) == (0, 0)
    with store.atomic() as unit:  # the connection is usable again, its transaction ended
        unit.repo.reserve_id("direct", 1, datetime(2026, 1, 5, tzinfo=UTC))
    assert count(site, StoredInstance) == 1
