"""Gateways: exclusive (first true condition, else default), parallel and inclusive split/join.

A join waits while any other token of the instance can still reach it. For a well-formed
parallel block that is "one token per branch"; for an inclusive gateway it is the BPMN
inclusive-join rule; and a branch cancelled by a rejection no longer holds the join up.
"""

from __future__ import annotations

from typing import Any, Literal

from engine.errors import Problem
from engine.flows.model import NodeSpec
from engine.flows.nodes.base import NodeType, Targets, register_node_type


class ExclusiveSpec(NodeSpec):
    type: Literal["exclusive"]


class ParallelSpec(NodeSpec):
    type: Literal["parallel"]


class InclusiveSpec(NodeSpec):
    type: Literal["inclusive"]


def _true_targets(run: Any, token: Any, node_id: str) -> list[str] | None:
    """Targets whose condition holds, in edge order; None after failing the instance."""
    flow = run.flow
    edges = flow.outgoing[node_id]
    if len(edges) == 1 and edges[0].when is None:
        return [edges[0].target]
    chosen: list[str] = []
    default: str | None = None
    for index, edge in enumerate(edges):
        if edge.default:
            default = edge.target
            continue
        if edge.when is None:
            chosen.append(edge.target)
        else:
            try:
                evaluate, needs_context, _ = flow.test(node_id, index)
                value = evaluate(run.instance.data, run.eval_context() if needs_context else None)
            except Exception as exc:  # an evaluation error stops the instance visibly
                run.fail(token, "flow.condition.error", node=node_id, condition=edge.when, error=str(exc))
                return None
            if value is True:
                chosen.append(edge.target)
    if not chosen and default is not None:
        chosen.append(default)
    return chosen


def _join_ready(run: Any, token: Any, node_id: str) -> bool:
    """True when no other token can still arrive here; consumes the tokens that waited."""
    if len(run.flow.incoming[node_id]) < 2:
        return True
    upstream = run.flow.upstream(node_id)
    tokens = run.instance.tokens
    waiting = []
    for other in tokens.values():
        if other is token:
            continue
        if other.node == node_id:
            waiting.append(other.id)
        elif other.node in upstream:
            return False
    for tid in waiting:
        del tokens[tid]
    return True


class _Gateway(NodeType):
    bpmn = "gateway"

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        problems = []
        out = ctx.flow.outgoing[node.id]
        defaults = [e for e in out if e.default]
        if len(defaults) > 1:
            problems.append(ctx.problem("flow.gateway.many_defaults", node.id))
        if not out:
            problems.append(ctx.problem("flow.gateway.no_outgoing", node.id))
        return problems


@register_node_type
class Exclusive(_Gateway):
    name = "exclusive"
    spec = ExclusiveSpec
    bpmn = "exclusiveGateway"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        """The first target whose condition holds, else the default (the flow's compiled plan)."""
        enter: Any = run.flow.entries[node.id][0]
        return enter(run, token, node)  # type: ignore[no-any-return]

    def plan(self, flow: Any, node: Any) -> Any:
        """`enter` with the edges laid out once: (target, condition) in edge order, the default
        apart, each condition compiled on its first evaluation (a broken one fails the instance
        when reached, as `enter` does)."""
        node_id = node.id
        edges = flow.outgoing[node_id]
        if len(edges) == 1 and edges[0].when is None:
            only = (edges[0].target,)
            return lambda run, token, spec: only
        default = next(((e.target,) for e in edges if e.default), None)
        guarded = [(index, (e.target,), e.when) for index, e in enumerate(edges) if not e.default]
        test = flow.test

        def enter(run: Any, token: Any, spec: Any) -> Targets:
            for index, targets, when in guarded:
                if when is None:
                    return targets
                try:
                    evaluate, needs_context, _ = test(node_id, index)
                    value = evaluate(run.instance.data, run.eval_context() if needs_context else None)
                except Exception as exc:  # an evaluation error stops the instance visibly
                    run.fail(token, "flow.condition.error", node=node_id, condition=when, error=str(exc))
                    return None
                if value is True:
                    return targets
            if default is not None:
                return default
            run.fail(token, "flow.gateway.no_match", node=node_id)
            return None

        return enter

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        problems = super().validate(node, ctx)
        out = ctx.flow.outgoing[node.id]
        if len(out) > 1 and not any(e.default for e in out) and not any(e.when for e in out):
            problems.append(ctx.problem("flow.gateway.unguarded", node.id, severity="warning"))
        elif len(out) > 1 and not any(e.default for e in out):
            problems.append(ctx.problem("flow.gateway.no_default", node.id, severity="warning"))
        return problems


@register_node_type
class Parallel(_Gateway):
    name = "parallel"
    spec = ParallelSpec
    bpmn = "parallelGateway"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        if not _join_ready(run, token, node.id):
            return None
        return run.flow.out_targets[node.id]

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        problems = super().validate(node, ctx)
        for index, edge in ctx.outgoing_with_index(node.id):
            if edge.when or edge.default:
                problems.append(ctx.edge_problem("flow.gateway.parallel_condition", index, node=node.id))
        return problems


@register_node_type
class Inclusive(_Gateway):
    name = "inclusive"
    spec = InclusiveSpec
    bpmn = "inclusiveGateway"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        if not _join_ready(run, token, node.id):
            return None
        if len(run.flow.outgoing[node.id]) < 2:
            return run.flow.out_targets[node.id]
        targets = _true_targets(run, token, node.id)
        if targets is None:
            return None
        if not targets:
            run.fail(token, "flow.gateway.no_match", node=node.id)
            return None
        return targets
