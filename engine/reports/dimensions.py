"""Dimensions in SQL: a field's value, a date bucket, or a department rolled up to a tree level.

Rolling up to level N joins each row's department to its ancestor at depth N through a small
derived table over `departments` alone (departments × departments, a few hundred rows), so the
per-row work is one lookup, not a string scan of paths. A department above level N stands for
itself.

Names are not looked up per row: the final level of the query joins `departments` / `users` to
the groups, and option labels come from the form definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, select
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import InvalidInput, Problem
from engine.reports.dataset import Dimension
from engine.reports.result import ResultColumn
from engine.reports.sources import SourceColumn
from engine.reports.sqlfn import TEMPORAL, SqlFunctions
from engine.store.models import Department, User

if TYPE_CHECKING:
    from engine.reports.query import DatasetQuery


@dataclass
class DimensionPlan:
    dimension: Dimension
    column: SourceColumn
    expr: ColumnElement[Any]
    joins: list[tuple[Any, ColumnElement[bool]]] = field(default_factory=list)
    # (table, name column) joined at the final level to name the values.
    names: tuple[Any, str] | None = None

    def result_column(self) -> ResultColumn:
        d, col = self.dimension, self.column
        kind = "text" if d.bucket else ("integer" if d.level else col.kind)
        labels: dict[Any, Any] = dict(col.options or {}) if not d.bucket else {}
        return ResultColumn(d.name, "dimension", kind, d.label or col.label, labels=labels, bucket=d.bucket,
                            source_field=col.key, colors=dict(col.colors or {}) if not d.bucket else {})


def ancestors_at(level: int) -> Any:
    """(department id, its ancestor at `level` or itself when shallower) as a derived table."""
    d = Department.__table__.alias("dept")
    a = Department.__table__.alias("ancestor")
    depth_d, depth_a = SqlFunctions.depth(d.c.path), SqlFunctions.depth(a.c.path)
    wanted = case((depth_d < level, depth_d), else_=level)
    on = and_(d.c.path.startswith(a.c.path), depth_a == wanted)
    return select(d.c.id.label("department_id"), a.c.id.label("ancestor_id")).select_from(d.join(a, on)).subquery(
        f"level{level}")


def plan_dimension(query: DatasetQuery, d: Dimension, i: int) -> DimensionPlan:
    path = f"dimensions[{i}]"
    col = query.column(d.field, f"{path}.field")
    full_path = f"{query.ctx.path}.{path}"
    if d.bucket:
        if col.kind not in TEMPORAL and not (col.kind == "month" and d.bucket in ("month", "quarter", "year")):
            raise InvalidInput("reports.invalid", problems=[Problem(
                "reports.bucket_not_date", {"field": d.field, "kind": col.kind}, path=f"{full_path}.bucket")])
        return DimensionPlan(d, col, query.fn.bucket(col.sql, col.kind, d.bucket, col.native))
    if d.level:
        if col.ref != "department":
            raise InvalidInput("reports.invalid", problems=[Problem(
                "reports.level_not_department", {"field": d.field}, path=f"{full_path}.level")])
        table = ancestors_at(d.level)
        plan = DimensionPlan(d, col, table.c.ancestor_id, joins=[(table, table.c.department_id == col.sql)])
        plan.names = (Department.__table__, "name")
        return plan
    plan = DimensionPlan(d, col, col.sql)
    if col.ref == "department":
        plan.names = (Department.__table__, "name")
    elif col.ref == "user":
        plan.names = (User.__table__, "name")
    return plan
