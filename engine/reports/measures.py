"""Measure kinds: one small class per aggregate, registered by name.

A dataset query has two levels: row level (L1), where each measure places the value it
aggregates — already restricted to its own condition (`CASE WHEN where THEN value END`) — and
group level (L2), where the aggregate runs over those columns. Conditions therefore never
change the rows other measures see, and `rate` is two counts of one scan.

Percentiles run in SQL on both backends: PostgreSQL's `percentile_cont`, and on SQLite the
same linear interpolation from window functions (each row's rank and its group's count at L1,
the two neighbouring values picked at L2) — rows are never loaded to be sorted in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Float, Integer, and_, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from engine.reports.dataset import Measure
from engine.reports.sqlfn import SqlFunctions

UNIT_SECONDS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}


@dataclass
class RowInputs:
    """What a measure contributes at row level: named L1 columns."""

    columns: dict[str, ColumnElement[Any]]


@dataclass(frozen=True)
class Conditions:
    """A measure's row conditions: the period it covers (`base`, for comparisons), its own
    `where`, and for a rate the denominator `of`. None means "every row"."""

    base: ColumnElement[bool] | None = None
    where: ColumnElement[bool] | None = None
    of: ColumnElement[bool] | None = None

    def both(self, *parts: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
        present = [p for p in parts if p is not None]
        if not present:
            return None
        return and_(*present) if len(present) > 1 else present[0]

    @property
    def rows(self) -> ColumnElement[bool] | None:
        return self.both(self.base, self.where)


class Aggregate:
    """An aggregate kind. `row` builds its L1 columns; `group` its L2 expression from the L1
    subquery's columns (`c`)."""

    name: ClassVar[str]
    value_kinds: ClassVar[tuple[str, ...] | None] = None  # None: any kind
    result_kind: ClassVar[str | None] = None  # None: the value's kind

    def row(self, m: Measure, prefix: str, value: ColumnElement[Any] | None, conds: Conditions,
            partition: list[ColumnElement[Any]], fn: SqlFunctions) -> RowInputs:
        return RowInputs({prefix: _when(conds.rows, value if value is not None else literal(1))})

    def group(self, m: Measure, prefix: str, c: Any, fn: SqlFunctions) -> ColumnElement[Any]:
        raise NotImplementedError

    # Over a rollup (rows standing for `weight` records; fields as (sum, count) pairs). Only the
    # aggregates that add up implement these; the others always read the records.
    weighted: ClassVar[bool] = False

    def row_weighted(self, m: Measure, prefix: str, value: Any, conds: Conditions,
                     weight: ColumnElement[Any]) -> RowInputs:
        raise NotImplementedError

    def group_weighted(self, m: Measure, prefix: str, c: Any, fn: SqlFunctions, kind: str | None
                       ) -> ColumnElement[Any]:
        raise NotImplementedError

    def kind(self, value_kind: str | None) -> str:
        return self.result_kind or value_kind or "number"


def _when(condition: ColumnElement[bool] | None, value: ColumnElement[Any]) -> ColumnElement[Any]:
    return value if condition is None else case((condition, value))


AGGREGATES: dict[str, Aggregate] = {}


def register(cls: type[Aggregate]) -> type[Aggregate]:
    AGGREGATES[cls.name] = cls()
    return cls


@register
class Count(Aggregate):
    name = "count"
    result_kind = "integer"

    def row(self, m, prefix, value, conds, partition, fn):  # type: ignore[no-untyped-def]
        if conds.rows is None:
            return RowInputs({})
        return RowInputs({prefix: case((conds.rows, literal(1)))})

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        return func.count(c[prefix]) if prefix in c else func.count()

    weighted = True

    def row_weighted(self, m, prefix, value, conds, weight):  # type: ignore[no-untyped-def]
        return RowInputs({prefix: _when(conds.rows, weight)})

    def group_weighted(self, m, prefix, c, fn, kind):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(c[prefix]), 0)


@register
class CountDistinct(Aggregate):
    name = "count_distinct"
    result_kind = "integer"

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        return func.count(c[prefix].distinct())


@register
class Sum(Aggregate):
    name = "sum"
    value_kinds = ("number", "integer")

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        return func.sum(c[prefix])

    weighted = True

    def row_weighted(self, m, prefix, value, conds, weight):  # type: ignore[no-untyped-def]
        total, present = value
        return RowInputs({prefix: _when(conds.rows, total), f"{prefix}_c": _when(conds.rows, present)})

    def group_weighted(self, m, prefix, c, fn, kind):  # type: ignore[no-untyped-def]
        total = case((func.sum(c[f"{prefix}_c"]) > 0, func.sum(c[prefix])))
        return cast(total, BigInteger) if kind == "integer" else total


@register
class Avg(Aggregate):
    name = "avg"
    value_kinds = ("number", "integer")
    result_kind = "number"

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        return cast(func.avg(c[prefix]), Float)

    weighted = True

    def row_weighted(self, m, prefix, value, conds, weight):  # type: ignore[no-untyped-def]
        total, present = value
        return RowInputs({prefix: _when(conds.rows, total), f"{prefix}_c": _when(conds.rows, present)})

    def group_weighted(self, m, prefix, c, fn, kind):  # type: ignore[no-untyped-def]
        return fn.ratio(func.sum(c[prefix]), func.sum(c[f"{prefix}_c"]))


@register
class Min(Aggregate):
    name = "min"
    value_kinds = ("number", "integer", "date", "datetime", "text")

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        return func.min(c[prefix])


@register
class Max(Aggregate):
    name = "max"
    value_kinds = ("number", "integer", "date", "datetime", "text")

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        return func.max(c[prefix])


@register
class Rate(Aggregate):
    """count(rows where `where`) / count(rows where `of`, default all), times `scale`; with a
    `field`, distinct values are counted instead of rows (the share of flow instances that were
    rejected at least once, not of their tasks)."""

    name = "rate"
    result_kind = "number"

    def row(self, m, prefix, value, conds, partition, fn):  # type: ignore[no-untyped-def]
        numerator = conds.both(conds.base, conds.of, conds.where)
        denominator = conds.both(conds.base, conds.of)
        counted = value if value is not None else literal(1)
        return RowInputs({f"{prefix}_num": _when(numerator, counted), f"{prefix}_den": _when(denominator, counted)})

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        num, den = c[f"{prefix}_num"], c[f"{prefix}_den"]
        if m.field is not None:
            return fn.ratio(func.count(num.distinct()), func.count(den.distinct()))
        return fn.ratio(func.count(num), func.count(den))

    weighted = True

    def row_weighted(self, m, prefix, value, conds, weight):  # type: ignore[no-untyped-def]
        numerator = conds.both(conds.base, conds.of, conds.where)
        denominator = conds.both(conds.base, conds.of)
        return RowInputs({f"{prefix}_num": _when(numerator, weight), f"{prefix}_den": _when(denominator, weight)})

    def group_weighted(self, m, prefix, c, fn, kind):  # type: ignore[no-untyped-def]
        # no numerator rows is a rate of 0 (as counting records gives), not an unknown one
        return fn.ratio(func.coalesce(func.sum(c[f"{prefix}_num"]), 0), func.sum(c[f"{prefix}_den"]))


@register
class Percentile(Aggregate):
    name = "percentile"
    value_kinds = ("number", "integer")
    result_kind = "number"

    def row(self, m, prefix, value, conds, partition, fn):  # type: ignore[no-untyped-def]
        return RowInputs({prefix: _when(conds.rows, value)})

    def windows(self, prefix: str, c: Any, partition: list[Any], fn: SqlFunctions) -> dict[str, Any]:
        """SQLite: each value's rank in its group and the group's count of values, over the
        row values computed once in the level below (JSON is not re-read for every window)."""
        if fn.postgres:
            return {}
        x = c[prefix]
        return {f"{prefix}_rn": func.row_number().over(partition_by=partition or None, order_by=[x.is_(None), x]),
                f"{prefix}_n": func.count(x).over(partition_by=partition or None)}

    def group(self, m, prefix, c, fn):  # type: ignore[no-untyped-def]
        p = float(m.p or 0.5)
        if fn.postgres:
            return func.percentile_cont(p).within_group(c[prefix].asc())
        rank, n, x = c[f"{prefix}_rn"], c[f"{prefix}_n"], c[prefix]
        position = literal(p) * (n - 1)
        below = cast(position, Integer)
        low = func.max(case((rank == below + 1, x)))
        high = func.max(case((rank == below + 2, x)))
        fraction = func.max(position - below)
        return low + fraction * (func.coalesce(high, low) - low)


def aggregate(name: str) -> Aggregate:
    return AGGREGATES[name]


def duration_value(fn: SqlFunctions, start: Any, end: Any | None, unit: str) -> ColumnElement[float]:
    """(end − start) in `unit`; `end` None means now."""
    stop = fn.now_epoch() if end is None else fn.epoch(end.sql, end.kind, end.native)
    return (stop - fn.epoch(start.sql, start.kind, start.native)) / UNIT_SECONDS[unit]
