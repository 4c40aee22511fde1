"""In-memory DataSource and LookupSource: for tests, dry runs and rule simulations.

It answers bound aggregates by evaluating the bound `where` with the same compiled semantics
as everything else, so it is also the reference the SQL push-down (`engine.store.expr_sql`)
is tested against.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from engine.expr.aggregates import BoundAggregate
from engine.expr.compiler import compile_expr
from engine.expr.context import EvalContext, context_or_default
from engine.expr.listops import get_path
from engine.expr.runtime import is_number, lt, truth
from engine.expr.values import to_datetime


class MemoryDataSource:
    def __init__(
        self,
        rows: Mapping[str, Sequence[Mapping[str, Any]]],
        *,
        created_field: str = "created_at",
        ctx: EvalContext | None = None,
    ) -> None:
        self.rows = rows
        self.created_field = created_field
        self.ctx = ctx
        self.asked: list[BoundAggregate] = []

    def _matching(self, bound: BoundAggregate) -> list[Mapping[str, Any]]:
        rows = list(self.rows.get(bound.form, ()))
        ctx = context_or_default(self.ctx)
        if bound.where is not None:
            where = compile_expr(bound.where)
            rows = [r for r in rows if truth(where.evaluate(r, ctx))]
        if bound.since is not None:
            rows = [
                r
                for r in rows
                if (t := to_datetime(r.get(self.created_field), ctx.tz)) is not None and t >= bound.since
            ]
        return rows

    def aggregate(self, bound: BoundAggregate) -> Any:
        self.asked.append(bound)
        rows = self._matching(bound)
        fn = bound.function
        if fn == "count":
            return len(rows)
        if fn == "exists":
            return bool(rows)
        if fn == "consecutive":
            return self._consecutive(bound, rows)
        assert bound.field is not None
        values = [v for v in (r.get(bound.field) for r in rows) if v is not None]
        if fn == "sum":
            return sum(v for v in values if is_number(v))
        if fn == "avg":
            numbers = [v for v in values if is_number(v)]
            return sum(numbers) / len(numbers) if numbers else None
        if not values:
            return None
        key = functools.cmp_to_key(lambda a, b: -1 if lt(a, b) else (1 if lt(b, a) else 0))
        return min(values, key=key) if fn == "min" else max(values, key=key)

    def _consecutive(self, bound: BoundAggregate, rows: list[Mapping[str, Any]]) -> bool:
        """The latest n rows (by the order field, newest first) all meet the condition."""
        assert bound.order_by is not None and bound.n is not None
        path = tuple(bound.order_by.split("."))
        key = functools.cmp_to_key(
            lambda a, b: (
                -1
                if lt(get_path(a, path), get_path(b, path))
                else (1 if lt(get_path(b, path), get_path(a, path)) else 0)
            )
        )
        latest = sorted(rows, key=key, reverse=True)[: bound.n]
        if len(latest) < bound.n:
            return False
        if bound.condition is None:
            return True
        condition = compile_expr(bound.condition)
        ctx = context_or_default(self.ctx)
        return all(truth(condition.evaluate(r, ctx)) for r in latest)


class MemoryLookupSource:
    """Dictionaries as `{source: {key: entry}}`; an entry may be a label or a mapping of fields."""

    def __init__(self, dictionaries: Mapping[str, Mapping[Any, Any]]) -> None:
        self.dictionaries = dictionaries

    def lookup(self, source: str, key: Any, field: str | None = None) -> Any:
        entries = self.dictionaries.get(source)
        if entries is None:
            return None
        entry = entries.get(key)
        if entry is None and key is not None:
            entry = entries.get(str(key))
        if field is None:
            return entry
        return entry.get(field) if isinstance(entry, Mapping) else None
