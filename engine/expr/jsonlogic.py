"""JSON Logic → an expression of ours, with JSON Logic's semantics kept.

Integrators migrate Form.io conditions and json-rules-engine rules this way. The converter
builds our AST and prints it, so the result is ordinary, readable expression text; where
JavaScript semantics differ from ours (truthiness, loose `==`, coercing `<`, string `+`) it
calls the compatibility functions (TRUTHY, LOOSE_EQ, LOOSE_LT, PARSE_FLOAT …) instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from engine.expr import ast
from engine.expr.errors import fail
from engine.expr.runtime import eq
from engine.expr.unparse import unparse

_IDENT = re.compile(r"^[^\W\d]\w*$")
_RESERVED = {
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "null",
    "where",
    "within",
    "order",
    "by",
    "item",
    "acc",
    "record",
}
_BOOLEAN_OPS = {"==", "===", "!=", "!==", "<", "<=", ">", ">=", "!", "!!", "in", "all", "some", "none"}


def from_jsonlogic(rule: Any) -> str:
    """Convert a JSON Logic rule (a dict/list/scalar as parsed from JSON) to expression text."""
    return unparse(_Converter().convert(rule, lambda_depth=0))


def _lit(value: Any) -> ast.Literal:
    return ast.Literal(value)


def _call(name: str, *args: ast.Node) -> ast.Call:
    return ast.Call(name, tuple(args), name.upper())


class _Converter:
    def convert(self, rule: Any, lambda_depth: int) -> ast.Node:
        if isinstance(rule, Mapping):
            if len(rule) != 1:
                raise fail("expr.runtime.unsupported_jsonlogic", detail="an object that is not one operation")
            ((op, args),) = rule.items()
            return self.operation(str(op), args, lambda_depth)
        if isinstance(rule, list):
            return ast.ListExpr(tuple(self.convert(r, lambda_depth) for r in rule))
        if isinstance(rule, float) and not math.isfinite(rule):
            raise fail("expr.runtime.unsupported_jsonlogic", detail=str(rule))
        if rule is None or isinstance(rule, bool | int | float | str):
            return _lit(rule)
        raise fail("expr.runtime.unsupported_jsonlogic", detail=type(rule).__name__)

    def operation(self, op: str, args: Any, depth: int) -> ast.Node:
        values = args if isinstance(args, list) else [args]
        handler = getattr(self, "op_" + _OP_NAMES.get(op, "_unknown"), None)
        if handler is None:
            raise fail("expr.runtime.unsupported_jsonlogic", detail=f"operator {op!r}")
        return handler(op, values, depth)

    def args(self, values: list[Any], depth: int) -> list[ast.Node]:
        return [self.convert(v, depth) for v in values]

    def truth(self, rule: Any, depth: int) -> ast.Node:
        node = self.convert(rule, depth)
        if _is_boolean(rule):
            return node
        if isinstance(node, ast.Literal) and isinstance(node.value, bool):
            return node
        return _call("truthy", node)

    # --- data access ----------------------------------------------------------------------
    def op_var(self, op: str, values: list[Any], depth: int) -> ast.Node:
        path = values[0] if values else None
        default = self.convert(values[1], depth) if len(values) > 1 else None
        base = ast.Name(("item",)) if depth else ast.Name(("record",))
        if path is None or path == "" or path == []:
            node: ast.Node = base
        elif isinstance(path, str | int) and not isinstance(path, bool):
            parts = str(path).split(".")
            plain = all(_IDENT.match(p) and p.lower() not in _RESERVED for p in parts)
            if depth < 0 and parts[0] in ("current", "accumulator"):  # inside reduce
                head = ast.Name(("item",) if parts[0] == "current" else ("acc",))
                node = _call("get", head, _lit(".".join(parts[1:]))) if len(parts) > 1 else head
            elif plain:
                node = ast.Name(("item", *parts) if depth else tuple(parts))
            else:
                node = _call("get", base, _lit(str(path)))
        else:
            node = _call("get", base, self.convert(path, depth))
        return _call("coalesce", node, default) if default is not None else node

    def op_missing(self, op: str, values: list[Any], depth: int) -> ast.Node:
        base = ast.Name(("item",)) if depth else ast.Name(("record",))
        return _call("missing", base, *self.args(values, depth))

    def op_missing_some(self, op: str, values: list[Any], depth: int) -> ast.Node:
        base = ast.Name(("item",)) if depth else ast.Name(("record",))
        need, keys = [*values, None, []][:2]
        return _call("missing_some", base, self.convert(need, depth), self.convert(keys, depth))

    # --- logic ----------------------------------------------------------------------------
    def op_if(self, op: str, values: list[Any], depth: int) -> ast.Node:
        if not values:
            return _lit(None)
        if len(values) == 1:
            return self.convert(values[0], depth)
        out: list[ast.Node] = []
        for i, value in enumerate(values):
            is_condition = i % 2 == 0 and i + 1 < len(values)
            out.append(self.truth(value, depth) if is_condition else self.convert(value, depth))
        return _call("if", *out)

    def op_bool(self, op: str, values: list[Any], depth: int) -> ast.Node:
        if not values:
            return _lit(None)
        if all(_is_boolean(v) for v in values):
            nodes = tuple(self.convert(v, depth) for v in values)
            return nodes[0] if len(nodes) == 1 else ast.BoolOp(op, nodes)
        return _call(f"{op}_value", *self.args(values, depth))

    def op_not(self, op: str, values: list[Any], depth: int) -> ast.Node:
        inner = self.truth(values[0] if values else None, depth)
        return ast.Unary("not", inner) if op == "!" else inner

    def op_equality(self, op: str, values: list[Any], depth: int) -> ast.Node:
        a, b = [*self.args(values, depth), _lit(None), _lit(None)][:2]
        if op in ("===", "!==") and isinstance(a, ast.Literal) and isinstance(b, ast.Literal):
            node: ast.Node = _lit(eq(a.value, b.value))  # e.g. 1 === "1": our checker refuses it
        elif op in ("===", "!=="):
            node = ast.Compare("==", a, b)
        else:
            node = _call("loose_eq", a, b)
        return ast.Unary("not", node) if op in ("!=", "!==") else node

    def op_relational(self, op: str, values: list[Any], depth: int) -> ast.Node:
        nodes = self.args(values, depth)
        fn = "loose_lt" if op in ("<", ">") else "loose_le"

        def pair(x: ast.Node, y: ast.Node) -> ast.Node:
            return _call(fn, x, y) if op in ("<", "<=") else _call(fn, y, x)

        if len(nodes) == 3 and op in ("<", "<="):
            return ast.BoolOp("and", (pair(nodes[0], nodes[1]), pair(nodes[1], nodes[2])))
        if len(nodes) < 2:
            raise fail("expr.runtime.unsupported_jsonlogic", detail=f"{op} needs two values")
        return pair(nodes[0], nodes[1])

    # --- numbers and text -----------------------------------------------------------------
    def op_arith(self, op: str, values: list[Any], depth: int) -> ast.Node:
        parse_float = op in ("+", "*")
        nodes = [self._number(n, parse_float) for n in self.args(values, depth)]
        if op == "+" and not nodes:
            return _lit(0)
        if op == "*" and not nodes:
            raise fail("expr.runtime.unsupported_jsonlogic", detail="* without values")
        if len(nodes) == 1:
            return ast.Unary("-", nodes[0]) if op == "-" else nodes[0]
        if op in ("+", "*"):
            result = nodes[0]
            for n in nodes[1:]:
                result = ast.Binary(op, result, n)
            return result
        if op == "%":
            return _call("rem", nodes[0], nodes[1])
        return ast.Binary(op, nodes[0], nodes[1])

    def _number(self, node: ast.Node, parse_float: bool) -> ast.Node:
        if (
            isinstance(node, ast.Literal)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            return node
        return _call("parse_float" if parse_float else "to_number", node)

    def op_minmax(self, op: str, values: list[Any], depth: int) -> ast.Node:
        return _call(op, *(self._number(n, False) for n in self.args(values, depth)))

    def op_in(self, op: str, values: list[Any], depth: int) -> ast.Node:
        a, b = [*self.args(values, depth), _lit(None), _lit(None)][:2]
        return ast.Compare("in", a, b)

    def op_cat(self, op: str, values: list[Any], depth: int) -> ast.Node:
        return _call("concat", *self.args(values, depth))

    def op_substr(self, op: str, values: list[Any], depth: int) -> ast.Node:
        return _call("substr", *self.args(values, depth))

    def op_merge(self, op: str, values: list[Any], depth: int) -> ast.Node:
        return _call("merge", *self.args(values, depth))

    def op_log(self, op: str, values: list[Any], depth: int) -> ast.Node:
        return self.convert(values[0] if values else None, depth)

    # --- arrays ---------------------------------------------------------------------------
    def op_array(self, op: str, values: list[Any], depth: int) -> ast.Node:
        source = self.convert(values[0] if values else [], depth)
        body_rule = values[1] if len(values) > 1 else None
        if op == "map":
            return _call("map", source, self.convert(body_rule, abs(depth) + 1))
        if op == "reduce":  # a negative depth marks reduce's {current, accumulator} scope
            initial = self.convert(values[2] if len(values) > 2 else None, depth)
            return _call("reduce", source, self.convert(body_rule, -(abs(depth) + 1)), initial)
        condition = self.truth(body_rule, abs(depth) + 1)
        if op == "filter":
            return _call("filter", source, condition)
        if op == "all":  # JSON Logic: false for an empty list
            return ast.BoolOp(
                "and", (ast.Compare(">", _call("count", source), _lit(0)), _call("all", source, condition))
            )
        return _call("any" if op == "some" else "none", source, condition)


_OP_NAMES = {
    "var": "var",
    "missing": "missing",
    "missing_some": "missing_some",
    "if": "if",
    "?:": "if",
    "and": "bool",
    "or": "bool",
    "!": "not",
    "!!": "not",
    "==": "equality",
    "===": "equality",
    "!=": "equality",
    "!==": "equality",
    "<": "relational",
    "<=": "relational",
    ">": "relational",
    ">=": "relational",
    "+": "arith",
    "-": "arith",
    "*": "arith",
    "/": "arith",
    "%": "arith",
    "min": "minmax",
    "max": "minmax",
    "in": "in",
    "cat": "cat",
    "substr": "substr",
    "merge": "merge",
    "log": "log",
    "map": "array",
    "filter": "array",
    "reduce": "array",
    "all": "array",
    "some": "array",
    "none": "array",
}


def _is_boolean(rule: Any) -> bool:
    """Does this JSON Logic rule always produce a real boolean?"""
    if isinstance(rule, bool):
        return True
    if isinstance(rule, Mapping) and len(rule) == 1:
        ((op, args),) = rule.items()
        if op in _BOOLEAN_OPS:
            return True
        if op in ("and", "or"):
            values = args if isinstance(args, list) else [args]
            return bool(values) and all(_is_boolean(v) for v in values)
    return False
