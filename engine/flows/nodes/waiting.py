"""Wait (timer) nodes and sub-flows: the token rests until time passes or a child instance ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from engine.errors import Problem
from engine.flows.deadlines import WAIT
from engine.flows.durations import parse_duration
from engine.flows.model import NodeSpec
from engine.flows.nodes.base import NodeType, Targets, register_node_type
from engine.flows.state import COMPLETED, REJECTED


class WaitSpec(NodeSpec):
    """Wait `duration` (e.g. "30m", "1 workdays"), or `until` an expression giving a datetime."""

    type: Literal["wait"]
    duration: str | None = None
    until: str | None = None


class SubflowSpec(NodeSpec):
    """Run another flow (latest version at the time, pinned) on this instance's record data.

    `input` maps child field ← parent field (default: the whole record); `output` maps parent
    field ← child field when the child completes (default: the whole record back).
    """

    type: Literal["subflow"]
    flow: str
    version: int | None = None
    input: dict[str, str] | None = None
    output: dict[str, str] | None = None
    # When the child ends rejected: "reject" ends this instance rejected, "continue" goes on.
    on_reject: Literal["reject", "continue"] = "reject"


@register_node_type
class Wait(NodeType):
    name = "wait"
    spec = WaitSpec
    bpmn = "intermediateCatchEvent"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        inst = run.instance
        try:
            if node.duration:
                due = parse_duration(node.duration).after(run.now, run.engine.calendar)
            else:
                compiled = run.engine.compiled_expression(run.flow, node.until or "")
                due = compiled.evaluate(inst.data, run.engine.eval_context(run.now))
                if not isinstance(due, datetime):
                    raise ValueError(f"`until` gave {due!r}, not a datetime")
        except Exception as exc:
            run.fail(token, "flow.wait.error", node=node.id, error=str(exc))
            return None
        payload = {"instance": inst.id, "token": token.id, "node": node.id, "visit": inst.visits[node.id]}
        run.effects.schedule(WAIT, due, payload, f"flow:{inst.id}:n:{token.id}:wait")
        run.record("waiting", node=node.id, until=due.isoformat())
        return None

    def on_timer(self, run: Any, token: Any, node: Any, payload: dict[str, Any]) -> Targets:
        return run.flow.out_targets[node.id]

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        if bool(node.duration) == bool(node.until):
            return [ctx.problem("flow.wait.one_of", node.id)]
        if node.duration:
            return ctx.duration_problems(node.duration, node.id, "duration")
        return ctx.expression_problems(node.until, node.id, "until")


@register_node_type
class Subflow(NodeType):
    name = "subflow"
    spec = SubflowSpec
    bpmn = "callActivity"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        data = run.instance.data
        child_data = dict(data) if node.input is None else {c: data.get(p) for c, p in node.input.items()}
        run.effects.children.append(("start", node.flow, node.version, child_data, token.id, node.id))
        return None

    def on_child_finished(self, run: Any, token: Any, node: Any, status: str, data: dict) -> Targets:
        inst = run.instance
        if status == COMPLETED:
            if node.output is None:
                inst.data.update(data)
            else:
                inst.data.update({p: data.get(c) for p, c in node.output.items()})
        run.record("subflow_finished", node=node.id, status=status)
        if status == REJECTED and node.on_reject == "reject":
            run.finish(REJECTED)
            return None
        return run.flow.out_targets[node.id]

    def cancel(self, run: Any, token: Any, node: Any) -> None:
        super().cancel(run, token, node)
        run.effects.children.append(("cancel_child", token.id, node.id))

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        if ctx.catalog is not None and ctx.catalog.get(node.flow, node.version) is None:
            return [ctx.problem("flow.subflow.unknown", node.id, path="flow", flow=node.flow)]
        return []
