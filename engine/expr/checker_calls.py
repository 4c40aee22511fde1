"""Type checking of function calls and aggregates: arity, argument types against the
registry's signatures (with `T` type variables), IF/SWITCH branches, list-function bodies run
per element, and aggregates checked against the other form's fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.expr import ast
from engine.expr.functions import find_function, names
from engine.expr.functions.registry import FunctionSpec
from engine.expr.scopes import LambdaFrame, RowFrame, Scopes
from engine.expr.typerules import (
    CONDITIONISH,
    aggregate_type,
    arity_text,
    did_you_mean,
    label_of,
    match_param,
    substitute,
)
from engine.expr.types import (
    ANY,
    BOOLEAN,
    DURATION,
    INTEGER,
    NULL,
    NUMBER,
    TEXT,
    ListType,
    RecordType,
    Schema,
    Type,
    comparable,
    is_numeric,
    is_temporal,
    unify,
)

if TYPE_CHECKING:
    from engine.expr.checker import Analysis


class CallChecks:
    """Mixed into the Checker: everything about calls and aggregates."""

    analysis: Analysis
    scopes: Scopes
    resolve_form: Callable[[str], Schema | None] | None
    _lambda_counter: int

    if TYPE_CHECKING:  # provided by the Checker

        def report(self, code: str, node: ast.Node, **params: Any) -> None: ...

        def visit(self, node: ast.Node) -> Type: ...

        def _walk(self, node: ast.Node, current: Type, path: tuple[str, ...]) -> Type: ...

    # --- calls ----------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> Type:
        spec = find_function(node.name)
        if spec is None:
            self.report(
                "expr.unknown_function",
                node,
                name=node.spelled or node.name,
                hint=did_you_mean(node.name, names()),
            )
            for arg in node.args:
                self.visit(arg)
            return ANY
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            self.report("expr.arity", node, function=spec.name.upper(), expected=arity_text(spec), got=count)
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
                if is_condition and t not in CONDITIONISH:
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
                if BOOLEAN in param.types and arg_types[i] not in CONDITIONISH:
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
            if param is not None and not any(match_param(alt, t, bound) for alt in param.types):
                expected = " | ".join(str(alt) for alt in param.types)
                self.report(
                    "expr.arg_type",
                    arg,
                    function=spec.name.upper(),
                    index=i + 1,
                    expected=label_of(expected),
                    got=t.label(),
                )
        if callable(spec.result) and not isinstance(spec.result, Type):
            return spec.result(arg_types)
        return substitute(spec.result, bound)

    def _check_lambda(self, node: ast.Call, spec: FunctionSpec, index: int, arg_types: list[Type]) -> Type:
        list_type = arg_types[0] if arg_types else ANY
        if isinstance(list_type, ListType):
            element = list_type.item
        elif list_type in (ANY, NULL):
            element = ANY
        else:  # the argument itself is reported as a wrong type
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
        for part, wanted, index in ((node.n, INTEGER, 1), (node.within, DURATION, 2)):
            if part is None:
                continue
            t = self.visit(part)  # outside the row frame: these see outer values only
            if t not in (wanted, ANY):
                self.report(
                    "expr.arg_type",
                    part,
                    function=node.function,
                    index=index,
                    expected=wanted.label(),
                    got=t.label(),
                )
        field_type = self._aggregate_field(node, schema)
        self.scopes.frames.append(RowFrame(id(node), node.form, schema))
        try:
            for part in (node.where, node.condition):
                if part is not None:
                    t = self.visit(part)
                    if t not in CONDITIONISH:
                        self.report("expr.not_boolean", part, op="where", got=t.label())
        finally:
            self.scopes.frames.pop()
        if node.order_by is not None and schema is not None:
            self._walk(node, RecordType(schema), node.order_by)
        return aggregate_type(node.function, field_type)

    def _aggregate_field(self, node: ast.Aggregate, schema: Schema | None) -> Type:
        if node.field is None:
            return ANY
        if schema is None:
            return ANY
        found = self._walk(node, RecordType(schema), (node.field,))
        # min/max give the field's type (docs/expr.md): numbers, dates and text order in SQL alike.
        ok = is_numeric(found) or found == ANY or (node.function in ("min", "max")
                                                   and (is_temporal(found) or found == TEXT))
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
