"""A form's expressions, compiled once per version, and the order they run in.

Every `visible_if`, `required_if`, `readonly_if`, `default`, `formula`, `validate` rule and
option filter is compiled with the one expression language against the form's schema. Inside a
sub-table row, bare names are the row's fields and `record.x` is a field of the form. Values
depend on each other through formulas, defaults and visibility (a hidden field holds no value),
so those form a graph; networkx orders it, and a cycle is refused naming every field in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from engine import i18n
from engine.errors import Problem
from engine.expr import CompiledExpr, ExprError, compile_expr
from engine.expr.types import BOOLEAN, RecordType, Schema, parse_type
from engine.forms.fieldtypes import FieldBase, ItemBase
from engine.forms.fieldtypes.choice import _Choice
from engine.forms.fieldtypes.computed import FormulaField
from engine.forms.fieldtypes.people import RelationField
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.model import SYSTEM_KEYS, FormDefinition
from engine.forms.structure import is_literal_default
from engine.jsonsource import path_text

FormResolver = Callable[[str], FormDefinition | None]
NO_DEFAULT = object()
_TYPE_TO_SQL = {"text": "text", "number": "number", "integer": "integer", "boolean": "boolean", "date": "text",
                "datetime": "text", "duration": "integer"}


@dataclass
class Check:
    expr: CompiledExpr
    message: dict[str, str]
    path: str


@dataclass
class Step:
    """How one field (or one sub-table column) gets its value and state."""

    name: str  # "score", or "measures.cost" for a sub-table column
    field: FieldBase
    path: str  # where in the definition, for problems: "fields[3]"
    subtable: str | None = None
    visible: list[CompiledExpr] = field(default_factory=list)
    formula: CompiledExpr | None = None
    default: CompiledExpr | None = None
    default_value: Any = NO_DEFAULT
    required_if: CompiledExpr | None = None
    readonly_if: CompiledExpr | None = None
    checks: list[Check] = field(default_factory=list)
    options_filter: CompiledExpr | None = None
    decimals: int | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not None or self.default_value is not NO_DEFAULT

    @property
    def constant_state(self) -> bool:
        """Is the field's state the same wherever it is shown (no conditional state)?"""
        return self.required_if is None and self.readonly_if is None and self.options_filter is None


@dataclass
class Logic:
    schema: Schema
    row_schemas: dict[str, Schema]
    steps: list[Step]  # in dependency order
    by_name: dict[str, Step]
    problems: list[Problem]
    formula_types: dict[str, str]
    # Formulas whose result may be a duration (typed so, or of no known type) — "score", and per
    # sub-table its columns: with duration fields, the only places a duration can appear.
    formula_keys: tuple[set[str], dict[str, set[str]]] = field(default_factory=lambda: (set(), {}))
    _paths: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def cell_paths(self, step: Step, count: int) -> list[str]:
        """`measures[0].qty`, `measures[1].qty`, … for the first `count` rows of a sub-table
        column: built once per form version and reused by every write (paths key the states
        and problems of every cell)."""
        paths = self._paths.get(step.name)
        if paths is None or len(paths) < count:
            prefix, suffix = f"{step.subtable}[", f"].{step.field.key}"
            paths = [f"{prefix}{i}{suffix}" for i in range(max(count, 2 * len(paths or ())))]
            self._paths[step.name] = paths
        return paths


def _collector(problems: list[Problem]) -> Callable[..., CompiledExpr | None]:
    def compile_at(text: str, schema: Schema, where: tuple[Any, ...], expected: Any = None,
                   resolve_form: FormResolver | None = None) -> CompiledExpr | None:
        try:
            return compile_expr(text, schema, expected=expected,
                                resolve_form=_expr_resolver(resolve_form) if resolve_form else None)
        except ExprError as error:
            for p in error.problems:
                params = dict(p.params)
                if p.line is not None:
                    params["expr_line"], params["expr_column"] = p.line, p.column
                problems.append(Problem(p.code, params, path=path_text(where), severity=p.severity,
                                        text=p.text))
            return None

    return compile_at


def _expr_resolver(resolve_form: FormResolver) -> Callable[[str], Schema | None]:
    def resolve(key: str) -> Schema | None:
        found = resolve_form(key)
        return found.expr_schema() if found is not None else None

    return resolve


def _infer_formula_types(definition: FormDefinition) -> dict[str, str]:
    """Result types of formulas without a declared `result`: compile each against a schema
    where undeclared formulas are `any`, twice, so a formula over a formula gets its type."""
    types: dict[str, str] = {}
    for _ in range(2):
        schema = definition.expr_schema(formula_types=types)
        row_schemas = _row_schemas(definition, schema, types)
        for item in definition.fields:
            if isinstance(item, FormulaField) and not item.result:
                _note_type(types, item.key, item.expr, schema)
            if isinstance(item, SubtableField):
                for row_field in item.fields:
                    if isinstance(row_field, FormulaField) and not row_field.result:
                        _note_type(types, f"{item.key}.{row_field.key}", row_field.expr, row_schemas[item.key])
    return types


def _note_type(types: dict[str, str], name: str, text: str, schema: Schema) -> None:
    try:
        kind = str(compile_expr(text, schema).type)
    except ExprError:
        return
    if kind not in ("any", "null"):
        types[name] = kind


def _row_schemas(definition: FormDefinition, schema: Schema, types: dict[str, str]) -> dict[str, Schema]:
    out = {}
    for sub in definition.subtables():
        fields = {f.key: parse_type(types.get(f"{sub.key}.{f.key}") or f.expr_type_spec())
                  for f in sub.value_fields()}
        out[sub.key] = Schema(fields=fields, variables={"record": RecordType(schema)},
                              name=f"{definition.key}.{sub.key}")
    return out


def _option_schema(item: _Choice, base: Schema) -> Schema:
    extra: dict[str, Any] = {"value": "text", "label": "text", "parent": "text"}
    for option in item.options:
        for key, value in option.data.items():
            extra.setdefault(key, "boolean" if isinstance(value, bool) else
                             "number" if isinstance(value, int | float) else "text")
    return base.with_variables(option=extra)


def compile_logic(definition: FormDefinition, resolve_form: FormResolver | None = None) -> Logic:
    problems: list[Problem] = []
    compile_at = _collector(problems)
    types = _infer_formula_types(definition)
    schema = definition.expr_schema(formula_types=types)
    row_schemas = _row_schemas(definition, schema, types)
    steps: list[Step] = []
    graph: nx.DiGraph = nx.DiGraph()
    order: dict[str, int] = {}

    def build(item: FieldBase, where: tuple[Any, ...], own: Schema, sub: SubtableField | None,
              section_visible: list[CompiledExpr]) -> Step:
        name = f"{sub.key}.{item.key}" if sub else item.key
        step = Step(name=name, field=item, path=path_text(where), subtable=sub.key if sub else None,
                    visible=list(section_visible))
        if item.visible_if:
            step.visible.append(compile_at(item.visible_if, own, (*where, "visible_if"), BOOLEAN))
        if isinstance(item, FormulaField):
            expected = parse_type(item.result) if item.result else None
            step.formula = compile_at(item.expr, own, (*where, "expr"), expected)
            step.decimals = item.decimals
        if item.default is not None and not item.computed:
            if is_literal_default(item, item.default):
                step.default_value = item.default
            else:
                step.default = compile_at(str(item.default), own, (*where, "default"))
        if item.required_if:
            step.required_if = compile_at(item.required_if, own, (*where, "required_if"), BOOLEAN)
        if item.readonly_if:
            step.readonly_if = compile_at(item.readonly_if, own, (*where, "readonly_if"), BOOLEAN)
        for i, rule in enumerate(item.checks):
            compiled = compile_at(rule.expr, own, (*where, "validate", i, "expr"), BOOLEAN)
            if compiled is not None:
                step.checks.append(Check(compiled, rule.message, path_text((*where, "validate", i))))
        if isinstance(item, _Choice) and item.options_filter:
            step.options_filter = compile_at(item.options_filter, _option_schema(item, own),
                                             (*where, "options_filter"), BOOLEAN)
        if isinstance(item, RelationField) and resolve_form is not None:
            target = resolve_form(item.form)
            if target is None:
                problems.append(Problem("form.unknown_form", {"form": item.form}, path=path_text((*where, "form"))))
            elif item.display_field and target.field(item.display_field) is None:
                problems.append(Problem("form.unknown_field", {"name": item.display_field},
                                        path=path_text((*where, "display_field"))))
        if isinstance(item, RelationField) and item.filter:
            target = resolve_form(item.form) if resolve_form else None
            other = target.expr_schema() if target else Schema(open=True, name=item.form)
            compile_at(item.filter, other.with_variables(record=RecordType(schema)), (*where, "filter"), BOOLEAN)
        step.visible = [v for v in step.visible if v is not None]
        return step

    section_conditions: dict[str, list[CompiledExpr]] = {}
    for index, item in enumerate(definition.fields):
        section = definition.section_of.get(item.key)
        inherited: list[CompiledExpr] = []
        if section is not None and section.visible_if:
            if section.key not in section_conditions:
                pos = definition.fields.index(section)
                compiled = compile_at(section.visible_if, schema, ("fields", pos, "visible_if"), BOOLEAN)
                section_conditions[section.key] = [compiled] if compiled else []
            inherited = section_conditions[section.key]
        if not isinstance(item, FieldBase):
            continue
        step = build(item, ("fields", index), schema, None, inherited)
        steps.append(step)
        if isinstance(item, SubtableField):
            for j, row_field in enumerate(item.fields):
                if isinstance(row_field, FieldBase):
                    steps.append(build(row_field, ("fields", index, "fields", j), row_schemas[item.key], item, []))

    by_name = {s.name: s for s in steps}
    for i, step in enumerate(steps):
        order[step.name] = i
        graph.add_node(step.name)
    for step in steps:
        for dep in _dependencies(step, definition, by_name):
            graph.add_edge(dep, step.name)
        if step.subtable:
            graph.add_edge(step.subtable, step.name)
    problems += _cycles(graph, by_name)
    if not problems or nx.is_directed_acyclic_graph(graph):
        sorted_names = list(nx.lexicographical_topological_sort(graph, key=lambda n: order[n])) \
            if nx.is_directed_acyclic_graph(graph) else [s.name for s in steps]
        steps = [by_name[n] for n in sorted_names]
    timed = [s for s in steps if s.formula is not None and
             (getattr(s.field, "result", None) or types.get(s.name)) in (None, "duration")]
    top = {s.field.key for s in timed if s.subtable is None}
    rows: dict[str, set[str]] = {}
    for s in timed:
        if s.subtable is not None:
            rows.setdefault(s.subtable, set()).add(s.field.key)
    return Logic(schema=schema, row_schemas=row_schemas, steps=steps, by_name=by_name, problems=problems,
                 formula_types=types, formula_keys=(top, rows))


def _value_expressions(step: Step) -> list[CompiledExpr]:
    """The expressions that decide the step's value (its visibility, formula, default)."""
    return [e for e in (*step.visible, step.formula, step.default) if e is not None]


def _dependencies(step: Step, definition: FormDefinition, steps: dict[str, Step]) -> set[str]:
    deps: set[str] = set()
    for expr in _value_expressions(step):
        for ref in expr.references:
            deps |= _resolve_ref(ref, step.subtable, definition, steps)
    deps.discard(step.subtable or "")
    return deps


def _resolve_ref(ref: str, subtable: str | None, definition: FormDefinition, steps: dict[str, Step]) -> set[str]:
    parts = ref.split(".")
    if subtable is not None:
        if parts[0] == "record":
            parts = parts[1:]
        else:
            name = f"{subtable}.{parts[0]}"
            return {name} if name in steps else set()
    if not parts or parts[0] in SYSTEM_KEYS or parts[0] not in steps:
        return set()
    head = steps[parts[0]]
    if isinstance(head.field, SubtableField):
        columns = [f"{head.name}.{f.key}" for f in head.field.value_fields()]
        if len(parts) > 1 and f"{head.name}.{parts[1]}" in steps:
            return {f"{head.name}.{parts[1]}"}
        return {head.name, *columns}
    return {head.name}


def _cycles(graph: nx.DiGraph, steps: dict[str, Step]) -> list[Problem]:
    problems = []
    for component in nx.strongly_connected_components(graph):
        names = sorted(component)
        if len(names) == 1 and not graph.has_edge(names[0], names[0]):
            continue
        first = min(names, key=lambda n: list(steps).index(n))
        problems.append(Problem("form.cycle", {"fields": " → ".join(_cycle_order(graph, component))},
                                path=steps[first].path))
    return problems


def _cycle_order(graph: nx.DiGraph, component: set[str]) -> list[str]:
    try:
        edges = nx.find_cycle(graph.subgraph(component))
        names = [edge[0] for edge in edges]
        return [*names, names[0]]
    except nx.NetworkXNoCycle:
        return sorted(component)


def expression_problems(definition: FormDefinition, resolve_form: FormResolver | None = None) -> list[Problem]:
    return compile_logic(definition, resolve_form).problems


def sql_kind_of(type_name: str | None) -> str | None:
    return _TYPE_TO_SQL.get(type_name or "")


def describe(item: ItemBase) -> str:
    return item.key


i18n.register_messages(
    {
        "form.unknown_form": {"zh-CN": "没有名为“{form}”的表单", "en": "There is no form “{form}”"},
        "form.cycle": {"zh-CN": "计算依赖形成循环：{fields}",
                       "en": "These fields depend on each other in a cycle: {fields}"},
    }
)
