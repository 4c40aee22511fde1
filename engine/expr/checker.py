"""The type checker: every problem of an expression at definition time, all at once.

It infers a type for every node, resolves every name (see `scopes`), and collects problems —
unknown fields and functions with a did-you-mean, wrong arity, wrong argument types, text
compared with a number, `"text" + 3`. An erroneous node gets type `any` so one mistake does not
cascade into many. The compiler generates code from the `Analysis` this produces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem
from engine.expr import ast
from engine.expr.checker_calls import CallChecks
from engine.expr.errors import problem
from engine.expr.scopes import LAMBDA_NAMES, LambdaFrame, Resolution, Scopes
from engine.expr.typerules import (
    CONDITIONISH,
    arithmetic_type,
    did_you_mean,
    literal_type,
)
from engine.expr.types import (
    ANY,
    BOOLEAN,
    DATETIME,
    DURATION,
    NULL,
    NUMBER,
    TEXT,
    ListType,
    RecordType,
    Schema,
    Type,
    assignable,
    comparable,
    is_numeric,
    unify,
)

ResolveForm = Callable[[str], Schema | None]


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


class Checker(CallChecks):
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
        condition_ok = expected == BOOLEAN and result in CONDITIONISH
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

    def visit_Range(self, node: ast.Range, *, in_membership: bool = False) -> ListType:
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
                self.report(
                    "expr.unknown_field", node, name=head, hint=did_you_mean(head, self.scopes.candidates())
                )
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
                self.report(
                    "expr.unknown_field", node, name=part, hint=did_you_mean(part, target.schema.fields)
                )
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
            if operand not in CONDITIONISH:
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
                span = self.visit_Range(node.right, in_membership=True)
                self.analysis.types[id(node.right)] = span
                if not comparable(left, span.item, ordering=True):
                    self.report("expr.compare_types", node, left=left.label(), right=span.item.label())
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
            if t not in CONDITIONISH:
                self.report("expr.not_boolean", operand, op=node.op, got=t.label())
        return BOOLEAN


def analyse(
    root: ast.Node,
    schema: Schema,
    *,
    text: str | None = None,
    expected: Type | None = None,
    resolve_form: ResolveForm | None = None,
) -> Analysis:
    return Checker(schema, text, resolve_form).run(root, expected)
