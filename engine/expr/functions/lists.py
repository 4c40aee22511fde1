"""List functions over lists and subtables. Conditions such as `filter(measures, cost > 100)`
run once per element: inside them bare names are the element's fields and `item` is the
element itself (`acc` is the running value in REDUCE). Every element visit is charged to the
evaluation's work budget, so nested list functions cannot run away."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.expr.errors import fail
from engine.expr.functions.registry import register
from engine.expr.limits import MAX_LIST_ITEMS
from engine.expr.listops import Budget, as_list, checked_list, each
from engine.expr.runtime import eq, is_number, lt, truth, type_error
from engine.expr.types import ANY, ListType, Type
from engine.expr.values import to_text

Fn = Callable[..., Any]


def _items(value: Any) -> list[Any]:
    return as_list(value) or []


def _element(args: Sequence[Type]) -> Type:
    """the element type of the list"""
    return args[0].item if args and isinstance(args[0], ListType) else ANY


@register(
    "count",
    "list: list[any]",
    "integer",
    category="list",
    propagate_null=False,
    en="Number of items that are not null (0 for null).",
    zh="列表中非空项的个数（空值为 0）。",
    examples=[("COUNT([1, null, 3])", "2")],
)
def count(items: Any) -> int:
    return sum(1 for v in _items(items) if v is not None)


@register(
    "countif",
    "list: list[any], condition: boolean @item",
    "integer",
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="Number of items for which the condition holds: COUNTIF(measures, done == false).",
    zh="满足条件的项数：COUNTIF(measures, done == false)。",
    examples=[("COUNTIF([1, 5, 9], item > 3)", "2")],
)
def countif(budget: Budget, items: Any, condition: Fn) -> int:
    return sum(1 for ok in each(budget, items, condition) if truth(ok))


def _selected(budget: Budget, items: Any, condition: Fn, value: Fn | None) -> list[Any]:
    values = _items(items)
    budget.spend(len(values) * 2)
    picked = [v for v in values if truth(condition(v))]
    out = [value(v) for v in picked] if value is not None else picked
    for v in out:
        if v is not None and not is_number(v):
            raise type_error("number", v)
    return [v for v in out if v is not None]


@register(
    "sumif",
    "list: list[any], condition: boolean @item, value: number? @item",
    "number",
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="Sum of `value` (or the item) over items meeting the condition: SUMIF(measures, done, cost).",
    zh="对满足条件的项求和（可指定求和的值）：SUMIF(measures, done, cost)。",
    examples=[("SUMIF([1, 5, 9], item > 3)", "14")],
)
def sumif(budget: Budget, items: Any, condition: Fn, value: Fn | None = None) -> float | int:
    return sum(_selected(budget, items, condition, value))


@register(
    "averageif",
    "list: list[any], condition: boolean @item, value: number? @item",
    "number",
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="Average of `value` (or the item) over items meeting the condition; null when none.",
    zh="对满足条件的项求平均值；没有时为空。",
    examples=[("AVERAGEIF([1, 5, 9], item > 3)", "7")],
)
def averageif(budget: Budget, items: Any, condition: Fn, value: Fn | None = None) -> float | None:
    picked = _selected(budget, items, condition, value)
    return sum(picked) / len(picked) if picked else None


@register(
    "any",
    "list: list[any], condition: boolean @item",
    "boolean",
    category="list",
    propagate_null=False,
    uses_budget=True,
    aliases=["some"],
    en="True when the condition holds for at least one item.",
    zh="至少一项满足条件时为真。",
    examples=[("ANY([1, 5], item > 3)", "true")],
)
def any_(budget: Budget, items: Any, condition: Fn) -> bool:
    values = _items(items)
    budget.spend(len(values))
    return any(truth(condition(v)) for v in values)


@register(
    "all",
    "list: list[any], condition: boolean @item",
    "boolean",
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="True when the condition holds for every item (true for an empty list).",
    zh="每一项都满足条件时为真（空列表为真）。",
    examples=[("ALL([4, 5], item > 3)", "true")],
)
def all_(budget: Budget, items: Any, condition: Fn) -> bool:
    values = _items(items)
    budget.spend(len(values))
    return all(truth(condition(v)) for v in values)


@register(
    "none",
    "list: list[any], condition: boolean @item",
    "boolean",
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="True when no item meets the condition.",
    zh="没有任何一项满足条件时为真。",
    examples=[("NONE([1, 2], item > 3)", "true")],
)
def none_(budget: Budget, items: Any, condition: Fn) -> bool:
    return not any_(budget, items, condition)


@register(
    "filter",
    "list: list[T], condition: boolean @item",
    "list[T]",
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="The items meeting the condition.",
    zh="满足条件的项组成的列表。",
    examples=[("FILTER([1, 5, 9], item > 3)", "[5, 9]")],
)
def filter_(budget: Budget, items: Any, condition: Fn) -> list[Any]:
    values = _items(items)
    budget.spend(len(values))
    return [v for v in values if truth(condition(v))]


def _map_result(args: Sequence[Type]) -> Type:
    """a list of the expression's type"""
    return ListType(args[1]) if len(args) > 1 else ListType(ANY)


@register(
    "map",
    "list: list[any], expression: any @item",
    _map_result,
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="The expression computed for every item: MAP(measures, cost * qty).",
    zh="对每一项计算表达式得到的新列表：MAP(measures, cost * qty)。",
    examples=[("MAP([1, 2, 3], item * 2)", "[2, 4, 6]")],
)
def map_(budget: Budget, items: Any, expression: Fn) -> list[Any]:
    return each(budget, items, expression)


def _reduce_result(args: Sequence[Type]) -> Type:
    """the type of the initial value / expression"""
    return args[2] if len(args) > 2 and args[2] != ANY else (args[1] if len(args) > 1 else ANY)


@register(
    "reduce",
    "list: list[any], expression: any @item,acc, initial: any",
    _reduce_result,
    category="list",
    propagate_null=False,
    uses_budget=True,
    en="Folds the list: `acc` starts as `initial` and becomes the expression for each item.",
    zh="累积计算：acc 初始为 initial，对每一项用表达式更新 acc。",
    examples=[("REDUCE([1, 2, 3], acc + item, 0)", "6")],
)
def reduce_(budget: Budget, items: Any, expression: Fn, initial: Any) -> Any:
    values = _items(items)
    budget.spend(len(values))
    acc = initial
    for v in values:
        acc = expression(v, acc)
    return acc


@register(
    "unique",
    "list: list[T]",
    "list[T]",
    category="list",
    propagate_null=False,
    en="The list without repeated items (first occurrence kept).",
    zh="去重后的列表（保留首次出现的项）。",
    examples=[('UNIQUE(["a", "b", "a"])', '["a", "b"]')],
)
def unique(items: Any) -> list[Any]:
    out: list[Any] = []
    for v in _items(items):
        if not any(eq(v, seen) for seen in out):
            out.append(v)
    return out


@register(
    "join",
    "list: list[any], separator: text?",
    "text",
    category="list",
    propagate_null=False,
    en='The items as one text, separated by `separator` (", " by default); nulls skipped.',
    zh='将列表各项连接为文本，默认用 ", " 分隔；忽略空值。',
    examples=[('JOIN(["A区", "B区"], "、")', '"A区、B区"')],
)
def join(items: Any, separator: Any = ", ") -> str:
    return (", " if separator is None else to_text(separator)).join(
        to_text(v) for v in _items(items) if v is not None
    )


@register(
    "first",
    "list: list[T]",
    _element,
    category="list",
    propagate_null=False,
    en="The first item, or null for an empty list.",
    zh="第一项；空列表为空。",
    examples=[("FIRST([7, 8])", "7")],
)
def first(items: Any) -> Any:
    values = _items(items)
    return values[0] if values else None


@register(
    "last",
    "list: list[T]",
    _element,
    category="list",
    propagate_null=False,
    en="The last item, or null for an empty list.",
    zh="最后一项；空列表为空。",
    examples=[("LAST([7, 8])", "8")],
)
def last(items: Any) -> Any:
    values = _items(items)
    return values[-1] if values else None


@register(
    "index",
    "list: list[T], position: integer",
    _element,
    category="list",
    propagate_null=False,
    en="The item at a 1-based position (negative counts from the end); null when out of range.",
    zh="第 n 项（从 1 开始，负数从末尾数）；超出范围时为空。",
    examples=[("INDEX([7, 8, 9], 2)", "8")],
)
def index(items: Any, position: Any) -> Any:
    values = _items(items)
    if not is_number(position):
        return None
    n = int(position)
    i = n - 1 if n > 0 else len(values) + n
    return values[i] if 0 <= i < len(values) and n != 0 else None


@register(
    "sort",
    "list: list[T], descending: boolean?",
    "list[T]",
    category="list",
    propagate_null=False,
    en="The items in ascending order (descending when asked); nulls last.",
    zh="升序排列（可指定降序）；空值排在最后。",
    examples=[("SORT([3, 1, 2])", "[1, 2, 3]")],
)
def sort(items: Any, descending: Any = False) -> list[Any]:
    import functools

    values = [v for v in _items(items) if v is not None]
    nulls = [None] * (len(_items(items)) - len(values))

    def compare(a: Any, b: Any) -> int:
        return -1 if lt(a, b) else (1 if lt(b, a) else 0)

    ordered = sorted(values, key=functools.cmp_to_key(compare), reverse=bool(descending))
    return ordered + nulls


@register(
    "reverse",
    "list: list[T]",
    "list[T]",
    category="list",
    propagate_null=False,
    en="The items in reverse order.",
    zh="倒序排列。",
    examples=[("REVERSE([1, 2])", "[2, 1]")],
)
def reverse(items: Any) -> list[Any]:
    return list(reversed(_items(items)))


@register(
    "merge",
    "values: any...",
    "list[any]",
    category="list",
    propagate_null=False,
    en="One list from values and lists (lists are flattened one level).",
    zh="将多个值和列表合并为一个列表（列表展开一层）。",
    examples=[("MERGE([1, 2], 3, [4])", "[1, 2, 3, 4]")],
)
def merge(*values: Any) -> list[Any]:
    out: list[Any] = []
    for v in values:
        out.extend(v if isinstance(v, list | tuple) else [v])
    return checked_list(out)


@register(
    "sequence",
    "count: integer, start: integer?",
    "list[integer]",
    category="list",
    en="The integers start, start+1, … (count of them, bounded).",
    zh="从 start 起的连续整数（共 count 个，有上限）。",
    examples=[("SEQUENCE(3)", "[1, 2, 3]")],
)
def sequence(count_: Any, start: Any = 1) -> list[int]:
    n = int(count_)
    if n > MAX_LIST_ITEMS:
        raise fail("expr.limit.list_too_long", limit=MAX_LIST_ITEMS)
    begin = int(start if start is not None else 1)
    return list(range(begin, begin + max(n, 0)))
