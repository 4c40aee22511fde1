"""The type checker: every problem of an expression at definition time, all at once.

It infers a type for every node, resolves every name (see `scopes`), and collects problems —
unknown fields and functions with a did-you-mean, wrong arity, wrong argument types, text
compared with a number, `"text" + 3`. An erroneous node gets type `any` so one mistake does not
cascade into many. The compiler generates code from the `Analysis` this produces.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from engine.errors import Problem
from engine.expr import ast
from engine.expr.errors import problem
from engine.expr.functions import find_function, names
from engine.expr.functions.registry import FunctionSpec
from engine.expr.scopes import LAMBDA_NAMES, LambdaFrame, Resolution, RowFrame, Scopes
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
    Schema,
    Type,
    TypeVar,
    assignable,
    comparable,
    is_numeric,
    is_temporal,
    unify,
)
from engine.expr.values import CalendarDuration

ResolveForm = Callable[[str], Schema | None]
_CONDITIONISH = (BOOLEAN, ANY, NULL)


@dataclass
class Analysis:
    """What the checker learnt: types and name resolutions per node (keyed by id())."""

    root: ast.Node
    schema: Schema
    problems: list[Problem] = field(default_factory=list)
    types: dict[int, Type] = field(default_factory=dict)
    resolutions: dict[int, Resolution] = field(default_factory=dict)
    lambdas: dict[int, int] = field(default_factory=dict)  # Call id → lambda frame number
    aggregates: list[ast.Aggregate] = field(default_factory=list)
    references: set[str] = field(default_factory=set)
    row_schemas: dict[int, Schema | None] = field(default_factory=dict)  # Aggregate id → form schema
    binding_types: dict[str, Type] = field(default_factory=dict)  # lambda binding key → type

    def type_of(self, node: ast.Node) -> Type:
        return self.types.get(id(node), ANY)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def literal_type(value: Any) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, timedelta | CalendarDuration):
        return DURATION
    if isinstance(value, list | tuple):
        return ListType(unify(literal_type(v) for v in value) or ANY)
    return ANY


def _hint(name: str, candidates: Iterable[str]) -> dict[str, str]:
    pool = sorted(set(candidates))
    lowered = {c.lower(): c for c in pool}
    match = lowered.get(name.lower()) if name.lower() in lowered and lowered[name.lower()] != name else None
    if match is None:
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
        match = close[0] if close else None
    if match is None:
        return {"en": "", "zh-CN": ""}
    return {"en": f"; did you mean '{match}'?", "zh-CN": f"，是否是 “{match}”？"}


class Checker:
    def __init__(self, schema: Schema, text: str | None, resolve_form: ResolveForm | None) -> None:
        self.scopes = Scopes(schema)
        self.text = text
        self.resolve_form = resolve_form
        self.analysis: Analysis
        self._lambda_counter = 0

    # --- entry ----------------------------------------------------------------------------
    def run(self, root: ast.Node, expected: Type | None) -> Analysis:
        self.analysis = Analysis(root, self.scopes.schema)
        result = self.visit(root)
        condition_ok = expected == BOOLEAN and result in _CONDITIONISH
        if expected is not None and not assignable(result, expected) and not condition_ok:
            self.report("expr.expected_type", root, expected=expected.label(), got=result.label())
        return self.analysis

    def report(self, code: str, node: ast.Node, **params: Any) -> None:
        self.analysis.problems.append(
            problem(code, line=node.line, column=node.column, text=self.text, **params)
        )

    def visit(self, node: ast.Node) -> Type:
        method: Callable[[Any], Type] = getattr(self, "visit_" + type(node).__name__)
        result = method(node)
        self.analysis.types[id(node)] = result
        return result

    # --- leaves ---------------------------------------------------------------------------
    def visit_Literal(self, node: ast.Literal) -> Type:
        return literal_type(node.value)

    def visit_ListExpr(self, node: ast.ListExpr) -> Type:
        items = [self.visit(item) for item in node.items]
        return ListType(unify(items) or ANY) if items else ListType(ANY)

    def visit_Range(self, node: ast.Range, *, in_membership: bool = False) -> Type:
        low, high = self.visit(node.low), self.visit(node.high)
        if (
            not comparable(low, high, ordering=True)
            or BOOLEAN in (low, high)
            or TEXT in (low, high)
            or DURATION in (low, high)
        ):
            self.report(
                "expr.operand_types",
                node,
                op="..",
                left=low.label(),
                right=high.label(),
                hint={"en": "", "zh-CN": ""},
            )
            return ListType(ANY)
        item = unify([low, high]) or ANY
        if item == NULL:
            item = ANY
        if not in_membership and item in (NUMBER, DATETIME):
            self.report("expr.range_context", node)
        return ListType(item)

    def visit_Name(self, node: ast.Name) -> Type:
        head = node.path[0]
        found = self.scopes.resolve_head(head)
        if found is None:
            if head in LAMBDA_NAMES:
                self.report("expr.lambda_outside", node, name=head)
            else:
                self.report("expr.unknown_field", node, name=head, hint=_hint(head, self.scopes.candidates()))
            return ANY
        resolution, head_type, _ = found
        self.analysis.resolutions[id(node)] = resolution
        path = node.path if resolution.kind in ("element", "row") else node.path[1:]
        result = self._walk(node, head_type, path)
        self._reference(node, resolution)
        return result

    def _walk(self, node: ast.Node, current: Type, path: tuple[str, ...]) -> Type:
        """The type reached by following field names through records and subtables."""
        for part in path:
            if current in (ANY, NULL):
                return ANY
            target = current.item if isinstance(current, ListType) else current
            if isinstance(target, ListType):
                target = target.item
            if target == ANY:
                return ListType(ANY) if isinstance(current, ListType) else ANY
            if not isinstance(target, RecordType):
                self.report("expr.no_member", node, type=current.label(), name=part)
                return ANY
            found = target.schema.lookup(part)
            if found is None:
                self.report("expr.unknown_field", node, name=part, hint=_hint(part, target.schema.fields))
                return ANY
            if isinstance(current, ListType):
                current = found if isinstance(found, ListType) else ListType(found)
            else:
                current = found
        return current

    def _reference(self, node: ast.Name, resolution: Resolution) -> None:
        refs = self.analysis.references
        if resolution.kind == "field" or resolution.kind == "variable":
            refs.add(node.dotted)
        elif resolution.kind == "record" and len(node.path) > 1:
            refs.add(".".join(node.path[1:]))
        elif resolution.kind in ("local", "element"):
            frame = next(
                (
                    f
                    for f in self.scopes.frames
                    if isinstance(f, LambdaFrame)
                    and resolution.binding
                    and resolution.binding.startswith(f"L{f.number}:")
                ),
                None,
            )
            if frame is not None and frame.ref_prefix:
                rest = node.path if resolution.kind == "element" else node.path[1:]
                if resolution.binding and resolution.binding.endswith(":item"):
                    refs.add(".".join((frame.ref_prefix, *rest)))

    # --- operators ------------------------------------------------------------------------
    def visit_Unary(self, node: ast.Unary) -> Type:
        operand = self.visit(node.operand)
        if node.op == "not":
            if operand not in _CONDITIONISH:
                self.report("expr.not_boolean", node, op="not", got=operand.label())
            return BOOLEAN
        if is_numeric(operand) or operand in (ANY, NULL) or (node.op == "-" and operand == DURATION):
            return operand
        self.report(
            "expr.operand_types",
            node,
            op=node.op,
            left=operand.label(),
            right=operand.label(),
            hint={"en": "", "zh-CN": ""},
        )
        return ANY

    def visit_Binary(self, node: ast.Binary) -> Type:
        left, right = self.visit(node.left), self.visit(node.right)
        if node.op == "&":
            return TEXT
        result = arithmetic_type(node.op, left, right)
        if result is None:
            hint = {"en": "", "zh-CN": ""}
            if node.op == "+" and TEXT in (left, right):
                hint = {"en": " (use & or CONCAT to join text)", "zh-CN": "（连接文本请用 & 或 CONCAT）"}
            self.report(
                "expr.operand_types", node, op=node.op, left=left.label(), right=right.label(), hint=hint
            )
            return ANY
        return result

    def visit_Compare(self, node: ast.Compare) -> Type:
        left = self.visit(node.left)
        if node.op in ("in", "not in"):
            if isinstance(node.right, ast.Range):
                right = self.visit_Range(node.right, in_membership=True)
                self.analysis.types[id(node.right)] = right
                if not comparable(left, right.item, ordering=True):
                    self.report("expr.compare_types", node, left=left.label(), right=right.item.label())
                return BOOLEAN
            right = self.visit(node.right)
            if isinstance(right, ListType):
                if not comparable(left, right.item, ordering=False):
                    self.report("expr.compare_types", node, left=left.label(), right=right.item.label())
            elif right == TEXT:
                if left not in (TEXT, ANY, NULL):
                    self.report("expr.compare_types", node, left=left.label(), right=right.label())
            elif right not in (ANY, NULL):
                self.report("expr.compare_types", node, left=left.label(), right=right.label())
            return BOOLEAN
        right = self.visit(node.right)
        ordering = node.op not in ("==", "!=")
        if not comparable(left, right, ordering=ordering):
            self.report("expr.compare_types", node, left=left.label(), right=right.label())
        return BOOLEAN

    def visit_BoolOp(self, node: ast.BoolOp) -> Type:
        for operand in node.operands:
            t = self.visit(operand)
            if t not in _CONDITIONISH:
                self.report("expr.not_boolean", operand, op=node.op, got=t.label())
        return BOOLEAN

    # --- calls ----------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> Type:
        spec = find_function(node.name)
        if spec is None:
            self.report(
                "expr.unknown_function", node, name=node.spelled or node.name, hint=_hint(node.name, names())
            )
            for arg in node.args:
                self.visit(arg)
            return ANY
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            self.report("expr.arity", node, function=spec.name.upper(), expected=_arity_text(spec), got=count)
        if spec.name in ("if", "ifs", "switch"):
            return self._check_branches(node, spec)
        return self._check_generic(node, spec)

    def _check_branches(self, node: ast.Call, spec: FunctionSpec) -> Type:
        args = node.args
        values: list[Type] = []
        if spec.name == "switch":
            subject = self.visit(args[0]) if args else ANY
            rest = args[1:]
            for i, arg in enumerate(rest):
                t = self.visit(arg)
                if i % 2 == 0 and i + 1 < len(rest):
                    if not comparable(subject, t, ordering=False):
                        self.report("expr.compare_types", arg, left=subject.label(), right=t.label())
                else:
                    values.append(t)
        else:
            for i, arg in enumerate(args):
                t = self.visit(arg)
                is_condition = i % 2 == 0 and i + 1 < len(args)
                if is_condition and t not in _CONDITIONISH:
                    self.report(
                        "expr.arg_type",
                        arg,
                        function=spec.name.upper(),
                        index=i + 1,
                        expected=BOOLEAN.label(),
                        got=t.label(),
                    )
                elif not is_condition:
                    values.append(t)
        return unify(values) or ANY

    def _check_generic(self, node: ast.Call, spec: FunctionSpec) -> Type:
        bound: dict[str, Type] = {}
        arg_types: list[Type] = [ANY] * len(node.args)
        order = sorted(range(len(node.args)), key=lambda i: bool((p := spec.param_for(i)) and p.is_lambda))
        for i in order:
            param = spec.param_for(i)
            arg = node.args[i]
            if param is not None and param.is_lambda:
                arg_types[i] = self._check_lambda(node, spec, i, arg_types)
                if BOOLEAN in param.types and arg_types[i] not in _CONDITIONISH:
                    self.report(
                        "expr.arg_type",
                        arg,
                        function=spec.name.upper(),
                        index=i + 1,
                        expected=BOOLEAN.label(),
                        got=arg_types[i].label(),
                    )
                continue
            t = self.visit(arg)
            arg_types[i] = t
            if param is not None and not any(_match(alt, t, bound) for alt in param.types):
                expected = " | ".join(str(alt) for alt in param.types)
                self.report(
                    "expr.arg_type",
                    arg,
                    function=spec.name.upper(),
                    index=i + 1,
                    expected=_label_of(expected),
                    got=t.label(),
                )
        if callable(spec.result) and not isinstance(spec.result, Type):
            return spec.result(arg_types)
        return _substitute(spec.result, bound)

    def _check_lambda(self, node: ast.Call, spec: FunctionSpec, index: int, arg_types: list[Type]) -> Type:
        list_type = arg_types[0] if arg_types else ANY
        if isinstance(list_type, ListType):
            element = list_type.item
        elif list_type in (ANY, NULL):
            element = ANY
        else:
            self.report("expr.not_a_list", node.args[0], function=spec.name.upper(), got=list_type.label())
            element = ANY
        param = spec.param_for(index)
        assert param is not None
        number = self.analysis.lambdas.setdefault(id(node), self._next_lambda())
        bindings: dict[str, tuple[str, Type]] = {"item": (f"L{number}:item", element)}
        if "acc" in param.binds:
            initial = arg_types[2] if len(arg_types) > 2 else ANY
            bindings["acc"] = (f"L{number}:acc", initial if initial != NULL else ANY)
        for key, bound_type in bindings.values():
            self.analysis.binding_types[key] = bound_type
        source = node.args[0] if node.args else None
        prefix = source.dotted if isinstance(source, ast.Name) and self._is_root_field(source) else None
        self.scopes.frames.append(LambdaFrame(number, bindings, element, prefix))
        try:
            return self.visit(node.args[index])
        finally:
            self.scopes.frames.pop()

    def _is_root_field(self, node: ast.Name) -> bool:
        resolution = self.analysis.resolutions.get(id(node))
        return resolution is not None and resolution.kind == "field"

    def _next_lambda(self) -> int:
        self._lambda_counter += 1
        return self._lambda_counter

    # --- aggregates -----------------------------------------------------------------------
    def visit_Aggregate(self, node: ast.Aggregate) -> Type:
        self.analysis.aggregates.append(node)
        schema: Schema | None = None
        if self.resolve_form is not None:
            schema = self.resolve_form(node.form)
            if schema is None:
                self.report("expr.unknown_form", node, name=node.form, hint={"en": "", "zh-CN": ""})
        self.analysis.row_schemas[id(node)] = schema
        if node.n is not None:
            t = self.visit(node.n)
            if t not in (INTEGER, ANY):
                self.report(
                    "expr.arg_type",
                    node.n,
                    function=node.function,
                    index=1,
                    expected=INTEGER.label(),
                    got=t.label(),
                )
        if node.within is not None:
            t = self.visit(node.within)
            if t not in (DURATION, ANY):
                self.report(
                    "expr.arg_type",
                    node.within,
                    function=node.function,
                    index=2,
                    expected=DURATION.label(),
                    got=t.label(),
                )
        field_type = self._aggregate_field(node, schema)
        self.scopes.frames.append(RowFrame(id(node), node.form, schema))
        try:
            for part in (node.where, node.condition):
                if part is not None:
                    t = self.visit(part)
                    if t not in _CONDITIONISH:
                        self.report("expr.not_boolean", part, op="where", got=t.label())
        finally:
            self.scopes.frames.pop()
        if node.order_by is not None and schema is not None:
            self._walk(node, RecordType(schema), node.order_by)
        return _aggregate_type(node.function, field_type)

    def _aggregate_field(self, node: ast.Aggregate, schema: Schema | None) -> Type:
        if node.field is None:
            return ANY
        if schema is None:
            return ANY
        found = self._walk(node, RecordType(schema), (node.field,))
        ok = is_numeric(found) or found == ANY or (node.function in ("min", "max") and is_temporal(found))
        if not ok:
            self.report(
                "expr.arg_type",
                node,
                function=node.function,
                index=1,
                expected=NUMBER.label(),
                got=found.label(),
            )
        return found


def arithmetic_type(op: str, left: Type, right: Type) -> Type | None:
    """The result type of `left op right`, or None when the operator does not apply."""
    if ANY in (left, right):
        return ANY
    if NULL in (left, right):
        other = right if left == NULL else left
        return (
            other
            if other != NULL and (is_numeric(other) or other in (DATE, DATETIME, DURATION))
            else (NUMBER if other == NULL else None)
        )
    if is_numeric(left) and is_numeric(right):
        if op in ("+", "-", "*", "%") and left == right == INTEGER:
            return INTEGER
        return NUMBER
    if op in ("+", "-") and is_temporal(left) and right == DURATION:
        return left
    if op == "+" and left == DURATION and is_temporal(right):
        return right
    if op == "-" and is_temporal(left) and is_temporal(right):
        return DURATION
    if op in ("+", "-") and left == right == DURATION:
        return DURATION
    if op == "*" and DURATION in (left, right) and (is_numeric(left) or is_numeric(right)):
        return DURATION
    if op == "/" and left == DURATION and is_numeric(right):
        return DURATION
    if op == "/" and left == right == DURATION:
        return NUMBER
    return None


def _aggregate_type(function: str, field_type: Type) -> Type:
    if function == "count":
        return INTEGER
    if function in ("exists", "consecutive"):
        return BOOLEAN
    if function == "sum":
        return INTEGER if field_type == INTEGER else NUMBER if field_type != ANY else ANY
    if function == "avg":
        return NUMBER
    return field_type


def _match(expected: Type, actual: Type, bound: dict[str, Type]) -> bool:
    if isinstance(expected, TypeVar):
        previous = bound.get(expected.name)
        merged = actual if previous is None else unify([previous, actual])
        if merged is None:
            return False
        bound[expected.name] = merged
        return True
    if isinstance(expected, ListType) and isinstance(expected.item, TypeVar):
        if actual in (ANY, NULL):
            return True
        if not isinstance(actual, ListType):
            return False
        return _match(expected.item, actual.item, bound)
    return assignable(actual, expected)


def _substitute(result: Type, bound: dict[str, Type]) -> Type:
    if isinstance(result, TypeVar):
        found = bound.get(result.name, ANY)
        return ANY if found == NULL else found
    if isinstance(result, ListType):
        return ListType(_substitute(result.item, bound))
    return result


def _arity_text(spec: FunctionSpec) -> str:
    if spec.max_args is None:
        return f"≥ {spec.min_args}"
    if spec.min_args == spec.max_args:
        return str(spec.min_args)
    return f"{spec.min_args}–{spec.max_args}"


def _label_of(spelling: str) -> dict[str, str]:
    from engine.expr.values import type_label

    parts = [type_label(p.strip()) for p in spelling.split("|")]
    return {"en": " or ".join(p["en"] for p in parts), "zh-CN": "或".join(p["zh-CN"] for p in parts)}


def analyse(
    root: ast.Node,
    schema: Schema,
    *,
    text: str | None = None,
    expected: Type | None = None,
    resolve_form: ResolveForm | None = None,
) -> Analysis:
    return Checker(schema, text, resolve_form).run(root, expected)
