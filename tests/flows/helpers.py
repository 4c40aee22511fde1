"""Small builders so each test states only the flow and the steps it is about."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from engine.flows import Action, FlowInstance, parse_definition
from engine.flows.simulate import Simulation

ORG: dict[str, Any] = {
    "users": [
        {"id": 1, "username": "alice", "department": 10, "roles": ["worker"]},
        {"id": 2, "username": "bob", "department": 10, "roles": ["workshop_director"]},
        {"id": 3, "username": "carol", "department": 20, "roles": ["safety_director", "safety_officer"]},
        {"id": 4, "username": "dave", "department": 10, "manager": 5},
        {"id": 5, "username": "erin", "department": 30},
        {"id": 6, "username": "frank", "department": 20, "roles": ["safety_officer"]},
        {"id": 7, "username": "grace", "department": 20, "roles": ["safety_officer"]},
        {"id": 8, "username": "admin"},
        {"id": 9, "username": "henry", "department": 10, "roles": ["workshop_director"]},
    ],
    "departments": [
        {"id": 10, "name": "Workshop 1", "head": "dave", "parent": 1},
        {"id": 20, "name": "Safety", "head": "carol", "parent": 1},
        {"id": 30, "name": "Plant", "head": "erin"},
        {"id": 1, "name": "Company", "head": "erin"},
    ],
    "admins": ["admin"],
}
USERS = {u["username"]: u["id"] for u in ORG["users"]}
MONDAY_9 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def linear(*nodes: dict[str, Any], key: str = "f", **extra: Any) -> dict[str, Any]:
    """start → nodes... → end, in order."""
    all_nodes = [{"id": "start", "type": "start"}, *nodes, {"id": "end", "type": "end"}]
    ids = [n["id"] for n in all_nodes]
    return {
        "key": key,
        "nodes": all_nodes,
        "edges": [{"from": a, "to": b} for a, b in itertools.pairwise(ids)],
        **extra,
    }


def apply_node(**extra: Any) -> dict[str, Any]:
    return {"id": "apply", "type": "fill", "assignee": "initiator", **extra}


class Harness:
    """One flow instance in memory, driven by user names: `h.act("l1", "bob", "approve")`."""

    def __init__(
        self,
        flow: dict[str, Any],
        data: dict[str, Any] | None = None,
        *,
        initiator: str = "alice",
        org: dict[str, Any] | None = ORG,
        start: datetime = MONDAY_9,
        schema: Any = None,
        subflows: list[dict[str, Any]] = (),
        calendar: Any = None,
    ) -> None:
        self.definition = parse_definition(flow)
        self.sim = Simulation(
            self.definition,
            org=org,
            start=start,
            schema=schema,
            calendar=calendar,
            subflows=[parse_definition(s) for s in subflows],
        )
        self.engine = self.sim.engine
        self.inst = self.engine.start(self.definition.key, dict(data or {}), self.sim.user(initiator))

    @property
    def instance(self) -> FlowInstance:
        self.inst = self.engine.instance(self.inst.id)
        return self.inst

    def uid(self, name: str) -> int:
        return self.sim.user(name)

    def act(self, node: str, user: str, action: str = "approve", **kw: Any) -> FlowInstance:
        line = {"task": node, "action": action, "by": user, **kw}
        self.inst = self.sim.apply(self.inst, line)
        return self.inst

    def open(self) -> list[str]:
        return self.instance.open_nodes()

    def holders(self, node: str) -> list[str]:
        names = {v: k for k, v in USERS.items()}
        return [names.get(t.assignee, str(t.assignee)) for t in self.instance.open_tasks(node)]

    def status(self) -> str:
        return self.instance.status

    def advance(self, text: str) -> None:
        self.sim.advance(text)

    def action(self, kind: str, by: str, **kw: Any) -> Action:
        return Action(kind, self.uid(by), **kw)
