"""Explain mode: the value of every evaluated sub-expression, with its source span.

The rule engine uses it to say *why* a condition was true or false ("count(...) → 6, > 5 →
true"); users have asked every rule engine for this (business-rules #70, zen #380). The
explanation is a tree mirroring the AST; branches that were not evaluated (short-circuited
`and`/`or`, the untaken side of an IF, the per-element body of a list function) say so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.expr import ast
from engine.expr.context import EvalContext, context_or_default
from engine.expr.unparse import unparse
from engine.expr.values import to_json, to_text

if TYPE_CHECKING:
    from engine.expr.aggregates import BoundAggregate
    from engine.expr.compiler import CompiledExpr


@dataclass
class Explanation:
    kind: str  # the AST node class: Compare, Call, Aggregate …
    text: str  # the source text of this sub-expression
    line: int
    column: int
    start: int
    end: int
    value: Any  # JSON-safe
    evaluated: bool
    children: list[Explanation] = field(default_factory=list)
    detail: dict[str, Any] | None = None  # Aggregate: the bound question asked of the data source

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "line": self.line,
            "column": self.column,
            "span": [self.start, self.end],
            "evaluated": self.evaluated,
            "value": self.value,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    def lines(self, indent: int = 0) -> list[str]:
        """A readable trace: one `text → value` line per evaluated sub-expression."""
        shown = to_text(self.value) if not isinstance(self.value, str) else repr(self.value)
        if self.value is None:
            shown = "null"
        mark = f"→ {shown}" if self.evaluated else "(not evaluated)"
        out = [f"{'  ' * indent}{self.text} {mark}"]
        for child in self.children:
            if child.kind != "Literal":
                out.extend(child.lines(indent + 1))
        return out


class _RecordingSource:
    """Wraps the DataSource to remember which bound question each aggregate asked."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[tuple[BoundAggregate, Any]] = []

    def aggregate(self, bound: BoundAggregate) -> Any:
        result = self.inner.aggregate(bound)
        self.asked.append((bound, result))
        return result


@dataclass(frozen=True)
class _Shape:
    """The data-independent part of one node's explanation (built once per compiled expression)."""

    node: ast.Node
    kind: str
    text: str
    literal: bool
    aggregate: bool
    children: tuple[_Shape, ...]


def build_skeleton(node: ast.Node, text: str) -> _Shape:
    try:
        source = node.source(text) if text and node.end > node.start else unparse(node)
    except TypeError:
        source = type(node).__name__
    aggregate = isinstance(node, ast.Aggregate)
    kids = () if aggregate else tuple(build_skeleton(c, text) for c in ast.children(node))
    return _Shape(node, type(node).__name__, source, isinstance(node, ast.Literal), aggregate, kids)


def _trace(
    fn: Callable[..., Any], traced: list[ast.Node], data: Mapping[str, Any], ctx: EvalContext | None
) -> tuple[Any, dict[int, Any], dict[int, dict[str, Any]]]:
    """Run the traced function: (result, value by node id, bound question by aggregate id)."""
    values: dict[int, Any] = {}

    def record(index: int, value: Any) -> Any:
        values[index] = value
        return value

    context = context_or_default(ctx)
    recording = _RecordingSource(context.data_source) if context.data_source is not None else None
    if recording is not None:
        context = replace(context, data_source=recording)
    result = fn(data, context, record)
    by_node = {id(traced[i]): v for i, v in values.items()}
    asked = {id(b.source): b.to_dict() for b, _ in (recording.asked if recording else [])}
    return result, by_node, asked


def explain_dict(
    compiled: CompiledExpr,
    fn: Callable[..., Any],
    traced: list[ast.Node],
    data: Mapping[str, Any],
    ctx: EvalContext | None,
) -> tuple[Any, dict[str, Any]]:
    """(the result, `explain(...).to_dict()`) built straight as dicts: what a rule engine storing
    every firing's explanation needs, without the intermediate objects."""
    result, by_node, asked = _trace(fn, traced, data, ctx)
    root = _dict(compiled.skeleton(), by_node, asked)
    root["value"], root["evaluated"] = to_json(result), True
    return result, root


def _dict(shape: _Shape, values: dict[int, Any], asked: dict[int, dict[str, Any]]) -> dict[str, Any]:
    node = shape.node
    if shape.literal:
        evaluated, value = True, node.value  # type: ignore[attr-defined]
    else:
        key = id(node)
        evaluated, value = key in values, values.get(key)
    out: dict[str, Any] = {"kind": shape.kind, "text": shape.text, "line": node.line, "column": node.column,
                           "span": [node.start, node.end], "evaluated": evaluated, "value": to_json(value)}
    if shape.aggregate:
        detail = asked.get(id(node))
        if detail is not None:
            out["detail"] = detail
    if shape.children:
        out["children"] = [_dict(child, values, asked) for child in shape.children]
    return out


def explain(
    compiled: CompiledExpr,
    fn: Callable[..., Any],
    traced: list[ast.Node],
    data: Mapping[str, Any],
    ctx: EvalContext | None,
) -> Explanation:
    result, by_node, asked = _trace(fn, traced, data, ctx)
    root = _build(compiled.skeleton(), by_node, asked)
    root.value, root.evaluated = to_json(result), True
    return root


def _build(shape: _Shape, values: dict[int, Any], asked: dict[int, dict[str, Any]]) -> Explanation:
    node = shape.node
    if shape.literal:
        evaluated, value = True, node.value  # type: ignore[attr-defined]
    else:
        key = id(node)
        evaluated, value = key in values, values.get(key)
    return Explanation(
        kind=shape.kind,
        text=shape.text,
        line=node.line,
        column=node.column,
        start=node.start,
        end=node.end,
        value=to_json(value),
        evaluated=evaluated,
        children=[_build(child, values, asked) for child in shape.children],
        detail=asked.get(id(node)) if shape.aggregate else None,
    )
