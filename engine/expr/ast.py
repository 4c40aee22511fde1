"""The typed AST every consumer of the expression language works on.

Frozen dataclasses, one per construct, each carrying its source span (line/column/end and the
character offsets), so type errors, explanations and SQL push-down errors point back into the
text. The parser builds them; the checker, the compiler, `bind` and `to_sql` only read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

AGGREGATE_FUNCTIONS = ("count", "sum", "avg", "min", "max", "exists", "consecutive")
COMPARISON_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
ARITHMETIC_OPS = ("+", "-", "*", "/", "%", "^", "&")


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """Base of every node: where it stands in the source (1-based line/column, 0-based offsets)."""

    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    start: int = 0
    end: int = 0

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    def source(self, text: str) -> str:
        return text[self.start : self.end]


Expr = Node


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant: int, float, str, bool, None, date, datetime (naive = site time) or duration."""

    value: Any


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Range(Node):
    """`low..high`, both ends included; only materialised when used as a list."""

    low: Expr
    high: Expr


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A field path (`level`, `record.area.name`, `measures.cost`): dictionary lookups only."""

    path: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-", "+", "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # one of ARITHMETIC_OPS
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str  # one of COMPARISON_OPS
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    """`a and b and c` (or `or`), flattened so long chains do not nest."""

    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str  # canonical lower-case function name
    args: tuple[Expr, ...]
    spelled: str = ""  # as the author wrote it, for messages


@dataclass(frozen=True, slots=True)
class Aggregate(Node):
    """`count(hazard where …, within 7d)` and friends: a query over stored records.

    Inside `where` and `condition`, bare names are the candidate row's fields; outer values are
    reached through named scopes (`record.area`, `h.area`). For `consecutive(n, form where KEY,
    COND, order by ts)`: `n`, `where` = KEY, `condition` = COND, `order_by` = ts.
    """

    function: str  # one of AGGREGATE_FUNCTIONS
    form: str
    field: str | None = None  # sum/avg/min/max: the row field summed
    where: Expr | None = None
    within: Expr | None = None
    order_by: tuple[str, ...] | None = None
    n: Expr | None = None
    condition: Expr | None = None


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def children(node: Node) -> Iterator[Node]:
    """Direct sub-expressions in source order."""
    names = _FIELD_NAMES.get(type(node))
    if names is None:  # `fields()` is slow; explain walks trees per evaluation
        names = _FIELD_NAMES[type(node)] = tuple(f.name for f in fields(node))
    for name in names:
        value = getattr(node, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, Node):
                    yield item


def walk(node: Node) -> Iterator[Node]:
    """Every node, parents before children, without recursion (ASTs may be long chains)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


def transform(node: Node, fn: Any) -> Node:
    """Rebuild bottom-up: `fn(node_with_new_children)` returns the replacement (or the node)."""
    changes: dict[str, Any] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            new = transform(value, fn)
            if new is not value:
                changes[f.name] = new
        elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            items = tuple(transform(v, fn) if isinstance(v, Node) else v for v in value)
            if any(a is not b for a, b in zip(items, value, strict=True)):
                changes[f.name] = items
    return fn(replace(node, **changes) if changes else node)


def strip_positions(node: Node) -> Node:
    """The same tree with every position zeroed, for comparing structure."""
    zero = {"line": 0, "column": 0, "end_line": 0, "end_column": 0, "start": 0, "end": 0}
    return transform(node, lambda n: replace(n, **zero))
