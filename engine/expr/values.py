"""Runtime values: durations with calendar months, date/time coercion, canonical formats.

Record data arrives as JSON (dates as "YYYY-MM-DD", datetimes as UTC "YYYY-MM-DDTHH:MM:SSZ"),
so every date read goes through `to_date` / `to_datetime`; naive datetimes mean site time, so a
naive value never meets an aware one. Durations are `timedelta`, or `CalendarDuration` when they
count months (a month is not a fixed number of seconds).
"""

from __future__ import annotations

import calendar as _cal
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from engine.expr.errors import fail

_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(mo|min|ms|[smhdwy])$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DAYS_PER_MONTH = 30  # only for comparing a month-based duration with a fixed one


@dataclass(frozen=True, slots=True)
class CalendarDuration:
    """A duration that counts calendar months (`3mo`, `1y`) plus a fixed remainder."""

    months: int
    delta: timedelta = timedelta(0)

    def approx(self) -> timedelta:
        """For ordering against fixed durations only: a month counts as 30 days."""
        return self.delta + timedelta(days=_DAYS_PER_MONTH * self.months)

    def __neg__(self) -> CalendarDuration:
        return CalendarDuration(-self.months, -self.delta)

    def __add__(self, other: Any) -> CalendarDuration:
        if isinstance(other, CalendarDuration):
            return CalendarDuration(self.months + other.months, self.delta + other.delta)
        if isinstance(other, timedelta):
            return CalendarDuration(self.months, self.delta + other)
        return NotImplemented

    __radd__ = __add__

    def __str__(self) -> str:
        rest = f" {format_duration(self.delta)}" if self.delta else ""
        return f"{self.months}mo{rest}"


Duration = timedelta | CalendarDuration


def parse_duration(text: str) -> Duration:
    """`7d`, `24h`, `30min`, `1.5h`, `3mo`, `1y` → a duration value."""
    match = _DURATION_RE.match(text)
    if not match:
        raise ValueError(text)
    amount, unit = float(match.group(1)), match.group(2)
    if unit in ("mo", "y"):
        months = amount * (12 if unit == "y" else 1)
        if months != int(months):
            raise ValueError(text)
        return CalendarDuration(int(months))
    if unit not in _UNIT_SECONDS:  # `m`: minutes or months? neither — write `min` or `mo`
        raise ValueError(text)
    return timedelta(seconds=amount * _UNIT_SECONDS[unit])


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamping to the month's last day (Jan 31 + 1mo = Feb 28)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise fail("expr.limit.number")
    last = _cal.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def add_duration(value: date | datetime, duration: Duration, tz: tzinfo) -> date | datetime:
    """date/datetime + duration. Months move the wall clock in the site timezone; a date stays
    a date (sub-day parts of the duration are dropped: `d"2026-01-01" + 36h` is Jan 2)."""
    months, delta = (
        (duration.months, duration.delta) if isinstance(duration, CalendarDuration) else (0, duration)
    )
    if isinstance(value, datetime):
        local = value.astimezone(tz)
        if months:
            local = datetime.combine(add_months(local.date(), months), local.timetz())
        return (local + delta).astimezone(value.tzinfo)
    day = add_months(value, months) if months else value
    return day + timedelta(days=math.floor(delta / timedelta(days=1)))


def duration_key(value: Duration) -> timedelta:
    return value.approx() if isinstance(value, CalendarDuration) else value


def to_date(value: Any, tz: tzinfo | None = None) -> date | None:
    """A date from a date, an aware/naive datetime (its site-local day) or an ISO string."""
    if value is None or type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if tz is not None and value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return to_date(parse_datetime(text, tz or UTC), tz)
        except ValueError:
            pass
    raise fail(
        "expr.runtime.type", expected=type_label("date"), got=type_label(kind_of(value)), value=short(value)
    )


def parse_datetime(text: str, tz: tzinfo) -> datetime:
    """ISO 8601 (`Z` or offset, or naive meaning site time); a bare date is its local midnight."""
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(0), tz)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def to_datetime(value: Any, tz: tzinfo) -> datetime | None:
    """An aware datetime: naive values are site time, a date is its site-local midnight."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tz)
    if isinstance(value, str) and value.strip():
        try:
            return parse_datetime(value, tz)
        except ValueError:
            pass
    raise fail(
        "expr.runtime.type",
        expected=type_label("datetime"),
        got=type_label(kind_of(value)),
        value=short(value),
    )


def format_date(value: date) -> str:
    return value.isoformat()


def format_datetime_utc(value: datetime, tz: tzinfo = UTC) -> str:
    """The canonical stored form: UTC, second precision, `Z` (naive values are taken as `tz`)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(value: Duration) -> str:
    """`1d 2h 30min` style, the same units the literals use."""
    if isinstance(value, CalendarDuration):
        return str(value)
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{int(count)}{unit}")
    if seconds or not parts:
        parts.append(f"{format_number(round(seconds, 3))}s")
    return sign + " ".join(parts)


def format_number(value: float | int) -> str:
    """Numbers as people write them: `3` not `3.0`, no exponent for ordinary sizes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def to_text(value: Any) -> str:
    """The text form used by `&`, CONCAT and TEXT: null is empty, dates are ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds" if value.microsecond == 0 else "auto")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta | CalendarDuration):
        return format_duration(value)
    if isinstance(value, list | tuple):
        return ",".join(to_text(v) for v in value)
    return str(value)


def kind_of(value: Any) -> str:
    """The language type name of a runtime value (for messages and generic dispatch)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, timedelta | CalendarDuration):
        return "duration"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict) or hasattr(value, "keys"):
        return "record"
    return "any"


_TYPE_LABELS = {
    "text": ("text", "文本"),
    "number": ("a number", "数字"),
    "integer": ("an integer", "整数"),
    "boolean": ("yes/no (boolean)", "是/否（布尔）"),
    "date": ("a date", "日期"),
    "datetime": ("a date-time", "日期时间"),
    "duration": ("a duration", "时长"),
    "null": ("null (empty)", "空值"),
    "any": ("any value", "任意值"),
    "list": ("a list", "列表"),
    "record": ("a record", "记录"),
}


def type_label(name: str) -> dict[str, str]:
    """A type's name in words, both locales (`list[number]` → "a list of a number")."""
    if name.startswith("list[") and name.endswith("]"):
        inner = type_label(name[5:-1])
        return {"en": f"a list of {inner['en']}", "zh-CN": f"{inner['zh-CN']}列表"}
    if name.startswith("record"):
        name = "record"
    en, zh = _TYPE_LABELS.get(name, (name, name))
    return {"en": en, "zh-CN": zh}


def short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_json(value: Any) -> Any:
    """A JSON-safe form of any runtime value (for explanations and bound aggregates)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return format_datetime_utc(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, timedelta | CalendarDuration):
        return format_duration(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if hasattr(value, "items"):
        return {str(k): to_json(v) for k, v in value.items()}
    return str(value)
