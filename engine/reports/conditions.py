"""Row conditions of a dataset in SQL: expression filters (through the expression language's
SQL compiler), date ranges, the department subtree and field filters of a dashboard.

A filter is compiled as the `where` of an aggregate over the source — `count(src where …)` — so
every part that does not read the row (`today() - days(7)`, `viewer.department_id`) is evaluated
once into a literal and only comparisons of columns reach SQL. Problems are reported at the
filter's place in the definition, columns counted from the filter's first character.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, true
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import InvalidInput, Problem
from engine.expr import EvalContext, ExprError, Schema, bind, compile_expr
from engine.expr.types import parse_type
from engine.reports.periods import Period
from engine.reports.sources import SourceColumn, SourceView, departments_below
from engine.reports.sqlfn import SqlFunctions
from engine.store.expr_sql import to_sql

_SOURCE_NAME = "src"
_PREFIX = f"count({_SOURCE_NAME} where "
VIEWER_TYPE = {"id": "integer", "department_id": "integer", "username": "text"}


def source_schema(view: SourceView) -> Schema:
    # A rollup's month is text to expressions (rollups never serve filters on the date).
    return Schema(fields={k: parse_type("text" if c.kind == "month" else c.kind) for k, c in view.columns.items()},
                  name=_SOURCE_NAME)


def outer_schema() -> Schema:
    """What a filter may read besides the row: the viewer (for "my" dashboards)."""
    return Schema(name="filter").with_variables(viewer=dict(VIEWER_TYPE))


class ConditionCompiler:
    """Compiles the expression conditions of one dataset against one source."""

    def __init__(self, view: SourceView, fn: SqlFunctions, ctx: EvalContext) -> None:
        self.view = view
        self.fn = fn
        self.ctx = ctx
        self.schema = source_schema(view)
        self.used: set[str] = set()

    def _column(self, key: str) -> ColumnElement[Any]:
        found = self.view.columns.get(key)
        if found is None:
            raise ExprError(problems=[Problem("reports.unknown_field", {
                "field": key, "source": self.view.spec.kind, "known": ", ".join(sorted(self.view.columns)[:40])})])
        self.used.add(key)
        if found.native and found.kind == "datetime":
            return self.fn.as_iso_text(found.sql)
        return found.sql

    def expression(self, text: str, path: str) -> ColumnElement[bool]:
        outer = outer_schema()
        try:
            compiled = compile_expr(_PREFIX + text + ")", outer,
                                    resolve_form=lambda key: self.schema if key == _SOURCE_NAME else None)
            bound = bind(compiled.aggregates[0], {}, self.ctx, schema=outer)
            if bound.where is None:
                return true()
            return to_sql(bound.where, self._column, dialect_name=self.fn.dialect, schema=self.schema)
        except ExprError as error:
            problems = []
            for p in error.problems:
                column = p.column - len(_PREFIX) if p.column is not None and (p.line or 1) == 1 else p.column
                problems.append(Problem(p.code, p.params, path=path, line=p.line, column=column,
                                        severity=p.severity, text=p.text))
            raise InvalidInput("reports.bad_filter", problems=problems) from None


def in_period(column: SourceColumn, period: Period, tz: ZoneInfo) -> ColumnElement[bool]:
    """column ∈ [start, end) of local dates, in the column's own representation (so an index on
    it serves the range)."""
    if column.kind == "date":
        return and_(column.sql >= period.start.isoformat(), column.sql < period.end.isoformat())
    if column.kind == "month":  # a rollup's local month; periods over rollups are whole months
        return and_(column.sql >= period.start.strftime("%Y-%m"), column.sql < period.end.strftime("%Y-%m"))
    start, end = period.instants(tz)
    if column.native:
        return and_(column.sql >= start, column.sql < end)
    text = "%Y-%m-%dT%H:%M:%SZ"
    return and_(column.sql >= start.astimezone(UTC).strftime(text), column.sql < end.astimezone(UTC).strftime(text))


def in_department(view: SourceView, column: SourceColumn | None, department_id: int) -> ColumnElement[bool]:
    """Rows of a department or any department below it."""
    target = column.sql if column is not None else view.department
    if target is None:
        return false()
    return target.in_(departments_below(department_id))


def in_values(column: SourceColumn, values: Sequence[Any]) -> ColumnElement[bool]:
    typed = [_typed(column, v) for v in values]
    return column.sql.in_(typed) if typed else false()


def equals(column: SourceColumn, value: Any) -> ColumnElement[bool]:
    if value is None:
        return column.sql.is_(None)
    return column.sql == _typed(column, value)


def _typed(column: SourceColumn, value: Any) -> Any:
    if column.kind in ("integer", "number") and isinstance(value, str):
        try:
            return int(value) if column.kind == "integer" else float(value)
        except ValueError:
            raise InvalidInput("reports.invalid", problems=[
                Problem("reports.bad_value", {"value": value, "field": column.key})]) from None
    if column.kind == "boolean" and isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return value
