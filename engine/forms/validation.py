"""Validating a record write: every problem of every field, in one pass.

Order: refuse writes to fields the caller may not write (permissions, read-only, per flow node);
coerce each given value by its field type; run the form's logic (visibility, defaults,
formulas); then check what is left — required fields that are visible, the JSON Schema of the
form (draft 2020-12, with `jsonschema`), each type's own checks (ID-card checksums, option
trees), `validate` rules and option filters. Problems are collected for every field and every
sub-table cell, never first-error-only; a value that failed coercion is not reported twice.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine import i18n
from engine.errors import Problem
from engine.expr import EvalContext
from engine.forms.compiled import CompiledForm
from engine.forms.evaluate import Evaluation, evaluate
from engine.forms.fieldtypes import FieldBase, FieldError, ValueContext
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.permissions import FieldPermissions


@dataclass
class Prepared:
    """The outcome: the data to store (computed values filled in), the problems, the writes the
    caller was not allowed to make, each field's state and the keys whose values changed."""

    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    forbidden: list[Problem] = field(default_factory=list)
    evaluation: Evaluation | None = None
    changed: list[str] = field(default_factory=list)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _error(exc: FieldError, path: str) -> Problem:
    return Problem(exc.code, exc.params, path=path)


def _copy(data: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (data or {}).items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [dict(row) for row in value]
        else:
            out[key] = value
    return out


class _IntakePlan(NamedTuple):
    """What step one needs of each field, looked up once per form version instead of per write:
    the field, its coercer (`FieldBase.coercer`: the usual input answered directly, the same
    result as `coerce`) and whether it is a sub-table; per sub-table the columns clients write."""

    fields: dict[str, tuple[FieldBase, Callable[[Any, ValueContext], Any], bool]]
    written_columns: dict[str, frozenset[str]]


def _intake_plan(compiled: CompiledForm) -> _IntakePlan:
    plan = compiled.plans.get("intake")
    if plan is None:
        fields = {item.key: (item, item.coercer(), isinstance(item, SubtableField))
                  for item in compiled.definition.value_fields()}
        written = {table.key: frozenset(k for k, coerce in table.coercers.items() if coerce is not None)
                   for table in compiled.definition.subtables()}
        plan = compiled.plans["intake"] = _IntakePlan(fields, written)
    return plan


class _Intake:
    """Step one: which given values may be written, coerced to their stored form."""

    def __init__(self, compiled: CompiledForm, before: Mapping[str, Any] | None, perms: FieldPermissions,
                 ctx: ValueContext, *, creating: bool, keep_computed: bool) -> None:
        self.plan = _intake_plan(compiled)
        self.before = before or {}
        self.perms = perms
        # No caller limits (the system, a role without field rules): only read-only fields lock.
        self.guarded = bool(perms.hidden or perms.readonly or perms.editable is not None)
        self.ctx = ctx
        self.creating = creating
        self.keep_computed = keep_computed
        self.problems: list[Problem] = []
        self.forbidden: list[Problem] = []
        self.bad: set[str] = set()
        self.present: set[str] = set()  # the fields given a (well-formed) value

    def take(self, incoming: Mapping[str, Any], data: dict[str, Any]) -> None:
        fields, ctx, guarded = self.plan.fields, self.ctx, self.guarded
        for key, raw in incoming.items():
            entry = fields.get(key)
            if entry is None:
                self.problems.append(Problem("record.unknown_field", {"name": key}, path=key))
                continue
            item, coerce, table = entry
            if item.computed and not (self.keep_computed and item.type == "serial"):
                continue  # the server computes it, whatever was sent
            try:
                value = coerce(raw, ctx)
            except FieldError as exc:
                self.problems.append(_error(exc, key))
                self.bad.add(key)
                continue
            if table and value is not None:
                value = self._rows(item, value, key)
            if (item.readonly or guarded) and not self._writable(item, key, value):
                continue
            data[key] = value
            self.present.add(key)

    def _writable(self, item: FieldBase, key: str, value: Any) -> bool:
        locked = self.perms.locks(key) or item.readonly
        if not locked:
            return True
        if not self.creating and _same(value, self.before.get(key)):
            return False  # an unchanged echo of a locked value is fine; nothing to write
        if self.creating and _empty(value):
            return False
        self.forbidden.append(Problem("record.field_locked", {"name": item.title()}, path=key))
        return False

    def _rows(self, table: SubtableField, rows: list[Mapping[str, Any]], path: str) -> list[dict[str, Any]]:
        """The sub-table's rows, cells coerced by each column's coercer (the hot loop of big
        sub-tables: kept lean); a row holds exactly the cells given a well-formed value.

        A row whose cells are all columns clients write is coerced in one comprehension; one
        with another key or a cell that does not coerce goes through the cell-by-cell walk,
        which reports each problem at its cell (coercion has no side effects, so redoing the
        row changes nothing)."""
        coercers, ctx = table.coercers, self.ctx
        written = self.plan.written_columns[table.key]
        out_rows = []
        for index, row in enumerate(rows):
            if row.keys() <= written:
                try:
                    out_rows.append({key: coercers[key](raw, ctx) for key, raw in row.items()})  # type: ignore[misc]
                    continue
                except FieldError:
                    pass
            out_rows.append(self._row(coercers, row, f"{path}[{index}]."))
        return out_rows

    def _row(self, coercers: Mapping[str, Callable[[Any, ValueContext], Any] | None], row: Mapping[str, Any],
             prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, raw in row.items():
            coerce = coercers.get(key)
            if coerce is None:
                if key not in coercers:
                    self.problems.append(Problem("record.unknown_field", {"name": key}, path=prefix + key))
                continue  # a computed column: the server computes it, whatever was sent
            try:
                out[key] = coerce(raw, self.ctx)
            except FieldError as exc:
                where = prefix + key
                self.problems.append(_error(exc, where))
                self.bad.add(where)
        return out


def _same(a: Any, b: Any) -> bool:
    if _empty(a) and _empty(b):
        return True
    return a == b


def prepare(compiled: CompiledForm, incoming: Mapping[str, Any], *, before: Mapping[str, Any] | None = None,
            permissions: FieldPermissions | None = None, value_ctx: ValueContext | None = None,
            eval_ctx: EvalContext | None = None, keep_computed: bool = False) -> Prepared:
    """Validate a create (`before` is None) or an update (a PATCH over `before`)."""
    creating = before is None
    perms = permissions or FieldPermissions()
    ctx = value_ctx or ValueContext()
    ectx = eval_ctx or EvalContext()
    if not isinstance(incoming, Mapping):
        return Prepared(data={}, problems=[Problem("record.not_object")])
    intake = _Intake(compiled, before, perms, ctx, creating=creating, keep_computed=keep_computed)
    data = _copy(before)
    intake.take(incoming, data)
    fresh = None if creating else _added_rows(compiled, before or {}, data, intake.present)
    result = evaluate(compiled.logic, data, ectx, creating=creating, present=intake.present,
                      durations=compiled.durations, fresh_rows=fresh)
    problems = intake.problems + result.problems
    bad = set(intake.bad)
    problems += _readonly_if(compiled, intake, before, data, result, ectx)
    problems += _required(compiled, data, result, perms, bad)
    problems += _schema(compiled, data, bad)
    problems += _type_checks(compiled, data, bad)
    problems += _rules(compiled, data, result, ectx, bad)
    changed = [] if creating else [k for k in sorted(set(data) | set(before or {}))
                                   if not _same(data.get(k), (before or {}).get(k))]
    return Prepared(data=data, problems=problems, forbidden=intake.forbidden, evaluation=result, changed=changed)


def _added_rows(compiled: CompiledForm, before: Mapping[str, Any], data: Mapping[str, Any],
               present: set[Any]) -> dict[str, set[int]]:
    """Per sub-table an update sends, the indexes of the rows it adds. Rows carry no id, so a
    row is one of the stored rows when its cells (computed columns and empty cells aside) equal
    a stored row's — each stored row matched once; any other row is new and gets its defaults
    like a row sent on create, while stored rows sent back keep their values."""
    out: dict[str, set[int]] = {}
    for table in compiled.definition.subtables():
        rows = data.get(table.key)
        if table.key not in present or not isinstance(rows, list):
            continue
        computed = {c.key for c in table.value_fields() if c.computed}
        stored = Counter(_row_signature(row, computed) for row in before.get(table.key) or ()
                         if isinstance(row, Mapping))
        fresh = set()
        for index, row in enumerate(rows):
            signature = _row_signature(row, computed)
            if stored[signature] > 0:
                stored[signature] -= 1
            else:
                fresh.add(index)
        if fresh:
            out[table.key] = fresh
    return out


def _row_signature(row: Mapping[str, Any], computed: set[str]) -> str:
    return json.dumps({k: v for k, v in row.items() if k not in computed and not _empty(v)}, sort_keys=True,
                      default=str)


def _readonly_if(compiled: CompiledForm, intake: _Intake, before: Mapping[str, Any] | None, data: dict[str, Any],
                 result: Evaluation, ctx: EvalContext) -> list[Problem]:
    problems = []
    for step in compiled.logic.steps:
        if step.readonly_if is None or step.subtable is not None or step.field.key not in intake.present:
            continue
        key = step.field.key
        if before is None:
            locked = result.states.get(key) is not None and result.states[key].readonly
        else:
            if _same(data.get(key), before.get(key)):
                continue
            try:
                locked = step.readonly_if.evaluate(dict(before), ctx) is True
            except Exception:  # an old record the rule cannot read: do not lock on a failure
                locked = False
        if locked:
            problems.append(Problem("record.field_readonly", {"name": step.field.title()}, path=key))
    return problems


def _required(compiled: CompiledForm, data: dict[str, Any], result: Evaluation, perms: FieldPermissions,
              bad: set[str]) -> list[Problem]:
    problems = []
    logic = compiled.logic
    for step in logic.steps:
        item = step.field
        if item.computed:
            continue
        if step.subtable is None:
            state = result.states.get(item.key)
            needed = state is not None and state.visible and (state.required or item.key in perms.required)
            if needed and item.key not in bad and _empty(data.get(item.key)):
                problems.append(Problem("field.required", {}, path=item.key))
            continue
        if not item.required and step.required_if is None:
            continue  # a column never required in any row
        rows = data.get(step.subtable) or ()
        if step.constant_state and not step.visible and rows:
            # Required in every row of a shown table (the rows of a hidden one are gone): no
            # per-cell state to look up, only the empty cells' paths to build.
            key = item.key
            empty = [i for i, row in enumerate(rows) if not (cell := row.get(key)) and _empty(cell)]
            if empty:
                paths = logic.cell_paths(step, len(rows))
                problems += [Problem("field.required", {}, path=paths[i]) for i in empty if paths[i] not in bad]
            continue
        for row, where in zip(rows, logic.cell_paths(step, len(rows)), strict=False):
            state = result.states.get(where)
            needed = state is not None and state.visible and state.required
            if needed and not (cell := row.get(item.key)) and where not in bad and _empty(cell):
                problems.append(Problem("field.required", {}, path=where))
    return problems


_SCHEMA_CODES = {"MaxLength": "field.too_long", "MinLength": "field.too_short", "Minimum": "field.below_min",
                 "Maximum": "field.above_max", "MinItems": "field.too_few", "MaxItems": "field.too_many",
                 "Pattern": "field.pattern", "UniqueItems": "field.duplicate_item"}


def _schema(compiled: CompiledForm, data: dict[str, Any], bad: set[str]) -> list[Problem]:
    if compiled.validator.is_valid(data):  # the usual case, a third faster than collecting no errors
        return []
    problems = []
    for error in compiled.validator.iter_errors(data):
        path = _path(error.instance_path)
        if any(path == b or path.startswith(b + ".") or path.startswith(b + "[") for b in bad):
            continue
        kind = type(error.kind).__name__
        if kind in _SCHEMA_CODES:
            limit = getattr(error.kind, "limit", None)
            problems.append(Problem(_SCHEMA_CODES[kind], {"limit": limit}, path=path or None))
        elif kind == "Enum":
            options = ", ".join(str(v) for v in (getattr(error.kind, "options", None) or []) if v is not None)
            problems.append(Problem("field.not_option", {"value": error.instance, "options": options}, path=path))
        elif kind == "AdditionalProperties":
            names = getattr(error.kind, "unexpected", None) or [""]
            for name in names:
                where = f"{path}.{name}" if path else name
                problems.append(Problem("record.unknown_field", {"name": name}, path=where))
        else:
            problems.append(Problem("field.invalid", {"detail": error.message}, path=path or None))
    return problems


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _type_checks(compiled: CompiledForm, data: dict[str, Any], bad: set[str]) -> list[Problem]:
    problems = []
    for item in compiled.definition.checked_fields:
        value = data.get(item.key)
        if value is None or item.key in bad:
            continue
        if isinstance(item, SubtableField):
            columns = item.checked_columns
            if not isinstance(value, list):
                continue
            for index, row in enumerate(value):
                for column in columns:
                    cell = row.get(column.key) if isinstance(row, dict) else None
                    if cell is None:
                        continue
                    where = f"{item.key}[{index}].{column.key}"
                    if where not in bad:
                        problems += [_error(e, where) for e in column.check(cell)]
            continue
        problems += [_error(e, item.key) for e in item.check(value)]
    return problems


def _rules(compiled: CompiledForm, data: dict[str, Any], result: Evaluation, ctx: EvalContext,
           bad: set[str]) -> list[Problem]:
    """`validate` rules of visible fields that have a value, and option filters."""
    problems: list[Problem] = []
    row_ctx: dict[str, EvalContext] = {}
    for step in compiled.logic.steps:
        if not step.checks and step.options_filter is None:
            continue
        if step.subtable is None:
            scopes = [(step.field.key, data, ctx)]
        else:
            rctx = row_ctx.setdefault(step.subtable, ctx.with_variables(record=data))
            scopes = [(f"{step.subtable}[{i}].{step.field.key}", row, rctx)
                      for i, row in enumerate(data.get(step.subtable) or ())]
        for where, scope, sctx in scopes:
            state = result.states.get(where)
            value = scope.get(step.field.key)
            if where in bad or value is None or (state is not None and not state.visible):
                continue
            for rule in step.checks:
                try:
                    ok = rule.expr.evaluate(scope, sctx) is True
                except Exception as exc:  # a rule that cannot be evaluated refuses, with why
                    problems.append(Problem("record.expr_failed", {"expr": rule.expr.text, "detail": str(exc)},
                                            path=where))
                    continue
                if not ok:
                    problems.append(Problem("record.check", {"message": rule.message}, path=where))
            if state is not None and state.options is not None:
                values = value if isinstance(value, list) else [value]
                for chosen in values:
                    if chosen not in state.options:
                        problems.append(Problem("field.option_filtered", {"value": chosen}, path=where))
    return problems


i18n.register_messages(
    {
        "record.invalid": {"zh-CN": "记录有 {count} 处问题", "en": "The record has {count} problem(s)"},
        "record.not_object": {"zh-CN": "记录数据应为 JSON 对象", "en": "Record data is a JSON object"},
        "record.unknown_field": {"zh-CN": "表单中没有字段“{name}”", "en": "The form has no field “{name}”"},
        "record.field_locked": {"zh-CN": "无权修改字段“{name}”", "en": "You may not change the field “{name}”"},
        "record.fields_locked": {"zh-CN": "无权修改 {count} 个字段", "en": "You may not change {count} field(s)"},
        "record.field_readonly": {"zh-CN": "字段“{name}”当前不可修改",
                                  "en": "The field “{name}” cannot be changed now"},
        "record.check": {"zh-CN": "{message}", "en": "{message}"},
        "record.expr_failed": {"zh-CN": "表达式 {expr} 计算失败：{detail}",
                               "en": "The expression {expr} failed: {detail}"},
    }
)
