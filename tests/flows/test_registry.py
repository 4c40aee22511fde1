"""Node types are registered classes the token loop knows nothing about; events go to the sink."""

from __future__ import annotations

from typing import Any, Literal

from engine import events as ev
from engine.flows import definition_json_schema, parse_definition
from engine.flows.model import NodeSpec
from engine.flows.nodes.base import NodeType, _registry, register_node_type
from tests.flows.helpers import Harness, apply_node, linear


class StampSpec(NodeSpec):
    type: Literal["stamp"]
    field: str
    value: str


def test_a_new_node_type_is_one_registered_class():
    @register_node_type
    class Stamp(NodeType):
        name = "stamp"
        spec = StampSpec

        def enter(self, run: Any, token: Any, node: Any) -> Any:
            run.instance.data[node.field] = node.value
            return run.flow.out_targets[node.id]

    try:
        schema = definition_json_schema()
        assert "StampSpec" in schema["$defs"]
        flow = linear(apply_node(), {"id": "seal", "type": "stamp", "field": "seal", "value": "ok"})
        assert parse_definition(flow).node("seal").value == "ok"
        h = Harness(flow)
        h.act("apply", "alice", "submit")
        assert h.status() == "completed" and h.instance.data == {"seal": "ok"}
    finally:
        del _registry["stamp"]
        from engine.flows.definition import definition_model

        definition_model.cache_clear()


def test_flow_events_are_emitted_to_the_sink():
    h = Harness(linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}))
    h.act("apply", "alice", "submit")
    h.act("l1", "bob")
    kinds = [e.kind for e in h.sim.events.events]
    assert kinds[0] == ev.FLOW_STARTED and kinds[-1] == ev.FLOW_COMPLETED
    assert kinds.count(ev.FLOW_TASK_CREATED) == 2
    entered = [e.meta["node"] for e in h.sim.events.events if e.kind == ev.FLOW_NODE_ENTERED]
    assert entered == ["start", "apply", "l1", "end"]
    assert all(e.meta["flow"] == "f" and e.meta["instance"] == h.inst.id for e in h.sim.events.events)
