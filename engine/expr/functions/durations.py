"""Durations: building them (DAYS(30), MONTHS(3)), measuring them (IN_HOURS), and the
distance between two moments (DAYS_BETWEEN, AGE_HOURS) — the arithmetic behind deadlines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.expr.errors import fail
from engine.expr.functions.dates import ctx_of, local_date, local_datetime
from engine.expr.functions.registry import register
from engine.expr.runtime import is_number, type_error
from engine.expr.values import CalendarDuration, duration_key

_DAY = timedelta(days=1)


def _duration_ctor(name: str, unit: str, en: str, zh: str, example: tuple[str, str]) -> None:
    @register(name, "count: number", "duration", category="date", en=en, zh=zh, examples=[example])
    def make(count: Any) -> Any:
        amount = count if is_number(count) else None
        if amount is None:
            raise type_error("number", count)
        if unit == "months":
            if float(amount) != int(amount):
                raise fail("expr.runtime.bad_value", function=name.upper(), detail="whole months only")
            return CalendarDuration(int(amount))
        try:
            return timedelta(**{unit: amount})
        except OverflowError:
            raise fail("expr.limit.number") from None


_duration_ctor(
    "days",
    "days",
    "A duration of n days: TODAY() + DAYS(30).",
    "n 天的时长：TODAY() + DAYS(30)。",
    ('d"2026-01-01" + DAYS(30)', 'd"2026-01-31"'),
)


_duration_ctor("hours", "hours", "A duration of n hours.", "n 小时的时长。", ("HOURS(1.5) == 90min", "true"))


_duration_ctor(
    "minutes", "minutes", "A duration of n minutes.", "n 分钟的时长。", ("MINUTES(90) == 1.5h", "true")
)


_duration_ctor("weeks", "weeks", "A duration of n weeks.", "n 周的时长。", ("WEEKS(2) == 14d", "true"))


_duration_ctor(
    "months",
    "months",
    "A duration of n calendar months (whole numbers).",
    "n 个自然月的时长（整数）。",
    ('d"2026-01-31" + MONTHS(1)', 'd"2026-02-28"'),
)


@register(
    "days_between",
    "start: datetime, end: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="Calendar days from start to end (negative when end is earlier); datetimes count by "
    "their site-local date.",
    zh="从开始到结束的自然日天数（结束较早时为负）；日期时间按站点本地日期计算。",
    examples=[('DAYS_BETWEEN(d"2026-03-01", d"2026-03-15")', "14")],
)
def days_between(c: Any, start: Any, end: Any) -> int:
    return (local_date(c, end) - local_date(c, start)).days


@register(
    "hours_between",
    "start: datetime, end: datetime",
    "number",
    category="date",
    needs_context=True,
    en="Hours from start to end (with decimals).",
    zh="从开始到结束的小时数（可含小数）。",
    examples=[('HOURS_BETWEEN(d"2026-03-01 08:00", d"2026-03-01 10:30")', "2.5")],
)
def hours_between(c: Any, start: Any, end: Any) -> float:
    return (local_datetime(c, end) - local_datetime(c, start)) / timedelta(hours=1)


@register(
    "in_days",
    "duration: duration",
    "number",
    category="date",
    en="A duration in days (a month counts as 30 days).",
    zh="时长折算为天数（一个月按 30 天）。",
    examples=[("IN_DAYS(36h)", "1.5")],
)
def in_days(duration: Any) -> float:
    return duration_key(duration) / _DAY


@register(
    "in_hours",
    "duration: duration",
    "number",
    category="date",
    en="A duration in hours.",
    zh="时长折算为小时数。",
    examples=[("IN_HOURS(90min)", "1.5")],
)
def in_hours(duration: Any) -> float:
    return duration_key(duration) / timedelta(hours=1)


@register(
    "in_minutes",
    "duration: duration",
    "number",
    category="date",
    en="A duration in minutes.",
    zh="时长折算为分钟数。",
    examples=[("IN_MINUTES(2h)", "120")],
)
def in_minutes(duration: Any) -> float:
    return duration_key(duration) / timedelta(minutes=1)


@register(
    "age_days",
    "since: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="Whole days from a date until today.",
    zh="从某日期到今天的整天数。",
    examples=[('AGE_DAYS(d"2026-03-01")', "15")],
)
def age_days(c: Any, since: Any) -> int:
    return (ctx_of(c).today() - local_date(c, since)).days


@register(
    "age_hours",
    "since: datetime",
    "number",
    category="date",
    needs_context=True,
    en="Hours from a moment until now: age_hours(created_at) > 24.",
    zh="从某时刻到现在的小时数：age_hours(created_at) > 24。",
    examples=[('AGE_HOURS(d"2026-03-16 07:30")', "2.5")],
)
def age_hours(c: Any, since: Any) -> float:
    return (ctx_of(c).current_time() - local_datetime(c, since)) / timedelta(hours=1)
