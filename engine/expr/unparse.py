"""AST → canonical expression text (the inverse of `parse`, up to spacing and parentheses).

Used to show bound aggregate conditions (`area == "A" and created_at > d"…"`), to generate
expressions (JSON Logic import builds an AST and prints it) and in round-trip tests.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from engine.expr import ast
from engine.expr.values import CalendarDuration

_PREC = {
    "or": 1,
    "and": 2,
    "not": 3,
    "compare": 4,
    "range": 5,
    "&": 6,
    "+": 7,
    "-": 7,
    "*": 8,
    "/": 8,
    "%": 8,
    "unary": 9,
    "^": 10,
    "atom": 11,
}
_UNITS = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def unparse(node: ast.Node) -> str:
    return _text(node)


def _prec(node: ast.Node) -> int:
    if isinstance(node, ast.BoolOp):
        return _PREC[node.op]
    if isinstance(node, ast.Unary):
        return _PREC["not"] if node.op == "not" else _PREC["unary"]
    if isinstance(node, ast.Compare):
        return _PREC["compare"]
    if isinstance(node, ast.Range):
        return _PREC["range"]
    if isinstance(node, ast.Binary):
        return _PREC[node.op]
    if isinstance(node, ast.Literal) and _is_negative(node.value):
        return _PREC["unary"]
    return _PREC["atom"]


def _is_negative(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value < 0 or (isinstance(value, float) and str(value).startswith("-"))
    if isinstance(value, timedelta):
        return value < timedelta(0)
    if isinstance(value, CalendarDuration):
        return value.months < 0 or value.delta < timedelta(0)
    return False


def _wrap(node: ast.Node, minimum: int) -> str:
    text = _text(node)
    return f"({text})" if _prec(node) < minimum else text


def _text(node: ast.Node) -> str:
    if isinstance(node, ast.Literal):
        return literal_text(node.value)
    if isinstance(node, ast.Name):
        return node.dotted
    if isinstance(node, ast.ListExpr):
        return "[" + ", ".join(_text(i) for i in node.items) + "]"
    if isinstance(node, ast.Range):
        return f"{_wrap(node.low, 6)}..{_wrap(node.high, 6)}"
    if isinstance(node, ast.BoolOp):
        minimum = _PREC[node.op] + 1
        return f" {node.op} ".join(_wrap(o, minimum) for o in node.operands)
    if isinstance(node, ast.Unary):
        if node.op == "not":
            return f"not {_wrap(node.operand, 3)}"
        return f"{node.op}{_wrap(node.operand, 9)}"
    if isinstance(node, ast.Compare):
        return f"{_wrap(node.left, 5)} {node.op} {_wrap(node.right, 5)}"
    if isinstance(node, ast.Binary):
        p = _PREC[node.op]
        if node.op == "^":
            return f"{_wrap(node.left, 11)}^{_wrap(node.right, 9)}"
        return f"{_wrap(node.left, p)} {node.op} {_wrap(node.right, p + 1)}"
    if isinstance(node, ast.Call):
        return f"{(node.spelled or node.name)}({', '.join(_text(a) for a in node.args)})"
    if isinstance(node, ast.Aggregate):
        return _aggregate(node)
    raise TypeError(f"cannot unparse {type(node).__name__}")


def _aggregate(node: ast.Aggregate) -> str:
    source = node.form + (f".{node.field}" if node.field else "")
    parts = []
    if node.n is not None:
        parts.append(_text(node.n))
    parts.append(f"{source} where {_text(node.where) if node.where is not None else 'true'}")
    if node.condition is not None:
        parts.append(_text(node.condition))
    if node.order_by is not None:
        parts.append("order by " + ".".join(node.order_by))
    if node.within is not None:
        parts.append(f"within {_text(node.within)}")
    return f"{node.function}({', '.join(parts)})"


def literal_text(value: Any) -> str:
    """A value as expression text (strings double-quoted with JSON escapes)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # always has "." or an exponent, so it reads back as a decimal number
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return f'd"{value.isoformat()}"'
    if isinstance(value, date):
        return f'd"{value.isoformat()}"'
    if isinstance(value, timedelta):
        return _duration_text(value)
    if isinstance(value, CalendarDuration):
        rest = f" + {_duration_text(value.delta)}" if value.delta else ""
        return f"({value.months}mo{rest})" if rest else f"{value.months}mo"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def _duration_text(value: timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    for unit, size in _UNITS:
        if seconds and seconds % size == 0:
            return f"{sign}{int(seconds // size)}{unit}"
    if seconds == 0:
        return "0s"
    return f"{sign}{round(seconds * 1000)}ms" if (seconds * 1000).is_integer() else f"{sign}{seconds}s"
