"""JavaScript semantics that JSON Logic rules depend on: truthiness, loose `==`, relational
coercion, Number()/parseFloat(). `from_jsonlogic` emits these so imported Form.io and
json-rules-engine rules behave exactly as before; hand-written expressions rarely need them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.expr.functions.registry import register, register_inline
from engine.expr.runtime import is_number

_JS_NUMBER = re.compile(r"^[+-]?(Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$")
_JS_FLOAT_PREFIX = re.compile(r"^[+-]?(Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")


def truthy(value: Any) -> bool:
    """JSON Logic truthiness: false, 0, NaN, "", null and [] are false; everything else true."""
    if value is None or value is False:
        return False
    if is_number(value):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    return True


def _primitive(value: Any) -> Any:
    """JS ToPrimitive for JSON values: arrays become their comma-joined text."""
    if isinstance(value, list | tuple):
        return ",".join("" if v is None else _js_string(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return value


def _js_string(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if is_number(value):
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e21 else repr(value)
    return str(_primitive(value))


def to_number(value: Any) -> float | int | None:
    """JS Number(): null→0, true→1, ""→0, "12"→12, anything else non-numeric → null (NaN)."""
    value = _primitive(value)
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if is_number(value):
        return None if math.isnan(value) else value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        if _JS_NUMBER.match(text):
            number = float(text)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return None


def _loose_eq(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple | Mapping) and isinstance(b, list | tuple | Mapping):
        return a is b
    if isinstance(a, list | tuple | Mapping):
        return _loose_eq(_primitive(a), b)
    if isinstance(b, list | tuple | Mapping):
        return _loose_eq(a, _primitive(b))
    if isinstance(a, bool) or isinstance(b, bool):
        return _loose_eq(
            to_number(a) if isinstance(a, bool) else a, to_number(b) if isinstance(b, bool) else b
        )
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    x, y = to_number(a), to_number(b)
    return x is not None and y is not None and x == y


def _relational(a: Any, b: Any, op: Callable[[Any, Any], bool]) -> bool:
    a, b = _primitive(a), _primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return op(a, b)
    x, y = to_number(a), to_number(b)
    return x is not None and y is not None and op(x, y)


@register(
    "truthy",
    "value: any",
    "boolean",
    category="jsonlogic",
    propagate_null=False,
    en='JSON Logic truthiness: false, 0, "", null and [] are false, everything else is true.',
    zh='JSON Logic 的真值规则：false、0、""、null 和 [] 为假，其余为真。',
    examples=[('TRUTHY("0")', "true"), ("TRUTHY([])", "false")],
)
def truthy_(value: Any) -> bool:
    return truthy(value)


@register(
    "loose_eq",
    "a: any, b: any",
    "boolean",
    category="jsonlogic",
    propagate_null=False,
    en='JavaScript\'s loose equality (==): 1 equals "1", 0 equals false, null equals only null.',
    zh='JavaScript 的宽松相等（==）：1 等于 "1"，0 等于 false，null 只等于 null。',
    examples=[('LOOSE_EQ(1, "1")', "true"), ("LOOSE_EQ(0, false)", "true")],
)
def loose_eq(a: Any, b: Any) -> bool:
    return _loose_eq(a, b)


@register(
    "loose_lt",
    "a: any, b: any",
    "boolean",
    category="jsonlogic",
    propagate_null=False,
    en='JavaScript\'s `<` with its coercions ("2" < 10 is true; text with text compares as text).',
    zh='JavaScript 的 < 比较及其类型转换（"2" < 10 为真；文本与文本按文本比较）。',
    examples=[('LOOSE_LT("2", 10)', "true")],
)
def loose_lt(a: Any, b: Any) -> bool:
    return _relational(a, b, lambda x, y: x < y)


@register(
    "loose_le",
    "a: any, b: any",
    "boolean",
    category="jsonlogic",
    propagate_null=False,
    en="JavaScript's `<=` with its coercions.",
    zh="JavaScript 的 <= 比较及其类型转换。",
    examples=[("LOOSE_LE(null, 0)", "true")],
)
def loose_le(a: Any, b: Any) -> bool:
    return _relational(a, b, lambda x, y: x <= y)


@register(
    "to_number",
    "value: any",
    "number",
    category="jsonlogic",
    propagate_null=False,
    en='JavaScript\'s Number(): null and "" are 0, true is 1, non-numeric text is null.',
    zh='JavaScript 的 Number()：null 和 "" 为 0，true 为 1，非数字文本为空。',
    examples=[('TO_NUMBER(" 12 ")', "12"), ('TO_NUMBER("12px")', "null")],
)
def to_number_(value: Any) -> float | int | None:
    return to_number(value)


@register(
    "parse_float",
    "value: any",
    "number",
    category="jsonlogic",
    propagate_null=False,
    en='JavaScript\'s parseFloat(): the leading number of a text ("12px" is 12), else null.',
    zh='JavaScript 的 parseFloat()：取文本开头的数字（"12px" 为 12），否则为空。',
    examples=[('PARSE_FLOAT("12px")', "12"), ("PARSE_FLOAT(null)", "null")],
)
def parse_float(value: Any) -> float | int | None:
    if is_number(value):
        return value
    match = _JS_FLOAT_PREFIX.match(_js_string(value).lstrip())
    if not match or match.group(1) == "Infinity":
        return None
    number = float(match.group(0))
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


@register(
    "rem",
    "value: number, divisor: number",
    "number",
    category="number",
    en="Remainder with the sign of the dividend (like % in C and JavaScript); null when dividing by 0.",
    zh="取余数，符号与被除数相同（同 C 与 JavaScript 的 %）；除数为 0 时为空。",
    examples=[("REM(-10, 3)", "-1")],
)
def rem(value: Any, divisor: Any) -> float | int | None:
    if not is_number(value) or not is_number(divisor) or divisor == 0:
        return None
    result = math.fmod(value, divisor)
    return int(result) if isinstance(value, int) and isinstance(divisor, int) else result


def _or_value(args: Sequence[str], tmp: Callable[[], str]) -> str:
    parts = []
    for arg in args[:-1]:
        name = tmp()
        parts.append(f"{name} if _truthy({name} := {arg}) else ")
    return "(" + "".join(parts) + args[-1] + ")"


def _and_value(args: Sequence[str], tmp: Callable[[], str]) -> str:
    parts = []
    for arg in args[:-1]:
        name = tmp()
        parts.append(f"{name} if not _truthy({name} := {arg}) else ")
    return "(" + "".join(parts) + args[-1] + ")"


register_inline(
    "or_value",
    "values: any...",
    "any",
    inline=_or_value,
    category="jsonlogic",
    en="JSON Logic `or`: the first truthy value, else the last value.",
    zh="JSON Logic 的 or：返回第一个为真的值，否则返回最后一个值。",
    examples=[('OR_VALUE(false, "", "a")', '"a"')],
)
register_inline(
    "and_value",
    "values: any...",
    "any",
    inline=_and_value,
    category="jsonlogic",
    en="JSON Logic `and`: the first falsy value, else the last value.",
    zh="JSON Logic 的 and：返回第一个为假的值，否则返回最后一个值。",
    examples=[('AND_VALUE(true, "", 3)', '""'), ("AND_VALUE(true, 3)", "3")],
)
