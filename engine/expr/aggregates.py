"""Aggregates over stored records: binding them to the current evaluation.

`count(hazard where area == record.area, within 7d)` cannot be answered by the expression
engine; a DataSource (the rule engine's SQL, a report query, an in-memory list in tests) does.
`bind` hands it a self-contained question: the same `where` AST with every outer value (here
`record.area`) replaced by its literal value, plus the form, function, field, window and order.
Comparisons like `now() - reported_at > 24h` are rewritten to `reported_at < <literal>` so the
candidate-row column stands alone and an index can serve it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from engine.expr import ast
from engine.expr.checker import Analysis, analyse
from engine.expr.context import EvalContext, context_or_default
from engine.expr.errors import fail
from engine.expr.types import OPEN, Schema
from engine.expr.unparse import unparse
from engine.expr.values import CalendarDuration, Duration, add_duration, to_json

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class BoundAggregate:
    """One aggregate question with no free outer references left."""

    function: str  # count | sum | avg | min | max | exists | consecutive
    form: str
    field: str | None
    where: ast.Node | None
    within: Duration | None
    since: datetime | None  # now − within, in the site timezone
    order_by: str | None
    n: int | None
    condition: ast.Node | None
    source: ast.Aggregate = dataclasses.field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for explanations, logs and cache keys."""
        return {
            "function": self.function,
            "form": self.form,
            "field": self.field,
            "where": unparse(self.where) if self.where is not None else None,
            "within": to_json(self.within),
            "since": to_json(self.since),
            "order_by": self.order_by,
            "n": self.n,
            "condition": unparse(self.condition) if self.condition is not None else None,
        }


Evaluator = Callable[[Mapping[str, Any], EvalContext | None, Mapping[str, Any] | None], tuple[Any, ...]]


@dataclass
class AggregatePlan:
    """How to bind one aggregate: its outer-only sub-expressions, compiled once."""

    node: ast.Aggregate
    folded: list[ast.Node]  # maximal outer-only subtrees of where/condition/within/n
    evaluate: Evaluator

    def bind(
        self, data: Mapping[str, Any], ctx: EvalContext | None, scope: Mapping[str, Any] | None = None
    ) -> BoundAggregate:
        values = self.evaluate(data, ctx, scope)
        literal = {id(n): _literal(n, v) for n, v in zip(self.folded, values, strict=True)}

        def substitute(n: ast.Node | None) -> ast.Node | None:
            if n is None:
                return None
            return (
                ast.transform(n, lambda x: literal.get(id(x), x)) if id(n) not in literal else literal[id(n)]
            )

        node = self.node
        c = context_or_default(ctx)
        within = _value(substitute(node.within))
        n_value = _value(substitute(node.n))
        where = substitute(node.where)
        condition = substitute(node.condition)
        since = None
        if within is not None:
            if not isinstance(within, timedelta | CalendarDuration):
                raise fail(
                    "expr.runtime.type",
                    expected={"en": "a duration", "zh-CN": "时长"},
                    got=str(within),
                    value=str(within),
                )
            since = add_duration(c.current_time(), -within, c.tz)
        return BoundAggregate(
            function=node.function,
            form=node.form,
            field=node.field,
            where=_isolate_all(where, c) if where is not None else None,
            within=within,
            since=since,  # type: ignore[arg-type]
            order_by=".".join(node.order_by) if node.order_by else None,
            n=int(n_value) if n_value is not None else None,
            condition=_isolate_all(condition, c) if condition is not None else None,
            source=node,
        )


def _literal(node: ast.Node, value: Any) -> ast.Literal:
    return ast.Literal(
        value,
        line=node.line,
        column=node.column,
        end_line=node.end_line,
        end_column=node.end_column,
        start=node.start,
        end=node.end,
    )


def _value(node: ast.Node | None) -> Any:
    if node is None:
        return None
    assert isinstance(node, ast.Literal)
    return node.value


def row_dependent(node: ast.Node, analysis: Analysis, aggregate: ast.Aggregate) -> set[int]:
    """ids of the nodes whose value depends on the aggregate's candidate row."""
    dependent: set[int] = set()

    def visit(n: ast.Node) -> bool:
        if isinstance(n, ast.Aggregate):
            for child in ast.children(n):
                visit(child)
            return False
        hit = False
        if isinstance(n, ast.Name):
            resolution = analysis.resolutions.get(id(n))
            hit = (
                resolution is not None and resolution.kind == "row" and resolution.aggregate == id(aggregate)
            )
        for child in ast.children(n):
            hit = visit(child) or hit
        if hit:
            dependent.add(id(n))
        return hit

    visit(node)
    return dependent


def outer_subtrees(aggregate: ast.Aggregate, analysis: Analysis) -> list[ast.Node]:
    """The maximal sub-expressions that do not read the candidate row (to evaluate and fold)."""
    out: list[ast.Node] = [part for part in (aggregate.n, aggregate.within) if part is not None]
    for part in (aggregate.where, aggregate.condition):
        if part is None:
            continue
        dependent = row_dependent(part, analysis, aggregate)
        stack = [part]
        while stack:
            n = stack.pop()
            if id(n) not in dependent:
                if not isinstance(n, ast.Literal):
                    out.append(n)
                continue
            stack.extend(reversed(list(ast.children(n))))
    return out


# --- isolating the row column ------------------------------------------------------------------


def _isolate_all(node: ast.Node, ctx: EvalContext) -> ast.Node:
    return ast.transform(node, lambda n: _isolate(n, ctx) if isinstance(n, ast.Compare) else n)


def _isolate(node: ast.Compare, ctx: EvalContext) -> ast.Node:
    """`lit - col > lit2` → `col < lit - lit2` (and the other +/- shapes), literals folded,
    only where the rewrite is exact (see `_exact`)."""
    from engine.expr import runtime as rt

    if node.op in ("in", "not in"):
        return node
    left, right, op = node.left, node.right, node.op
    if isinstance(left, ast.Literal) and not isinstance(right, ast.Literal):
        left, right, op = right, left, _FLIP[op]
    for _ in range(8):
        if not (isinstance(right, ast.Literal) and isinstance(left, ast.Binary) and left.op in ("+", "-")):
            break
        a, b = left.left, left.right
        if isinstance(b, ast.Literal) and _exact(b.value, right.value):
            # col + k op R → col op R - k ;  col - k op R → col op R + k
            bound = rt.sub(right.value, b.value, ctx) if left.op == "+" else rt.add(right.value, b.value, ctx)
            new_left, new_op = a, op
        elif isinstance(a, ast.Literal) and _exact(a.value, right.value):
            if left.op == "+":  # k + col op R → col op R - k
                bound, new_left, new_op = rt.sub(right.value, a.value, ctx), b, op
            else:  # k - col op R → col flip(op) k - R
                bound, new_left, new_op = rt.sub(a.value, right.value, ctx), b, _FLIP[op]
        else:
            break
        if bound is None:
            break
        left, op, right = new_left, new_op, _literal(right, bound)
    if left is node.left and right is node.right:
        return node
    return replace(node, left=left, right=right, op=op)


def _exact(k: Any, r: Any) -> bool:
    """Can `x ± k op r` be solved for x without rounding? Integers, and fixed durations against
    date-times (or whole days against dates); never floats or calendar months."""
    if type(k) is int and type(r) is int:
        return True
    pair = (k, r)
    durations = [v for v in pair if type(v) is timedelta]
    moments = [v for v in pair if isinstance(v, date)]
    if len(durations) + len(moments) != 2 or not durations:
        return False
    if any(type(v) is date for v in moments):
        return all(d % timedelta(days=1) == timedelta(0) for d in durations)
    return True


# --- plans ---------------------------------------------------------------------------------------

_PLANS: dict[int, tuple[ast.Aggregate, AggregatePlan]] = {}
_MAX_PLANS = 4096


def remember(plan: AggregatePlan) -> AggregatePlan:
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[id(plan.node)] = (plan.node, plan)
    return plan


def build_plan(aggregate: ast.Aggregate, analysis: Analysis) -> AggregatePlan:
    from engine.expr.compiler import compile_function

    folded = outer_subtrees(aggregate, analysis)
    evaluate = compile_function(folded, analysis, scope_param="s")
    return remember(AggregatePlan(aggregate, folded, evaluate))


def bind(
    aggregate: ast.Aggregate,
    data: Mapping[str, Any],
    ctx: EvalContext | None = None,
    *,
    schema: Schema | None = None,
    scope: Mapping[str, Any] | None = None,
) -> BoundAggregate:
    """Bind an aggregate node (from `CompiledExpr.aggregates`) to a record and context.

    Aggregates of a compiled expression reuse its plan (typed by its schema); any other node is
    analysed on its own against `schema` (default: open, every outer value untyped)."""
    known = _PLANS.get(id(aggregate))
    if known is not None and known[0] is aggregate:
        plan = known[1]
    else:
        analysis = analyse(aggregate, schema or OPEN)
        if not analysis.ok:
            from engine.expr.errors import ExprError

            raise ExprError(problems=analysis.problems)
        plan = build_plan(aggregate, analysis)
    return plan.bind(data, ctx, scope)


def run_aggregate(
    ctx: EvalContext | None, plan: AggregatePlan, data: Mapping[str, Any], scope: Mapping[str, Any] | None
) -> Any:
    """Called by generated code: bind, then ask the context's DataSource."""
    source = context_or_default(ctx).data_source
    if source is None:
        raise fail("expr.runtime.no_data_source", function=plan.node.function)
    return source.aggregate(plan.bind(data, ctx, scope))
