"""Start and end nodes."""

from __future__ import annotations

from typing import Any, Literal

from engine.errors import Problem
from engine.flows.model import NodeSpec
from engine.flows.nodes.base import NodeType, Targets, register_node_type
from engine.flows.state import COMPLETED, REJECTED


class StartSpec(NodeSpec):
    type: Literal["start"]


class EndSpec(NodeSpec):
    type: Literal["end"]
    # Terminate end (BPMN terminateEventDefinition): ends every other branch too.
    terminate: bool = False
    # The status the instance ends with, e.g. an end reached through a "not approved" branch.
    status: Literal["completed", "rejected"] = "completed"


@register_node_type
class Start(NodeType):
    name = "start"
    spec = StartSpec
    bpmn = "startEvent"

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        if ctx.flow.incoming[node.id]:
            return [ctx.problem("flow.start.incoming", node.id)]
        return []


@register_node_type
class End(NodeType):
    name = "end"
    spec = EndSpec
    bpmn = "endEvent"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        inst = run.instance
        inst.tokens.pop(token.id, None)
        inst.completed.append(node.id)
        if node.terminate or node.status == "rejected" or not inst.tokens:
            run.finish(REJECTED if node.status == "rejected" else COMPLETED)
        return None

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        if ctx.flow.outgoing[node.id]:
            return [ctx.problem("flow.end.outgoing", node.id)]
        return []
