"""Number functions (Excel names). ROUND rounds halves away from zero like Excel; SUM/AVERAGE/
MIN/MAX take numbers and/or lists (a subtable column such as `measures.cost`) and skip nulls."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import date
from typing import Any

from engine.expr.errors import fail
from engine.expr.functions.formatting import round_half_up
from engine.expr.functions.registry import register
from engine.expr.runtime import is_number, type_error
from engine.expr.types import DATE, DATETIME, INTEGER, NUMBER, ListType, Type, unify

NUMS = "number|list[number]"


def _num(value: Any) -> float | int:
    if is_number(value):
        return value
    raise type_error("number", value)


def _flat(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list | tuple):
            out.extend([x for x in v if x is not None])
        elif v is not None:
            out.append(v)
    return out


_NUM_TYPES = frozenset((int, float))


def _nums(values: Sequence[Any]) -> list[Any]:
    """The numbers of `values` (args and lists, nulls skipped); a type error names the first
    value that is not one. A form's `sum(items.cost)` runs on every write: the type check of a
    column of plain numbers is one pass in C."""
    items = _flat(values)
    if _NUM_TYPES.issuperset(map(type, items)):
        return items
    return [_num(v) for v in items]


def _numeric_result(args: Sequence[Type]) -> Type:
    """integer when every argument is integer (or a list of integers), else number"""
    items = [a.item if isinstance(a, ListType) else a for a in args]
    return INTEGER if items and all(t == INTEGER for t in items) else NUMBER


def _ordered_result(args: Sequence[Type]) -> Type:
    """the common type of the arguments (numbers, dates or datetimes)"""
    items = [a.item if isinstance(a, ListType) else a for a in args]
    common = unify(items)
    return common if common in (INTEGER, NUMBER, DATE, DATETIME) else NUMBER


def _digits(value: Any) -> int:
    return int(_num(value)) if value is not None else 0


@register(
    "round",
    "value: number, digits: integer?",
    "number",
    category="number",
    en="Rounds to `digits` decimals, halves away from zero (Excel ROUND).",
    zh="四舍五入到 digits 位小数（与 Excel ROUND 相同）。",
    examples=[("ROUND(2.345, 2)", "2.35"), ("ROUND(-2.5)", "-3")],
)
def round_(value: Any, digits: Any = 0) -> float | int:
    return round_half_up(_num(value), _digits(digits))


@register(
    "roundup",
    "value: number, digits: integer?",
    "number",
    category="number",
    en="Rounds away from zero.",
    zh="远离零方向舍入。",
    examples=[("ROUNDUP(3.21, 1)", "3.3")],
)
def roundup(value: Any, digits: Any = 0) -> float | int:
    factor = 10 ** _digits(digits)
    x = _num(value) * factor
    result = (math.ceil(x) if x >= 0 else math.floor(x)) / factor
    return int(result) if _digits(digits) <= 0 else result


@register(
    "rounddown",
    "value: number, digits: integer?",
    "number",
    category="number",
    en="Rounds toward zero.",
    zh="向零方向舍去。",
    examples=[("ROUNDDOWN(3.29, 1)", "3.2")],
)
def rounddown(value: Any, digits: Any = 0) -> float | int:
    factor = 10 ** _digits(digits)
    result = math.trunc(_num(value) * factor) / factor
    return int(result) if _digits(digits) <= 0 else result


@register(
    "floor",
    "value: number, significance: number?",
    "number",
    category="number",
    en="Rounds down to a multiple of `significance` (1 by default).",
    zh="向下舍入到 significance 的倍数（默认 1）。",
    examples=[("FLOOR(7.8)", "7"), ("FLOOR(23, 5)", "20")],
)
def floor(value: Any, significance: Any = 1) -> float | int:
    step = _num(significance or 1)
    result = math.floor(_num(value) / step) * step
    return int(result) if float(result).is_integer() else result


@register(
    "ceiling",
    "value: number, significance: number?",
    "number",
    category="number",
    en="Rounds up to a multiple of `significance` (1 by default).",
    zh="向上舍入到 significance 的倍数（默认 1）。",
    examples=[("CEILING(7.2)", "8"), ("CEILING(21, 5)", "25")],
)
def ceiling(value: Any, significance: Any = 1) -> float | int:
    step = _num(significance or 1)
    result = math.ceil(_num(value) / step) * step
    return int(result) if float(result).is_integer() else result


@register(
    "int",
    "value: number",
    "integer",
    category="number",
    en="Rounds down to an integer.",
    zh="向下取整。",
    examples=[("INT(-3.5)", "-4")],
)
def int_(value: Any) -> int:
    return math.floor(_num(value))


@register(
    "abs",
    "value: number",
    lambda a: a[0] if a and a[0] == INTEGER else NUMBER,
    category="number",
    en="Absolute value.",
    zh="绝对值。",
    examples=[("ABS(-4)", "4")],
)
def abs_(value: Any) -> float | int:
    return abs(_num(value))


@register(
    "sign",
    "value: number",
    "integer",
    category="number",
    en="-1, 0 or 1 by the sign of the value.",
    zh="按正负返回 -1、0 或 1。",
    examples=[("SIGN(-2.5)", "-1")],
)
def sign(value: Any) -> int:
    x = _num(value)
    return (x > 0) - (x < 0)


@register(
    "mod",
    "value: number, divisor: number",
    "number",
    category="number",
    en="Remainder with the sign of the divisor (Excel MOD); null when dividing by 0.",
    zh="取余数，符号与除数相同（同 Excel MOD）；除数为 0 时为空。",
    examples=[("MOD(10, 3)", "1"), ("MOD(-10, 3)", "2")],
)
def mod(value: Any, divisor: Any) -> float | int | None:
    d = _num(divisor)
    return None if d == 0 else _num(value) % d


@register(
    "power",
    "base: number, exponent: number",
    "number",
    category="number",
    en="`base` raised to `exponent` (same as ^).",
    zh="乘方（与 ^ 相同）。",
    examples=[("POWER(2, 10)", "1024")],
)
def power(base: Any, exponent: Any) -> float | int | None:
    from engine.expr.runtime import power as _power

    return _power(base, exponent)


@register(
    "sqrt",
    "value: number",
    "number",
    category="number",
    en="Square root; null for negative numbers.",
    zh="平方根；负数时为空。",
    examples=[("SQRT(16)", "4")],
)
def sqrt(value: Any) -> float | None:
    x = _num(value)
    return None if x < 0 else math.sqrt(x)


@register(
    "exp",
    "value: number",
    "number",
    category="number",
    en="e raised to a power.",
    zh="e 的乘方。",
    examples=[("ROUND(EXP(1), 4)", "2.7183")],
)
def exp(value: Any) -> float:
    try:
        return math.exp(_num(value))
    except OverflowError:
        raise fail("expr.limit.number") from None


@register(
    "ln",
    "value: number",
    "number",
    category="number",
    en="Natural logarithm; null for values ≤ 0.",
    zh="自然对数；值 ≤ 0 时为空。",
    examples=[("LN(1)", "0")],
)
def ln(value: Any) -> float | None:
    x = _num(value)
    return math.log(x) if x > 0 else None


@register(
    "log10",
    "value: number",
    "number",
    category="number",
    en="Base-10 logarithm; null for values ≤ 0.",
    zh="以 10 为底的对数；值 ≤ 0 时为空。",
    examples=[("LOG10(1000)", "3")],
)
def log10(value: Any) -> float | None:
    x = _num(value)
    return math.log10(x) if x > 0 else None


@register(
    "sum",
    f"values: {NUMS}...",
    _numeric_result,
    category="number",
    propagate_null=False,
    en="Adds numbers and lists of numbers (such as a subtable column), skipping nulls.",
    zh="对数字及数字列表（如子表的某一列）求和，忽略空值。",
    examples=[("SUM(1, 2, 3)", "6"), ("SUM([1.5, null, 2])", "3.5")],
)
def sum_(*values: Any) -> float | int:
    return sum(_nums(values))


@register(
    "average",
    f"values: {NUMS}...",
    "number",
    category="number",
    propagate_null=False,
    aliases=["avg"],
    en="Arithmetic mean of numbers and lists, skipping nulls; null when there are none.",
    zh="对数字及数字列表求平均值，忽略空值；没有数值时为空。",
    examples=[("AVERAGE([2, 4, null])", "3")],
)
def average(*values: Any) -> float | None:
    items = _nums(values)
    return sum(items) / len(items) if items else None


@register(
    "product",
    f"values: {NUMS}...",
    _numeric_result,
    category="number",
    propagate_null=False,
    en="Multiplies numbers and lists (LEC risk: PRODUCT(L, E, C)).",
    zh="对数字及数字列表求乘积（如 LEC 风险值：PRODUCT(L, E, C)）。",
    examples=[("PRODUCT(3, 6, 7)", "126")],
)
def product(*values: Any) -> float | int | None:
    items = _nums(values)
    return math.prod(items) if items else None


@register(
    "median",
    f"values: {NUMS}...",
    "number",
    category="number",
    propagate_null=False,
    en="The middle value, skipping nulls.",
    zh="中位数，忽略空值。",
    examples=[("MEDIAN([3, 1, 2, 10])", "2.5")],
)
def median(*values: Any) -> float | int | None:
    items = _nums(values)
    return statistics.median(items) if items else None


def _extreme(pick: Any, values: Sequence[Any]) -> Any:
    items = _flat(values)
    if not items:
        return None
    for item in items:
        if not (is_number(item) or isinstance(item, date)):
            raise type_error("number", item)
    try:
        return pick(items)
    except TypeError:
        raise fail("expr.runtime.compare", left="number", right="date") from None


@register(
    "min",
    "values: number|date|datetime|list[any]...",
    _ordered_result,
    category="number",
    propagate_null=False,
    en="The smallest number or earliest date, skipping nulls.",
    zh="最小的数字或最早的日期，忽略空值。",
    examples=[("MIN(3, 1, 2)", "1"), ("MIN([4, null, 2])", "2")],
)
def min_(*values: Any) -> Any:
    return _extreme(min, values)


@register(
    "max",
    "values: number|date|datetime|list[any]...",
    _ordered_result,
    category="number",
    propagate_null=False,
    en="The largest number or latest date, skipping nulls.",
    zh="最大的数字或最晚的日期，忽略空值。",
    examples=[("MAX(3, 1, 2)", "3")],
)
def max_(*values: Any) -> Any:
    return _extreme(max, values)


@register(
    "clamp",
    "value: number, low: number, high: number",
    "number",
    category="number",
    en="The value limited to the range [low, high].",
    zh="将值限制在 [low, high] 范围内。",
    examples=[("CLAMP(120, 0, 100)", "100")],
)
def clamp(value: Any, low: Any, high: Any) -> float | int:
    return min(max(_num(value), _num(low)), _num(high))
