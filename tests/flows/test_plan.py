"""The compiled plan is a faster way to the same result: every scenario below ends in exactly the
same instance (tasks, history, status, node state) whether user nodes run their planned step
functions or the node types' generic `enter` / `on_task_done`; and history entries kept as
tuples read back as the public dicts."""

from __future__ import annotations

from typing import Any

import pytest

from engine.flows import FlowInstance, parse_definition
from engine.flows.simulate import Simulation
from tests.flows.helpers import MONDAY_9, ORG, apply_node, linear


def _run(flow: dict[str, Any], script: list[dict[str, Any]], org: dict[str, Any], generic: bool) -> FlowInstance:
    definition = parse_definition(flow)
    sim = Simulation(definition, org=org, start=MONDAY_9)
    compiled = sim.engine.flow(definition.key)
    if generic:  # what the plan replaces: the node types' own hooks
        for node_id, handler in compiled.handlers.items():
            if handler.user_node:
                compiled.entries[node_id] = (handler.enter, compiled.nodes[node_id])
            compiled.on_done[node_id] = handler.on_task_done
    else:
        planned = [n for n, h in compiled.handlers.items() if h.user_node and compiled.entries[n][0] != h.enter]
        assert planned, "the scenario should exercise at least one planned user node"
    inst = sim.engine.start(definition.key, {}, sim.user("alice"))
    for line in script:
        inst = sim.apply(inst, line)
    return sim.engine.instance(inst.id)


def approve(node_id: str, *users: Any, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "approve", "assignees": [{"user": u} for u in users], **extra}


def submit() -> dict[str, Any]:
    return {"task": "apply", "action": "submit", "by": "alice"}


def act(node: str, user: str, action: str = "approve", **extra: Any) -> dict[str, Any]:
    return {"task": node, "action": action, "by": user, **extra}


AWAY = {"user": "bob", "substitute": "frank", "from": "2026-01-01T00:00:00+00:00", "to": "2026-02-01T00:00:00+00:00"}

SCENARIOS: dict[str, tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = {
    "countersign passes once everyone approved": (
        linear(apply_node(), approve("cs", "bob", "carol", mode="countersign"), approve("l2", "dave")),
        [submit(), act("cs", "bob"), act("cs", "carol"), act("l2", "dave")], ORG),
    "a rejection inside a countersign goes back and round again": (
        linear(apply_node(), approve("cs", "bob", "carol", mode="countersign")),
        [submit(), act("cs", "bob"), act("cs", "carol", "reject"), submit(), act("cs", "carol"), act("cs", "bob")],
        ORG),
    "or-sign: the first approval wins": (
        linear(apply_node(), approve("os", "bob", "carol", mode="or_sign")),
        [submit(), act("os", "carol")], ORG),
    "signers added before and after inside a countersign": (
        linear(apply_node(), approve("cs", "bob", "carol", mode="countersign")),
        [submit(), act("cs", "bob", "add_signer", users=["frank"], position="before"), act("cs", "frank"),
         act("cs", "bob"), act("cs", "carol", "add_signer", users=["grace"], position="after"), act("cs", "grace")],
        ORG),
    "a removed signer no longer holds the countersign up": (
        linear(apply_node(), approve("cs", "bob", "carol", "frank", mode="countersign")),
        [submit(), act("cs", "bob"), act("cs", "carol", "remove_signer", users=["frank"]), act("cs", "carol")], ORG),
    "transfer and delegate on a single approval": (
        linear(apply_node(), approve("l1", "bob"), approve("l2", "carol")),
        [submit(), act("l1", "bob", "transfer", users=["frank"]), act("l1", "frank"),
         act("l2", "carol", "delegate", users=["grace"]), act("l2", "grace", "resolve"), act("l2", "carol")], ORG),
    "a substitute stands in for someone away": (
        linear(apply_node(), approve("l1", "bob", "carol", mode="countersign")),
        [submit(), act("l1", "frank"), act("l1", "carol")], {**ORG, "delegations": [AWAY]}),
    "the initiator among the approvers is skipped": (
        linear(apply_node(), approve("l1", "alice", "bob", mode="countersign", on_initiator="skip")),
        [submit(), act("l1", "bob")], ORG),
    "unknown and repeated users": (
        linear(apply_node(), approve("l1", "nobody", "bob", 2, "carol", mode="countersign"), approve("l2", "ghost")),
        [submit(), act("l1", "bob"), act("l1", "carol"), act("l2", "admin")], ORG),
    "weighted vote": (
        linear(apply_node(), {"id": "v", "type": "approve", "mode": "vote", "pass_ratio": 0.6,
                              "assignees": [{"user": "bob", "weight": 2}, {"user": "carol"}, {"user": "dave"}]}),
        [submit(), act("v", "carol", "reject"), act("v", "bob")], ORG),
    "withdraw and resubmit": (
        linear(apply_node(), approve("l1", "bob")),
        [submit(), act("l1", "alice", "withdraw"), submit(), act("l1", "bob")], ORG),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_plan_ends_in_the_same_instance_as_the_generic_node_types(name: str) -> None:
    flow, script, org = SCENARIOS[name]
    planned = _run(flow, script, org, generic=False).to_dict()
    generic = _run(flow, script, org, generic=True).to_dict()
    assert planned == generic
    assert planned["history"], "the scenario recorded nothing"


def test_history_tuples_read_back_as_dicts_without_empty_facts() -> None:
    flow, script, org = SCENARIOS["countersign passes once everyone approved"]
    inst = _run(flow, script[:2], org, generic=False)
    history = inst.history
    assert [e["action"] for e in history] == ["started", "submit", "approve"]
    assert history[0] == {"at": MONDAY_9, "action": "started", "by": 1, "version": 1}
    assert history[2] == {"at": MONDAY_9, "action": "approve", "node": "cs", "task": f"{inst.id}.2", "by": 2}
    assert inst.history is history  # one list: what a reader appends stays in the history
    history.append({"at": MONDAY_9, "action": "note"})
    assert inst.to_dict()["history"][-1] == {"at": MONDAY_9.isoformat(), "action": "note"}
    inst.log(MONDAY_9, "noted", "by", None, "count", 2)  # the public way to append a tuple entry
    assert inst.history[-1] == {"at": MONDAY_9, "action": "noted", "count": 2}
    again = FlowInstance.from_dict(inst.to_dict())
    assert again.history[:3] == [{**e, "at": e["at"].isoformat()} for e in history[:3]]
