"""Running a form's logic over one record: visibility, defaults and formulas in dependency
order, then the states (required, read-only) and rules that depend on the final values.

Values are the stored JSON forms throughout, except durations, which the expression language
reads as timedeltas (converted on the way in and back on the way out). A hidden field keeps no
value. Expressions that fail at run time (a division by zero in a formula) become located
problems, never 500s.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import Any

from engine.errors import Problem
from engine.expr import CompiledExpr, EvalContext, ExprError
from engine.expr.values import CalendarDuration, format_datetime_utc
from engine.forms.fieldtypes import FieldBase, FieldError
from engine.forms.fieldtypes.choice import _Choice
from engine.forms.fieldtypes.numbers import round_to
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.fieldtypes.temporal import DurationField
from engine.forms.logic import NO_DEFAULT, Logic, Step


@dataclass
class FieldState:
    visible: bool = True
    required: bool = False
    readonly: bool = False
    options: list[str] | None = None  # the options still offered, when a filter applies

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"visible": self.visible, "required": self.required, "readonly": self.readonly}
        if self.options is not None:
            out["options"] = self.options
        return out


@dataclass
class Evaluation:
    data: dict[str, Any]
    states: dict[str, FieldState] = field(default_factory=dict)  # "score", "measures[2].cost"
    problems: list[Problem] = field(default_factory=list)


def _truth(expr: CompiledExpr, data: Any, ctx: EvalContext, where: str, problems: list[Problem]) -> bool:
    try:
        return expr.evaluate(data, ctx) is True
    except ExprError as error:
        problems.append(_failure(error, where, expr))
        return False


def _failure(error: ExprError, where: str, expr: CompiledExpr) -> Problem:
    detail = {"en": error.message("en"), "zh-CN": error.message("zh-CN")}
    return Problem("record.expr_failed", {"expr": expr.text, "detail": detail}, path=where)


def to_stored(value: Any) -> Any:
    """A runtime value as stored JSON (durations stay timedelta until `_durations_out`)."""
    kind = type(value)
    if kind is int or kind is str or kind is bool or value is None:  # the usual results, first
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str | timedelta):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return format_datetime_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, CalendarDuration):
        return value.approx()
    if isinstance(value, list | tuple):
        return [to_stored(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_stored(v) for k, v in value.items()}
    return str(value)


# Formula results stored as they are (`to_stored`'s first cases): a column of them needs no conversion.
_PLAIN_RESULTS = frozenset((int, float, str, bool, type(None)))


class Runner:
    """One evaluation of a compiled form over `data` (mutated in place)."""

    def __init__(self, logic: Logic, data: dict[str, Any], ctx: EvalContext, *, creating: bool,
                 present: AbstractSet[str], duration_keys: tuple[set[str], dict[str, set[str]]],
                 fresh_rows: Mapping[str, Collection[int]] | None = None) -> None:
        self.logic = logic
        self.data = data
        self.ctx = ctx
        self.creating = creating
        # The form's fields the client gave. A row holds exactly the cells the client gave until
        # each cell's own step runs, so a cell's step reads "given" off the row itself.
        self.present = present
        # On an update, the sub-table rows the update adds (by index): they get their defaults.
        self.fresh_rows = fresh_rows or {}
        self.top_durations, self.row_durations = duration_keys
        self.result = Evaluation(data=data)
        self.row_ctx: dict[str, EvalContext] = {}

    def run(self) -> Evaluation:
        self._durations_in()
        hidden_tables: set[str] = set()
        for step in self.logic.steps:
            if step.subtable is None:
                self._top(step)
                if isinstance(step.field, SubtableField) and not self.result.states[step.name].visible:
                    hidden_tables.add(step.name)
            elif step.subtable not in hidden_tables:
                self._rows(step)
        self._durations_out()
        return self.result

    # --- values -------------------------------------------------------------------------------

    def _top(self, step: Step) -> None:
        key = step.field.key
        visible = not step.visible or all(_truth(v, self.data, self.ctx, step.path, self.result.problems)
                                          for v in step.visible)
        if visible and step.constant_state:  # its final state already (what `_states` would set)
            field = step.field
            self.result.states[key] = FieldState(True, field.required, field.readonly or field.computed)
        else:
            self.result.states[key] = FieldState(visible=visible)
        if not visible:
            self.data.pop(key, None)
            return
        if step.formula is None and not step.has_default:
            return  # a plain field: its value stays as given
        value = self._value(step, self.data, self.ctx, key in self.present, key, self.creating)
        if value is not _KEEP:
            self.data[key] = value

    def _rows(self, step: Step) -> None:
        table = step.subtable or ""
        rows = self.data.get(table)
        if not rows:
            return
        states = self.result.states
        paths = self.logic.cell_paths(step, len(rows))
        fresh = None if self.creating else self.fresh_rows.get(table)
        computes = step.formula is not None or (step.has_default and (self.creating or bool(fresh)))
        # A column without conditional states has the same state in every row: share it.
        shown = FieldState(True, step.field.required, step.field.readonly or step.field.computed) \
            if step.constant_state else None
        if not step.visible and not computes:  # the common plain column: only its states
            if shown is not None:
                states.update(zip(paths, repeat(shown, len(rows)), strict=False))
            else:
                for where, _ in zip(paths, rows, strict=False):
                    states[where] = FieldState()
            return
        ctx = self.row_ctx.get(table)
        if ctx is None:
            ctx = self.row_ctx[table] = self.ctx.with_variables(record=self.data)
        key = step.field.key
        problems = self.result.problems
        if not step.visible and step.formula is not None:  # a row formula always shown: just compute it
            self._row_formula(step, rows, paths, ctx, shown)
            return
        hidden = FieldState(visible=False)
        conditions = [(condition, condition.evaluate) for condition in step.visible]
        for index, (row, where) in enumerate(zip(rows, paths, strict=False)):
            visible = True
            for condition, holds in conditions:  # `_truth`, inline: this runs for every cell
                try:
                    visible = holds(row, ctx) is True
                except ExprError as error:
                    problems.append(_failure(error, where, condition))
                    visible = False
                if not visible:
                    break
            if not visible:
                states[where] = hidden
                row.pop(key, None)
                continue
            states[where] = shown or FieldState()
            if computes:
                new = self.creating or (fresh is not None and index in fresh)
                value = self._value(step, row, ctx, key in row, where, new)
                if value is not _KEEP:
                    row[key] = value

    def _row_formula(self, step: Step, rows: list[dict[str, Any]], paths: list[str], ctx: EvalContext,
                     shown: FieldState | None) -> None:
        """`_value` of a formula, row after row, without the per-row detours."""
        key, formula, decimals = step.field.key, step.formula, step.decimals
        assert formula is not None
        run = formula.evaluate
        states = self.result.states
        if shown is not None:  # one shared state: set every cell's at once, in the same order
            states.update(zip(paths, repeat(shown, len(rows)), strict=False))
            if decimals is None and self._column_at_once(key, run, rows, ctx):
                return
        isfinite = math.isfinite
        for row, where in zip(rows, paths, strict=False):
            if shown is None:
                states[where] = FieldState()
            try:
                value = run(row, ctx)
            except ExprError as error:
                self.result.problems.append(_failure(error, where, formula))
                row[key] = None
                continue
            kind = type(value)  # to_stored's usual cases, inline: this runs for every cell
            if not (kind is int or kind is str or kind is bool or value is None or (kind is float and isfinite(value))):
                value = to_stored(value)
            row[key] = value if decimals is None else round_result(value, decimals)

    @staticmethod
    def _column_at_once(key: str, run: Any, rows: list[dict[str, Any]], ctx: EvalContext) -> bool:
        """A row formula's whole column in one comprehension, stored when every result is a
        plain JSON value (no duration, date or non-finite number to convert) and none failed;
        False (nothing stored) sends the column through the row-by-row loop, which converts
        and reports. A formula reads its own row and the record, never its own column (that
        is a cycle, refused), so computing the column before storing it changes nothing."""
        try:
            values = [run(row, ctx) for row in rows]
        except ExprError:
            return False
        kinds = set(map(type, values))
        if not _PLAIN_RESULTS.issuperset(kinds):
            return False
        if float in kinds and not math.isfinite(sum(v for v in values if type(v) is float)):
            return False  # an inf or a nan among them (or a sum too big to tell): row by row
        for row, value in zip(rows, values, strict=True):
            row[key] = value
        return True

    def _value(self, step: Step, scope: dict[str, Any], ctx: EvalContext, given: bool, where: str,
               new: bool) -> Any:
        """The step's formula result; else its default when `new` (a created record, a row an
        update adds) and nothing was given; else _KEEP (leave the value as it is)."""
        if step.formula is not None:
            try:
                result = to_stored(step.formula.evaluate(scope, ctx))
            except ExprError as error:
                self.result.problems.append(_failure(error, where, step.formula))
                return None
            return round_result(result, step.decimals)
        if not new or given or scope.get(step.field.key) is not None:
            return _KEEP
        if step.default_value is not NO_DEFAULT:
            raw = step.default_value
        elif step.default is not None:
            try:
                raw = to_stored(step.default.evaluate(scope, ctx))
            except ExprError as error:
                self.result.problems.append(_failure(error, where, step.default))
                return _KEEP
        else:
            return _KEEP
        try:
            value = step.field.coerce(raw.total_seconds() if isinstance(raw, timedelta) else raw)
        except FieldError:
            return _KEEP
        return timedelta(seconds=value) if isinstance(step.field, DurationField) and value is not None else value

    # --- durations ----------------------------------------------------------------------------

    def _durations_in(self) -> None:
        for key in self.top_durations:
            if isinstance(self.data.get(key), int | float):
                self.data[key] = timedelta(seconds=self.data[key])
        for table, keys in self.row_durations.items():
            for row in self.data.get(table) or ():
                for key in keys:
                    if isinstance(row.get(key), int | float):
                        row[key] = timedelta(seconds=row[key])

    def _durations_out(self) -> None:
        """Durations back to whole seconds: only duration fields and formula results can hold
        one, so only those are looked at."""
        formula_top, formula_rows = self.logic.formula_keys
        for key in self.top_durations | formula_top:
            value = self.data.get(key)
            if isinstance(value, timedelta):
                self.data[key] = round(value.total_seconds())
        for table in self.row_durations.keys() | formula_rows.keys():
            keys = self.row_durations.get(table, set()) | formula_rows.get(table, set())
            for row in self.data.get(table) or ():
                for key in keys:
                    value = row.get(key)
                    if isinstance(value, timedelta):
                        row[key] = round(value.total_seconds())


def round_result(value: Any, decimals: int | None) -> Any:
    if decimals is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return round_to(value, decimals)


class _Keep:
    pass


_KEEP = _Keep()


def evaluate(logic: Logic, data: dict[str, Any], ctx: EvalContext, *, creating: bool,
             present: AbstractSet[str] = frozenset(), durations: tuple[set[str], dict[str, set[str]]] = (set(), {}),
             fresh_rows: Mapping[str, Collection[int]] | None = None) -> Evaluation:
    """Visibility, defaults and formulas, in dependency order; then required / read-only states
    and the option filters, on the final values. `present`: the fields the client gave (a
    sub-table row holds just the cells given); `fresh_rows`: on an update, the indexes of the
    sub-table rows it adds, which get their defaults as on create."""
    runner = Runner(logic, data, ctx, creating=creating, present=present, duration_keys=durations,
                    fresh_rows=fresh_rows)
    result = runner.run()
    for step in logic.steps:
        if step.constant_state:
            continue  # set as the value was: a field's in `_top`, a column's shared state in `_rows`
        if step.subtable is None:
            _states(step, data, ctx, result, step.field.key, step.field.key)
        else:
            row_ctx = runner.row_ctx.get(step.subtable) or ctx.with_variables(record=data)
            rows = data.get(step.subtable) or ()
            paths = logic.cell_paths(step, len(rows))
            if step.readonly_if is None and step.options_filter is None:
                _required_in_rows(step, rows, paths, row_ctx, result)
                continue
            for row, where in zip(rows, paths, strict=False):
                _states(step, row, row_ctx, result, step.field.key, where, scope_data=row)
    return result


def _required_in_rows(step: Step, rows: list[dict[str, Any]], paths: list[str], ctx: EvalContext,
                      result: Evaluation) -> None:
    """`_states` of a column whose only condition is `required_if`, row after row (the usual
    conditional column: "price is required when qty > 0")."""
    assert step.required_if is not None
    condition, states, problems = step.required_if, result.states, result.problems
    required, readonly = step.field.required, step.field.readonly or step.field.computed
    holds = condition.evaluate
    for row, where in zip(rows, paths, strict=False):
        state = states.get(where)
        if state is None:
            state = states[where] = FieldState()
        if not state.visible:
            continue
        if required:
            state.required = True
        else:
            try:  # `_truth`, inline: this runs for every cell
                state.required = holds(row, ctx) is True
            except ExprError as error:
                problems.append(_failure(error, where, condition))
                state.required = False
        state.readonly = readonly


def _states(step: Step, scope: dict[str, Any], ctx: EvalContext, result: Evaluation, key: str, where: str,
            scope_data: dict[str, Any] | None = None) -> None:
    state = result.states.get(where)
    if state is None:
        state = result.states[where] = FieldState()
    if not state.visible:
        return
    field: FieldBase = step.field
    if step.required_if is None and step.readonly_if is None and step.options_filter is None:
        state.required = field.required
        state.readonly = field.readonly or field.computed
        return
    state.required = field.required or (step.required_if is not None and
                                        _truth(step.required_if, scope, ctx, where, result.problems))
    state.readonly = field.readonly or field.computed or (
        step.readonly_if is not None and _truth(step.readonly_if, scope, ctx, where, result.problems))
    if step.options_filter is not None and isinstance(field, _Choice):
        offered = []
        for option in field.options:
            facts = {"value": option.value, "label": option.text(), "parent": option.parent, **option.data}
            if _truth(step.options_filter, scope, ctx.with_variables(option=facts), where, result.problems):
                offered.append(option.value)
        state.options = offered
