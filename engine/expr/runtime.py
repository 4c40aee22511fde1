"""Operations the generated code calls when the checker could not prove the operand types.

The compiler inlines the common, fully typed cases (`x > 24` on a number field); everything
else goes through these null-safe, timezone-aware helpers, which define the semantics that
docs/expr.md documents: null propagates through arithmetic, ordering with null is false,
dates meet datetimes at site-local midnight, and nothing here ever reaches into a Python
object's attributes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from engine.expr.context import EvalContext, context_or_default
from engine.expr.errors import ExprError, fail
from engine.expr.limits import MAX_TEXT_RESULT, MAX_WORK
from engine.expr.values import (
    CalendarDuration,
    add_duration,
    duration_key,
    kind_of,
    short,
    to_date,
    to_datetime,
    to_text,
    type_label,
)

_NUMS = {int, float}
_DURATIONS = (timedelta, CalendarDuration)


def tz_of(c: EvalContext | None) -> tzinfo:
    return context_or_default(c).tz


def type_error(expected: str, value: Any) -> ExprError:
    return fail(
        "expr.runtime.type", expected=type_label(expected), got=type_label(kind_of(value)), value=short(value)
    )


def is_number(value: Any) -> bool:
    return type(value) in _NUMS


# --- coercion on field reads ------------------------------------------------------------------


def as_date(value: Any, c: EvalContext | None) -> date | None:
    return to_date(value, tz_of(c))


def as_datetime(value: Any, c: EvalContext | None) -> datetime | None:
    return to_datetime(value, tz_of(c))


def local_literal(value: datetime, c: EvalContext | None) -> datetime:
    """A naive datetime literal (`d"2026-01-31 08:00"`) means site time."""
    return value.replace(tzinfo=tz_of(c))


def variable(c: EvalContext | None, name: str) -> Any:
    """A named scope from the context (a rule alias such as `h`)."""
    return context_or_default(c).variables.get(name)


def truth(value: Any) -> bool:
    """Conditions: null is false; anything but a boolean is a type error, not JS truthiness."""
    if value is None:
        return False
    if value is True or value is False:
        return value
    raise type_error("boolean", value)


# --- comparison -------------------------------------------------------------------------------


def _pair(a: Any, b: Any, c: EvalContext | None) -> tuple[Any, Any]:
    """Bring two non-null values to a comparable form or raise a clear error."""
    ta, tb = type(a), type(b)
    if (ta in _NUMS and tb in _NUMS) or ta is tb is str:
        return a, b
    if isinstance(a, date) or isinstance(b, date):
        if isinstance(a, datetime) or isinstance(b, datetime) or _has_time(a) or _has_time(b):
            tz = tz_of(c)
            return _temporal(a, tz, True), _temporal(b, tz, True)
        return _temporal(a, None, False), _temporal(b, None, False)
    if isinstance(a, _DURATIONS) and isinstance(b, _DURATIONS):
        return duration_key(a), duration_key(b)
    if ta is tb is bool:
        return a, b
    raise fail("expr.runtime.compare", left=type_label(kind_of(a)), right=type_label(kind_of(b)))


def _has_time(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) > 10


def _temporal(value: Any, tz: tzinfo | None, with_time: bool) -> Any:
    if isinstance(value, date | str):
        return to_datetime(value, tz or UTC) if with_time else to_date(value)
    raise fail("expr.runtime.compare", left=type_label("date"), right=type_label(kind_of(value)))


def eq(a: Any, b: Any, c: EvalContext | None = None) -> bool:
    """`==`: null equals only null; booleans never equal numbers; text never equals a number."""
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if ta is tb and ta in (str, int, float, bool):
        return a == b
    if ta is bool or tb is bool:
        return False
    if ta in _NUMS and tb in _NUMS:
        return a == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(eq(x, y, c) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return dict(a) == dict(b)
    try:
        x, y = _pair(a, b, c)
    except ExprError:
        return False
    return bool(x == y)


def eq_text(a: Any, text: str) -> bool:
    """`eq(a, text)` for a text that parses as no date or time: only a text can equal it (a date
    or a number compared with it is not equal, as in `eq`), so no context is needed."""
    return type(a) is str and a == text


def ne(a: Any, b: Any, c: EvalContext | None = None) -> bool:
    return not eq(a, b, c)


def lt(a: Any, b: Any, c: EvalContext | None = None) -> bool:
    if a is None or b is None:
        return False
    x, y = _pair(a, b, c)
    return bool(x < y)


def le(a: Any, b: Any, c: EvalContext | None = None) -> bool:
    if a is None or b is None:
        return False
    x, y = _pair(a, b, c)
    return bool(x <= y)


def gt(a: Any, b: Any, c: EvalContext | None = None) -> bool:
    return lt(b, a, c)


def ge(a: Any, b: Any, c: EvalContext | None = None) -> bool:
    return le(b, a, c)


def contains(container: Any, item: Any, c: EvalContext | None = None) -> bool:
    """`item in container`: list membership (by `==`), or a substring test on text."""
    if container is None:
        return False
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, list | tuple | set | frozenset):
        if type(item) is str:
            return item in container
        return any(eq(item, x, c) for x in container)
    raise type_error("list", container)


def in_range(item: Any, low: Any, high: Any, c: EvalContext | None = None) -> bool:
    return le(low, item, c) and le(item, high, c)


# --- arithmetic -------------------------------------------------------------------------------


def _text_as_temporal(a: Any, b: Any, c: EvalContext | None) -> tuple[Any, Any]:
    """ISO text meeting a date/datetime in arithmetic is read as one (untyped JSON data)."""
    if isinstance(a, str) and isinstance(b, date | timedelta | CalendarDuration):
        a = as_datetime(a, c) if _has_time(a) or isinstance(b, datetime) else as_date(a, c)
    if isinstance(b, str) and isinstance(a, date):
        b = as_datetime(b, c) if _has_time(b) or isinstance(a, datetime) else as_date(b, c)
    return a, b


def add(a: Any, b: Any, c: EvalContext | None = None) -> Any:
    if a is None or b is None:
        return None
    if type(a) in _NUMS and type(b) in _NUMS:
        return a + b
    a, b = _text_as_temporal(a, b, c)
    if isinstance(a, date) and isinstance(b, _DURATIONS):
        return add_duration(a, b, tz_of(c))
    if isinstance(a, _DURATIONS) and isinstance(b, date):
        return add_duration(b, a, tz_of(c))
    if isinstance(a, _DURATIONS) and isinstance(b, _DURATIONS):
        return a + b
    raise _operand_error("+", a, b)


def sub(a: Any, b: Any, c: EvalContext | None = None) -> Any:
    if a is None or b is None:
        return None
    if type(a) in _NUMS and type(b) in _NUMS:
        return a - b
    a, b = _text_as_temporal(a, b, c)
    if isinstance(a, date) and isinstance(b, _DURATIONS):
        return add_duration(a, -b, tz_of(c))
    if isinstance(a, date) and isinstance(b, date):
        if type(a) is date and type(b) is date:
            return a - b
        tz = tz_of(c)
        return to_datetime(a, tz) - to_datetime(b, tz)  # type: ignore[operator]
    if isinstance(a, _DURATIONS) and isinstance(b, _DURATIONS):
        return a + (-b)
    raise _operand_error("-", a, b)


def mul(a: Any, b: Any, c: EvalContext | None = None) -> Any:
    if a is None or b is None:
        return None
    if type(a) in _NUMS and type(b) in _NUMS:
        return a * b
    if isinstance(a, _DURATIONS) and type(b) in _NUMS:
        return _scale(a, b)
    if type(a) in _NUMS and isinstance(b, _DURATIONS):
        return _scale(b, a)
    raise _operand_error("*", a, b)


def _scale(duration: Any, factor: float) -> Any:
    if isinstance(duration, CalendarDuration):
        if factor != int(factor):
            raise _operand_error("*", duration, factor)
        return CalendarDuration(duration.months * int(factor), duration.delta * factor)
    return duration * factor


def div(a: Any, b: Any, c: EvalContext | None = None) -> Any:
    """`/`: dividing by zero gives null (like SQL's NULLIF idiom), never an exception."""
    if a is None or b is None:
        return None
    if type(a) in _NUMS and type(b) in _NUMS:
        return None if b == 0 else a / b
    if isinstance(a, _DURATIONS) and type(b) in _NUMS:
        return None if b == 0 else duration_key(a) / b
    if isinstance(a, _DURATIONS) and isinstance(b, _DURATIONS):
        divisor = duration_key(b)
        return None if not divisor else duration_key(a) / divisor
    raise _operand_error("/", a, b)


def mod(a: Any, b: Any, c: EvalContext | None = None) -> Any:
    if a is None or b is None:
        return None
    if type(a) in _NUMS and type(b) in _NUMS:
        return None if b == 0 else a % b
    raise _operand_error("%", a, b)


def power(a: Any, b: Any, c: EvalContext | None = None) -> Any:
    """`^` with bounded work: huge integer powers are computed as floats (and overflow to an
    error), a negative base with a fractional exponent is null."""
    if a is None or b is None:
        return None
    if type(a) not in _NUMS or type(b) not in _NUMS:
        raise _operand_error("^", a, b)
    if type(a) is int and type(b) is int and b >= 0 and a.bit_length() * b <= 4096:
        return a**b
    if a == 0 and b < 0:
        return None
    try:
        result = math.pow(a, b)
    except (OverflowError, ValueError):
        if a < 0 and not float(b).is_integer():
            return None
        raise fail("expr.limit.number") from None
    return result


def neg(a: Any, c: EvalContext | None = None) -> Any:
    if a is None:
        return None
    if type(a) in _NUMS or isinstance(a, _DURATIONS):
        return -a
    raise type_error("number", a)


def pos(a: Any, c: EvalContext | None = None) -> Any:
    if a is None or type(a) in _NUMS:
        return a
    raise type_error("number", a)


def concat(a: Any, b: Any) -> str:
    """`&`: text concatenation; null is empty text."""
    text = to_text(a) + to_text(b)
    if len(text) > MAX_TEXT_RESULT:
        raise fail("expr.limit.text_too_long", limit=MAX_TEXT_RESULT)
    return text


def _operand_error(op: str, a: Any, b: Any) -> ExprError:
    hint = {"en": "", "zh-CN": ""}
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        hint = {"en": " (use & or CONCAT to join text)", "zh-CN": "（连接文本请用 & 或 CONCAT）"}
    return fail(
        "expr.operand_types", op=op, left=type_label(kind_of(a)), right=type_label(kind_of(b)), hint=hint
    )


# --- paths and lists --------------------------------------------------------------------------


def runtime_error(error: BaseException) -> ExprError:
    """A Python failure inside generated code, as our error type (never a bare exception)."""
    if isinstance(error, RecursionError | MemoryError):
        return fail("expr.limit.work", limit=MAX_WORK)
    detail = str(error) or type(error).__name__
    if isinstance(error, AttributeError):
        detail = "a field path reached a value that is not a record"
    return fail("expr.runtime.error", detail=detail)
