"""AST → Python source, built only from the AST and the checker's analysis.

Nothing of the author's text is ever pasted into the source: literals go through `repr` (only
for int/float/str/bool/None) or become named constants, field names appear only as `repr`'d
dictionary keys, and function names are registry keys. Typed, common cases are inlined with
walrus temporaries (`(_1 := d.get('age')) is not None and _1 > 24`) so a compiled condition
runs at the speed of a hand-written lambda; everything else calls `engine.expr.runtime`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.expr import ast
from engine.expr.checker import Analysis
from engine.expr.functions import find_function
from engine.expr.functions.registry import FunctionSpec
from engine.expr.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    INTEGER,
    NULL,
    NUMBER,
    TEXT,
    ListType,
    RecordType,
    Type,
    is_numeric,
    is_temporal,
)

_HELPER = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_NON_NULL_RESULTS = (BOOLEAN, INTEGER)
_PLAIN_LITERALS = (int, float, str, bool, type(None))


class CodeGen:
    """Generates the body of `def _expr(d, c=None): return <body>` for one analysed AST."""

    def __init__(
        self,
        analysis: Analysis,
        *,
        plan_for: Callable[[ast.Aggregate], Any] | None = None,
        trace: bool = False,
        scope_param: str | None = None,
        subscript_fields: bool = False,
        const_prefix: str = "_k",
    ) -> None:
        self.a = analysis
        # Fast variant: read fields with d["x"] (a missing one raises KeyError and the caller
        # falls back to the d.get variant), which is what a hand-written lambda costs.
        self.subscript_fields = subscript_fields
        self.const_prefix = const_prefix
        self.plan_for = plan_for
        self.trace = trace
        self.scope_param = scope_param  # plan mode: lambda bindings come from this dict
        self.consts: dict[str, Any] = {}
        self.functions: dict[str, Callable[..., Any]] = {}
        self.env: dict[str, str] = {}
        self.traced: list[ast.Node] = []
        self.uses_budget = False
        self._tmp = 0

    # --- helpers --------------------------------------------------------------------------
    def tmp(self) -> str:
        self._tmp += 1
        return f"_{self._tmp}"

    def const(self, value: Any) -> str:
        name = f"{self.const_prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def t(self, node: ast.Node) -> Type:
        return self.a.type_of(node)

    def nullable(self, node: ast.Node) -> bool:
        if isinstance(node, ast.Literal):
            return node.value is None
        if isinstance(node, ast.ListExpr | ast.Compare | ast.BoolOp):
            return False
        if isinstance(node, ast.Unary):
            return node.op != "not" and self.nullable(node.operand)
        if isinstance(node, ast.Binary):
            if node.op == "&":
                return False
            if node.op in ("/", "%", "^") or not (
                is_numeric(self.t(node.left)) and is_numeric(self.t(node.right))
            ):
                return True
            return self.nullable(node.left) or self.nullable(node.right)
        if isinstance(node, ast.Call):
            spec = find_function(node.name)
            if spec is None:
                return True
            if spec.name in ("and", "or", "not") or spec.never_null:
                return False
            never_null = (
                spec.impl is not None and not spec.propagate_null and self.t(node) in _NON_NULL_RESULTS
            )
            return not never_null
        if isinstance(node, ast.Name):
            resolution = self.a.resolutions.get(id(node))
            return not (resolution is not None and resolution.kind == "record" and len(node.path) == 1)
        return True

    # --- entry points ---------------------------------------------------------------------
    def expr(self, node: ast.Node) -> str:
        code = getattr(self, "_" + type(node).__name__)(node)
        if self.trace and not self.env and not isinstance(node, ast.Literal):
            self.traced.append(node)
            code = f"_r({len(self.traced) - 1}, {code})"
        return code

    def cond(self, node: ast.Node) -> str:
        """Code that is a real Python bool, whatever the node's type (null → False)."""
        t = self.t(node)
        code = self.expr(node)
        if t == BOOLEAN:
            return f"({code} is True)" if self.nullable(node) else code
        if t == NULL:
            return "False"
        return f"_truth({code})"

    # --- leaves ---------------------------------------------------------------------------
    def _Literal(self, node: ast.Literal) -> str:
        value = node.value
        if isinstance(value, _PLAIN_LITERALS) and not (isinstance(value, float) and not math.isfinite(value)):
            return repr(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            return f"_rt.local_literal({self.const(value)}, c)"
        return self.const(value)

    def _ListExpr(self, node: ast.ListExpr) -> str:
        return "[" + ", ".join(self.expr(item) for item in node.items) + "]"

    def _Range(self, node: ast.Range) -> str:
        return f"_ls.range_list({self.expr(node.low)}, {self.expr(node.high)})"

    def _Name(self, node: ast.Name) -> str:
        resolution = self.a.resolutions[id(node)]
        kind = resolution.kind
        if kind == "row":
            raise ValueError("candidate-row fields are only read by the data source")
        if kind == "field":
            read = f"d[{node.path[0]!r}]" if self.subscript_fields else f"d.get({node.path[0]!r})"
            base, base_type, path = read, self._root_type(node.path[0]), node.path[1:]
        elif kind == "variable":
            base, base_type = (
                f"_rt.variable(c, {node.path[0]!r})",
                self.a.schema.variables.get(node.path[0], ANY),
            )
            path = node.path[1:]
        elif kind == "record":
            base, base_type, path = "d", RecordType(self.a.schema), node.path[1:]
        else:
            assert resolution.binding is not None
            base = self._binding(resolution.binding)
            element_type = self._binding_type(resolution.binding)
            base_type, path = element_type, (node.path if kind == "element" else node.path[1:])
        code = self._access(base, base_type, path)
        return self._coerce(code, self.t(node))

    def _root_type(self, name: str) -> Type:
        return self.a.schema.fields.get(name, ANY)

    def _binding(self, key: str) -> str:
        if key in self.env:
            return self.env[key]
        if self.scope_param is not None:
            return f"{self.scope_param}.get({key!r})"
        raise ValueError(f"unbound lambda name {key}")

    def _binding_type(self, key: str) -> Type:
        return self.a.binding_types.get(key, ANY)

    def _access(self, base: str, base_type: Type, path: tuple[str, ...]) -> str:
        code, current = base, base_type
        for index, part in enumerate(path):
            if isinstance(current, RecordType):
                tmp = self.tmp()  # dicts only: never call a method of another Python object
                fallback = f"_ls.get_path({tmp}, {(part,)!r})"
                code = f"({tmp}.get({part!r}) if type({tmp} := {code}) is _dict else {fallback})"
                current = current.schema.lookup(part) or ANY
            else:
                return f"_ls.get_path({code}, {tuple(path[index:])!r})"
        return code

    def _coerce(self, code: str, t: Type) -> str:
        """Dates arrive as ISO text in JSON records: convert on read."""
        if t == DATE:
            tmp = self.tmp()
            return f"({tmp} if type({tmp} := {code}) is _date else _rt.as_date({tmp}, c))"
        if t == DATETIME:
            tmp = self.tmp()
            return (
                f"({tmp} if type({tmp} := {code}) is _datetime and {tmp}.tzinfo is not None "
                f"else _rt.as_datetime({tmp}, c))"
            )
        if isinstance(t, ListType) and t.item in (DATE, DATETIME):
            return f"_ls.dates_in({code}, {t.item == DATETIME!r}, c)"
        return code

    # --- operators ------------------------------------------------------------------------
    def _Unary(self, node: ast.Unary) -> str:
        if node.op == "not":
            return f"(not {self.cond(node.operand)})"
        t = self.t(node.operand)
        operand = self.expr(node.operand)
        if is_numeric(t):
            if node.op == "+":
                return operand
            if not self.nullable(node.operand):
                return f"(-{operand})"
            tmp = self.tmp()
            return f"(None if ({tmp} := {operand}) is None else -{tmp})"
        return f"_rt.{'neg' if node.op == '-' else 'pos'}({operand}, c)"

    def _Binary(self, node: ast.Binary) -> str:
        left, right = self.expr(node.left), self.expr(node.right)
        if node.op == "&":
            return f"_rt.concat({left}, {right})"
        lt, rt = self.t(node.left), self.t(node.right)
        if node.op == "-" and lt == rt and lt in (DATE, DATETIME):
            return self._null_safe("{a} - {b}", left, right, node)
        if not (is_numeric(lt) and is_numeric(rt)) or node.op in ("%", "^"):
            helper = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "^": "power"}[node.op]
            return f"_rt.{helper}({left}, {right}, c)"
        if node.op == "/":
            a, b = self.tmp(), self.tmp()
            return f"(None if ({a} := {left}) is None or not ({b} := {right}) else {a} / {b})"
        tests: list[str] = []
        guards: list[str] = []
        if self.nullable(node.left):
            a = self.tmp()
            tests.append(f"({a} := {left}) is None")
            guards.append(f"type({a}) in _NUMS")
            left = a
        if self.nullable(node.right):
            b = self.tmp()
            tests.append(f"({b} := {right}) is None")
            guards.append(f"type({b}) in _NUMS")
            right = b
        result = f"{left} {node.op} {right}"
        if node.op == "*" and guards:  # never let text * number repeat text from bad data
            result = f"{result} if {' and '.join(guards)} else _rt.mul({left}, {right}, c)"
        if not tests:
            return f"({result})"
        return f"(None if {' or '.join(tests)} else {result})"

    def _null_safe(self, template: str, left: str, right: str, node: ast.Binary) -> str:
        tests = []
        if self.nullable(node.left):
            a = self.tmp()
            tests.append(f"({a} := {left}) is None")
            left = a
        if self.nullable(node.right):
            b = self.tmp()
            tests.append(f"({b} := {right}) is None")
            right = b
        result = template.format(a=left, b=right)
        return f"(None if {' or '.join(tests)} else {result})" if tests else f"({result})"

    def fixed_duration(self, node: ast.Node) -> bool:
        """Is this duration certainly a plain timedelta (never calendar months)?"""
        if isinstance(node, ast.Literal):
            return isinstance(node.value, timedelta)
        if isinstance(node, ast.Binary) and node.op == "-":
            return self.t(node.left) == self.t(node.right) and self.t(node.left) in (DATE, DATETIME)
        if isinstance(node, ast.Call):
            return node.name in ("days", "hours", "minutes", "weeks")
        if isinstance(node, ast.Unary):
            return node.op == "-" and self.fixed_duration(node.operand)
        return False

    def _Compare(self, node: ast.Compare) -> str:
        if node.op in ("in", "not in"):
            code = self._membership(node)
            return f"(not {code})" if node.op == "not in" else code
        lt, rt = self.t(node.left), self.t(node.right)
        left, right = self.expr(node.left), self.expr(node.right)
        if {lt, rt} == {DATE, DATETIME}:
            left = f"_rt.as_datetime({left}, c)" if lt == DATE else left
            right = f"_rt.as_datetime({right}, c)" if rt == DATE else right
            lt = rt = DATETIME
        simple = lt == rt or (is_numeric(lt) and is_numeric(rt)) or NULL in (lt, rt)
        fixed = lt == rt == DURATION and self.fixed_duration(node.left) and self.fixed_duration(node.right)
        typed = (
            simple
            and ANY not in (lt, rt)
            and (DURATION not in (lt, rt) or fixed)
            and not isinstance(lt, ListType | RecordType)
        )
        if node.op in ("==", "!="):
            if isinstance(node.right, ast.Literal) and node.right.value is None:
                return f"({left} is {'' if node.op == '==' else 'not '}None)"
            if isinstance(node.left, ast.Literal) and node.left.value is None:
                return f"({right} is {'' if node.op == '==' else 'not '}None)"
            if typed and lt in (TEXT, INTEGER, NUMBER, BOOLEAN, DATE, DATETIME, NULL):
                return f"({left} {node.op} {right})"
            plain = _plain_text(node.right) if lt == ANY else _plain_text(node.left) if rt == ANY else None
            if plain is not None:  # an untyped value against a text that is no date: no context
                other = left if lt == ANY else right
                return f"({'' if node.op == '==' else 'not '}_rt.eq_text({other}, {plain!r}))"
            helper = "eq" if node.op == "==" else "ne"
            return f"_rt.{helper}({left}, {right}, c)"
        if not typed:
            return f"_rt.{_HELPER[node.op]}({left}, {right}, c)"
        return self._ordered(node.op, left, right, self.nullable(node.left), self.nullable(node.right))

    def _ordered(self, op: str, left: str, right: str, ln: bool, rn: bool) -> str:
        if not ln and not rn:
            return f"({left} {op} {right})"
        parts = []
        if ln:
            a = self.tmp()
            parts.append(f"({a} := {left}) is not None")
            left = a
        if rn:
            b = self.tmp()
            parts.append(f"({b} := {right}) is not None")
            right = b
        return "(" + " and ".join([*parts, f"{left} {op} {right}"]) + ")"

    def _membership(self, node: ast.Compare) -> str:
        item_type = self.t(node.left)
        if isinstance(node.right, ast.Range):
            low_t, high_t = self.t(node.right.low), self.t(node.right.high)
            same = (is_numeric(item_type) and is_numeric(low_t) and is_numeric(high_t)) or (
                item_type == low_t == high_t and is_temporal(item_type)
            )
            item, low, high = self.expr(node.left), self.expr(node.right.low), self.expr(node.right.high)
            if same and not self.nullable(node.right.low) and not self.nullable(node.right.high):
                tmp = self.tmp()
                return f"(({tmp} := {item}) is not None and {low} <= {tmp} <= {high})"
            return f"_rt.in_range({item}, {low}, {high}, c)"
        right = node.right
        if (
            isinstance(right, ast.ListExpr)
            and right.items
            and item_type in (TEXT, INTEGER, NUMBER)
            and all(isinstance(i, ast.Literal) and type(i.value) in (str, int, float) for i in right.items)
        ):
            values = frozenset(i.value for i in right.items if isinstance(i, ast.Literal))
            return f"({self.expr(node.left)} in {self.const(values)})"
        return f"_rt.contains({self.expr(right)}, {self.expr(node.left)}, c)"

    def _BoolOp(self, node: ast.BoolOp) -> str:
        return "(" + f" {node.op} ".join(self.cond(o) for o in node.operands) + ")"

    # --- calls ----------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> str:
        spec = find_function(node.name)
        assert spec is not None, node.name
        if spec.inline is not None:
            return spec.inline(self._inline_args(node, spec), self.tmp)
        name = f"_f_{spec.name}"
        self.functions[name] = spec.impl  # type: ignore[assignment]
        if spec.fast is not None and len(node.args) == len(spec.params):
            return spec.fast([self.expr(a) for a in node.args], self.tmp, name)
        args: list[str] = []
        if spec.needs_context:
            args.append("c")
        if spec.uses_budget:
            self.uses_budget = True
            args.append("_w")
        for i, arg in enumerate(node.args):
            param = spec.param_for(i)
            if param is not None and param.is_lambda:
                args.append(self._lambda(node, param.binds, arg, BOOLEAN in param.types))
            else:
                args.append(self.expr(arg))
        return f"{name}({', '.join(args)})"

    def _inline_args(self, node: ast.Call, spec: FunctionSpec) -> list[str]:
        out = []
        count = len(node.args)
        for i, arg in enumerate(node.args):
            if spec.name in ("if", "ifs"):
                is_condition = i % 2 == 0 and i + 1 < count
            else:
                param = spec.param_for(i)
                is_condition = param is not None and param.types == (BOOLEAN,)
            out.append(self.cond(arg) if is_condition else self.expr(arg))
        return out

    def _lambda(self, node: ast.Call, binds: tuple[str, ...], body: ast.Node, boolean: bool) -> str:
        number = self.a.lambdas[id(node)]
        names = {f"L{number}:{b}": f"_L{number}_{b}" for b in binds}
        saved = dict(self.env)
        self.env.update(names)
        try:
            code = self.cond(body) if boolean else self.expr(body)
        finally:
            self.env = saved
        return f"(lambda {', '.join(names.values())}: {code})"

    def _Aggregate(self, node: ast.Aggregate) -> str:
        if self.plan_for is None:
            raise ValueError("aggregates need a plan builder")
        plan = self.const(self.plan_for(node))
        scope = "{" + ", ".join(f"{k!r}: {v}" for k, v in self.env.items()) + "}" if self.env else "None"
        if self.scope_param is not None and not self.env:
            scope = self.scope_param
        return f"_agg(c, {plan}, d, {scope})"


def _plain_text(node: ast.Expr) -> str | None:
    """A text literal that reads as no date or time (`"l1"`, not `"2026-01-01"`): `==` against it is
    plain string equality whatever the other side holds, so it needs no site time zone."""
    if not isinstance(node, ast.Literal) or type(node.value) is not str:
        return None
    from engine.expr.errors import ExprError
    from engine.expr.values import to_date, to_datetime

    for parse in (to_date, lambda text: to_datetime(text, UTC)):
        try:
            parse(node.value)
        except (ExprError, ValueError, OverflowError):
            continue
        return None
    return node.value
