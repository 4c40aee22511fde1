"""Lists and field paths at run time: subtable projection (`measures.cost`), ranges used as
lists, and the per-evaluation work budget that bounds list functions. Dictionary and list
lookups only — a path never reads an attribute of a Python object."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from engine.expr.context import EvalContext
from engine.expr.errors import fail
from engine.expr.limits import MAX_LIST_ITEMS, MAX_WORK
from engine.expr.runtime import type_error, tz_of
from engine.expr.values import kind_of, to_date, to_datetime, type_label

_NUMS = {int, float}


def dates_in(values: Any, with_time: bool, c: EvalContext | None) -> list[Any] | None:
    """A subtable's date column, converted like single date fields."""
    if values is None:
        return None
    tz = tz_of(c)
    convert = (lambda v: to_datetime(v, tz)) if with_time else (lambda v: to_date(v, tz))
    return [convert(v) for v in as_list(values) or []]


def get_path(value: Any, path: tuple[str, ...]) -> Any:
    """Follow field names through records (dict lookups) and subtables (projection)."""
    for index, part in enumerate(path):
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list | tuple):
            rest = path[index:]
            if len(rest) == 1:  # `measures.cost`: one cell per row, the usual projection
                return flatten_projection([row.get(part) if type(row) is dict else get_path(row, rest)
                                           for row in value])
            return flatten_projection([get_path(row, rest) for row in value])
        else:
            raise fail("expr.no_member", type=type_label(kind_of(value)), name=part)
    return value


_SCALARS = frozenset((str, int, float, bool, type(None), dict))


def flatten_projection(values: list[Any]) -> list[Any]:
    """One list of a projection's values, lists among them spliced in. `values` is the
    projection's own fresh list, returned as it is when nothing in it is a list (the usual
    column of plain cells: one pass in C)."""
    if _SCALARS.issuperset(map(type, values)):
        return values
    out: list[Any] = []
    for v in values:
        if isinstance(v, list | tuple):
            out.extend(v)
        else:
            out.append(v)
    return out


def as_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return list(value)
    raise type_error("list", value)


def checked_list(items: list[Any]) -> list[Any]:
    if len(items) > MAX_LIST_ITEMS:
        raise fail("expr.limit.list_too_long", limit=MAX_LIST_ITEMS)
    return items


def range_list(low: Any, high: Any) -> list[Any] | None:
    """`a..b` used as a list: integers or dates, both ends included, at most MAX_LIST_ITEMS."""
    if low is None or high is None:
        return None
    if isinstance(low, date) and isinstance(high, date):
        lo, hi = to_date(low), to_date(high)
        assert lo is not None and hi is not None
        span = (hi - lo).days + 1
        if span > MAX_LIST_ITEMS:
            raise fail("expr.limit.list_too_long", limit=MAX_LIST_ITEMS)
        return [lo + timedelta(days=i) for i in range(max(span, 0))]
    if type(low) in _NUMS and type(high) in _NUMS and float(low).is_integer() and float(high).is_integer():
        lo_i, hi_i = int(low), int(high)
        if hi_i - lo_i + 1 > MAX_LIST_ITEMS:
            raise fail("expr.limit.list_too_long", limit=MAX_LIST_ITEMS)
        return list(range(lo_i, hi_i + 1))
    raise fail("expr.range_context")


class Budget:
    """Element visits left for list functions in one evaluation (nested map/filter bound)."""

    __slots__ = ("left",)

    def __init__(self, left: int = MAX_WORK) -> None:
        self.left = left

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise fail("expr.limit.work", limit=MAX_WORK)


def each(budget: Budget, items: Any, fn: Callable[[Any], Any]) -> list[Any]:
    """Apply a compiled lambda to every element, charging the budget."""
    values = as_list(items)
    if values is None:
        return []
    budget.spend(len(values))
    return [fn(v) for v in values]
