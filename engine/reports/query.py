"""A dataset compiled to one SQL query (SQLAlchemy Core, SQLite and PostgreSQL) and run.

The query has three levels, which both databases flatten where they can:

  L1 rows     the source, its WHERE (source, viewer scope, filter, range, dashboard filters),
              each dimension's value and each measure's conditioned input (and, for
              percentiles on SQLite, window ranks);
  L2 groups   GROUP BY the dimensions, one aggregate per measure;
  L3 result   names of departments and people joined in, period-over-period by window `lag`,
              ORDER BY and LIMIT.

Nothing is aggregated in Python: the rows that come back are the groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import Forbidden, InvalidInput, Problem
from engine.expr import EvalContext
from engine.reports import periods
from engine.reports.conditions import ConditionCompiler, equals, in_department, in_period, in_values
from engine.reports.dataset import Dataset, Measure
from engine.reports.dimensions import DimensionPlan, ancestors_at, plan_dimension
from engine.reports.measures import Conditions, aggregate, duration_value
from engine.reports.result import DatasetResult, ResultColumn, plain_number
from engine.reports.sources import SourceView, resolve_source, scope_condition
from engine.reports.sqlfn import SqlFunctions
from engine.store.access import SCOPES, Principal, authorize, scope_clause


@dataclass(frozen=True)
class Viewer:
    """Who the numbers are for. No principal: the system (CLI exports, scheduled delivery),
    which sees every row. `scope_cap` narrows the scope further (a share link's limit)."""

    principal: Principal | None = None
    scope_cap: str | None = None

    def variables(self) -> dict[str, Any]:
        p = self.principal
        return {"viewer": {"id": p.user_id if p else None, "department_id": p.department_id if p else None,
                           "username": p.username if p else None}}


SYSTEM = Viewer()


@dataclass(frozen=True)
class RowFilter:
    """A condition added to a dataset from outside: a dashboard's global filter or a
    drill-down click. `op`: period (value: Period; field None = the dataset's date field),
    department (value: id; the department column and everything below it), in (values), eq
    (value), bucket (value: a bucket label of `field` by `bucket`), ancestor (value: the
    department `field` rolls up to at level `bucket`)."""

    op: str
    value: Any
    field: str | None = None
    bucket: str | None = None
    # A dashboard filter on a field the widget's source lacks does not apply to it.
    optional: bool = False


@dataclass
class QueryContext:
    now: datetime
    tz: ZoneInfo
    viewer: Viewer = SYSTEM
    filters: Sequence[RowFilter] = ()
    path: str = "dataset"


def _scope(viewer: Viewer, view: SourceView, session: Session) -> tuple[str, frozenset[str]]:
    if viewer.principal is None:
        return viewer.scope_cap or "all", frozenset()
    kind, key = view.spec.resource()
    access = authorize(session, viewer.principal, kind, key, "read")
    scope = access.scope
    if viewer.scope_cap and SCOPES.index(viewer.scope_cap) < SCOPES.index(scope):
        scope = viewer.scope_cap
    return scope, access.hidden


class DatasetQuery:
    """Builds the statement of one dataset for one viewer and context."""

    def __init__(self, session: Session | None, dataset: Dataset, ctx: QueryContext, *,
                 view: SourceView | None = None, dialect: str = "sqlite") -> None:
        """Without a session (checking a definition) the statement is built but never run, for
        the system viewer only."""
        self.session = session
        self.dataset = dataset
        self.ctx = ctx
        self.fn = SqlFunctions(session.get_bind().dialect.name if session else dialect, ctx.tz, ctx.now)
        self.view = view or resolve_source(session, dataset.source)
        self.scope, self.hidden = _scope(ctx.viewer, self.view, session) if session else ("all", frozenset())
        eval_ctx = EvalContext(now=ctx.now, tz=ctx.tz).with_variables(**ctx.viewer.variables())
        self.conditions = ConditionCompiler(self.view, self.fn, eval_ctx)
        self.used: set[str] = set()
        self.problems: list[Problem] = []
        self.period: periods.Period | None = None
        # Listing the rows (drill-down) rather than aggregating: the current period only.
        self.listing = False

    # --- pieces -----------------------------------------------------------------------------

    def column(self, key: str, path: str) -> Any:
        self.used.add(key)
        return self.view.column(key, f"{self.ctx.path}.{path}")

    def where(self) -> list[ColumnElement[bool]]:
        ds, path = self.dataset, self.ctx.path
        out = list(self.view.where)
        principal = self.ctx.viewer.principal
        if self.scope != "all" and principal is not None and self.session is not None:
            out.append(scope_condition(self.view, lambda owner, dept: scope_clause(
                self.session, principal, self.scope, owner, dept), self.scope))
        if ds.filter:
            found = self._try(self.conditions.expression, ds.filter, f"{path}.filter")
            if found is not None:
                out.append(found)
        date_key = ds.date_field or self.view.date_field
        self.period = periods.resolve(ds.range, self.ctx.now.astimezone(self.ctx.tz).date())
        for i, rf in enumerate(self.ctx.filters):
            if rf.field is not None and rf.optional and rf.field not in self.view.columns:
                continue
            found = self._try(self.row_filter, rf, i)
            if found is not None:
                out.append(found)
        if self.period is not None:
            date_col = self.column(date_key, "date_field")
            if date_col.kind not in ("date", "datetime", "month"):
                raise InvalidInput("reports.invalid", problems=[Problem(
                    "reports.not_a_date", {"field": date_key}, path=f"{path}.date_field")])
            scan = self.period
            if self._flat_compare() and not self.listing:
                scan = periods.Period(self.period.previous().start, self.period.end)
            out.append(in_period(date_col, scan, self.ctx.tz))
        return out

    def row_filter(self, rf: RowFilter, i: int) -> ColumnElement[bool] | None:
        col = self.column(rf.field, f"filters[{i}]") if rf.field else None
        if rf.op == "period":
            if col is None:
                self.period = rf.value
                return None
            return in_period(col, rf.value, self.ctx.tz)
        if rf.op == "department":
            return in_department(self.view, col, int(rf.value))
        if col is None:
            raise ValueError(f"the {rf.op} filter names no field")
        if rf.op == "in":
            return in_values(col, list(rf.value))
        if rf.op == "eq":
            return equals(col, rf.value)
        if rf.op == "bucket":
            return self.fn.bucket(col.sql, col.kind, rf.bucket or "day", col.native) == rf.value
        if rf.op == "ancestor":
            table = ancestors_at(int(rf.bucket or 1))
            return col.sql.in_(select(table.c.department_id).where(table.c.ancestor_id == int(rf.value)))
        raise ValueError(f"unknown row filter {rf.op!r}")

    def _flat_compare(self) -> bool:
        return any(m.compare for m in self.dataset.measures) and self.dataset.bucketed() is None

    def measure_value(self, m: Measure, i: int) -> tuple[ColumnElement[Any] | None, str | None]:
        path = f"measures[{i}]"
        agg = aggregate(m.agg)
        if m.duration is not None:
            start = self.column(m.duration.from_, f"{path}.duration.from")
            end = None if m.duration.to == "now" else self.column(m.duration.to, f"{path}.duration.to")
            for col, part in ((start, "from"), (end, "to")):
                if col is not None and col.kind not in ("date", "datetime"):
                    self.problems.append(Problem("reports.not_a_date", {"field": col.key},
                                                 path=f"{self.ctx.path}.{path}.duration.{part}"))
            return duration_value(self.fn, start, end, m.duration.unit), "number"
        if m.field is None:
            return None, None
        if self.view.weight is not None and m.field in self.view.sums:
            self.used.add(m.field)
            total, present, kind = self.view.sums[m.field]
            return (total, present), kind  # type: ignore[return-value]
        col = self.column(m.field, f"{path}.field")
        if agg.value_kinds is not None and col.kind not in agg.value_kinds:
            self.problems.append(Problem("reports.measure_kind", {"agg": m.agg, "field": m.field, "kind": col.kind},
                                         path=f"{self.ctx.path}.{path}.field"))
        return col.sql, col.kind

    def _try(self, build: Any, *args: Any) -> Any:
        """Run one part of the build, collecting its problems instead of stopping at them."""
        try:
            return build(*args)
        except InvalidInput as error:
            self.problems += error.problems
            return None

    # --- the statement ----------------------------------------------------------------------

    def build(self) -> tuple[Select[Any], list[ResultColumn], dict[str, str]]:
        ds = self.dataset
        conditions = self.where()
        planned = [self._try(plan_dimension, self, d, i) for i, d in enumerate(ds.dimensions)]
        dims: list[DimensionPlan] = [d for d in planned if d is not None]
        partition = [d.expr for d in dims]  # row-level aggregates may need the group's expressions
        flat_compare = self._flat_compare()
        if any(m.compare for m in ds.measures) and self.period is None and flat_compare:
            self.problems.append(Problem("reports.compare_needs_range", path=f"{self.ctx.path}.measures"))
        current = previous = None
        if flat_compare and self.period is not None:
            date_col = self.view.columns[ds.date_field or self.view.date_field]
            current = in_period(date_col, self.period, self.ctx.tz)
            previous = in_period(date_col, self.period.previous(), self.ctx.tz)
        l1: dict[str, ColumnElement[Any]] = {f"d{i}": d.expr for i, d in enumerate(dims)}
        groups: list[tuple[str, Measure, str]] = []
        kinds: dict[str, str] = {}
        for i, m in enumerate(ds.measures):
            found = self._try(self.measure_value, m, i)
            where = self._try(self.conditions.expression, m.where, f"{self.ctx.path}.measures[{i}].where") \
                if m.where else None
            of = self._try(self.conditions.expression, m.of, f"{self.ctx.path}.measures[{i}].of") if m.of else None
            if found is None:
                continue
            value, value_kind = found
            agg = aggregate(m.agg)
            kinds[m.key] = agg.kind(value_kind)
            kinds[f"{m.key}__value"] = value_kind or ""
            runs = [(f"m{i}", current, m.key)]
            if m.compare and flat_compare:
                runs.append((f"m{i}p", previous, f"{m.key}__previous"))
            for prefix, base, name in runs:
                conds = Conditions(base, where, of)
                if self.view.weight is not None:
                    l1.update(agg.row_weighted(m, prefix, value, conds, self.view.weight).columns)
                else:
                    l1.update(agg.row(m, prefix, value, conds, partition, self.fn).columns)
                groups.append((prefix, m, name))
        self.used |= self.conditions.used
        hidden = sorted(self.used & self.hidden)
        if hidden:
            raise Forbidden("reports.field_hidden", field=", ".join(hidden))
        if self.problems:
            raise InvalidInput("reports.invalid", problems=self.problems)
        inner = select(*[expr.label(name) for name, expr in l1.items()] or [literal(1).label("_one")])
        inner = inner.select_from(self.view.table)
        for d in dims:
            for join_target, on in d.joins:
                inner = inner.join_from(self.view.table, join_target, on, isouter=True)
        l1q = inner.where(*conditions).subquery("rows")
        windowed = {}
        partition = [l1q.c[f"d{i}"] for i in range(len(dims))]
        for prefix, m, _ in groups:
            found = getattr(aggregate(m.agg), "windows", None)
            if found is not None and self.view.weight is None:
                windowed.update(found(prefix, l1q.c, partition, self.fn))
        if windowed:
            l1q = select(*l1q.c, *[w.label(k) for k, w in windowed.items()]).subquery("ranked")
        c = l1q.c
        l2_cols = [c[f"d{i}"].label(f"d{i}") for i in range(len(dims))]
        for prefix, m, name in groups:
            if self.view.weight is not None:
                expr = aggregate(m.agg).group_weighted(m, prefix, c, self.fn, kinds.get(f"{m.key}__value"))
            else:
                expr = aggregate(m.agg).group(m, prefix, c, self.fn)
            if m.scale != 1:
                expr = expr * m.scale
            l2_cols.append(expr.label(name))
        l2 = select(*l2_cols).select_from(l1q).group_by(*[c[f"d{i}"] for i in range(len(dims))]).subquery("groups")
        return self._final(l2, dims, kinds)

    def _final(self, l2: Any, dims: list[DimensionPlan], kinds: dict[str, str]
               ) -> tuple[Select[Any], list[ResultColumn], dict[str, str]]:
        ds, g = self.dataset, l2.c
        cols: list[ColumnElement[Any]] = []
        result: list[ResultColumn] = []
        label_cols: dict[str, str] = {}
        joins = []
        for i, d in enumerate(dims):
            cols.append(g[f"d{i}"].label(d.dimension.name))
            result.append(d.result_column())
            if d.names is not None:
                table, name_col = d.names
                alias = table.alias(f"n{i}")
                joins.append((alias, alias.c.id == g[f"d{i}"]))
                cols.append(alias.c[name_col].label(f"{d.dimension.name}__label"))
                label_cols[f"{d.dimension.name}__label"] = d.dimension.name
        bucket = next(((i, d) for i, d in enumerate(dims) if d.dimension.bucket), None)
        for m in ds.measures:
            cols.append(g[m.key].label(m.key))
            result.append(ResultColumn(m.key, "measure", kinds[m.key], m.label, format=m.format, unit=m.unit))
            if not m.compare:
                continue
            if bucket is not None:
                i, d = bucket
                others = [g[f"d{j}"] for j in range(len(dims)) if j != i]
                order = g[f"d{i}"]
                lag_bucket = _lag(g[f"d{i}"], others, order)
                expected = self.fn.previous_bucket(g[f"d{i}"], d.dimension.bucket or "day")
                previous: ColumnElement[Any] = case((lag_bucket == expected, _lag(g[m.key], others, order)))
            else:
                previous = g[f"{m.key}__previous"]
            cols.append(previous.label(f"{m.key}__previous"))
            cols.append(self.fn.ratio(g[m.key] - previous, previous).label(f"{m.key}__change"))
            result.append(ResultColumn(f"{m.key}__previous", "measure", kinds[m.key], m.label, format=m.format,
                                       unit=m.unit))
            result.append(ResultColumn(f"{m.key}__change", "measure", "number", None, format="percent"))
        query = select(*cols).select_from(l2)
        for alias, on in joins:
            query = query.join(alias, on, isouter=True)
        order: list[Any] = []
        for key in ds.sort:
            target = next((col for col in cols if col.name == key.by), None)
            if target is not None:
                order += [target.is_(None), target.desc() if key.desc else target.asc()]
        for i in range(len(dims)):
            order += [g[f"d{i}"].is_(None), g[f"d{i}"].asc()]
        query = query.order_by(*order)
        if ds.limit:
            query = query.limit(ds.limit)
        return query, result, label_cols


def _lag(value: Any, partition: list[Any], order: Any) -> Any:
    from sqlalchemy import func

    return func.lag(value).over(partition_by=partition or None, order_by=order)


def _rollup(session: Session, dataset: Dataset, ctx: QueryContext) -> SourceView | None:
    """The dataset's rollup when one can answer it exactly (see engine.reports.rollups)."""
    if dataset.source.kind != "records":
        return None
    from engine.forms.catalog import FormCatalog
    from engine.reports.rollups import rollup_view

    definition = FormCatalog(session).definition(dataset.source.form or "")
    return rollup_view(session, dataset, ctx, definition) if definition is not None else None


def run_dataset(session: Session, dataset: Dataset, ctx: QueryContext, *, with_sql: bool = False) -> DatasetResult:
    """Compile and run one dataset: one SQL statement, its groups as typed rows."""
    builder = DatasetQuery(session, dataset, ctx, view=_rollup(session, dataset, ctx))
    statement, columns, label_cols = builder.build()
    rows = session.execute(statement).all()
    names = list(rows[0]._fields) if rows else [c.key for c in columns] + list(label_cols)
    by_key = {c.key: c for c in columns}
    keep = [i for i, n in enumerate(names) if n not in label_cols]
    out_rows: list[list[Any]] = []
    for row in rows:
        for i, name in enumerate(names):
            if name in label_cols and row[i] is not None:
                by_key[label_cols[name]].labels[row[names.index(label_cols[name])]] = str(row[i])
        out_rows.append([plain_number(row[i]) for i in keep])
    sql = str(statement.compile(session.get_bind())) if with_sql else None
    period = builder.period.to_dict() if builder.period else None
    served = "rollup" if builder.view.weight is not None else "records"
    return DatasetResult(columns=columns, rows=out_rows, period=period, sql=sql, served_by=served)
