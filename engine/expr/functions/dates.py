"""Date and time functions. "Today", weekdays, years and hours are taken in the site timezone;
WORKDAYS/WORKDAY use the site's business calendar (holidays and 调休 working weekends)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from engine.expr.context import EvalContext, context_or_default
from engine.expr.errors import fail
from engine.expr.functions.registry import register
from engine.expr.runtime import is_number, type_error
from engine.expr.types import DATE, DATETIME
from engine.expr.values import add_months, to_date, to_datetime

_DAY = timedelta(days=1)


def ctx_of(c: EvalContext | None) -> EvalContext:
    return context_or_default(c)


def local_date(c: EvalContext | None, value: Any) -> date:
    if isinstance(value, datetime):
        return to_date(value, ctx_of(c).tz)  # type: ignore[return-value]
    if isinstance(value, date):
        return value
    result = to_date(value, ctx_of(c).tz)
    if result is None:
        raise type_error("date", value)
    return result


def local_datetime(c: EvalContext | None, value: Any) -> datetime:
    result = to_datetime(value, ctx_of(c).tz)
    if result is None:
        raise type_error("datetime", value)
    return result.astimezone(ctx_of(c).tz)


def as_int(value: Any) -> int:
    if is_number(value):
        return int(value)
    raise type_error("integer", value)


def same_kind(value: Any) -> Any:
    """result rule: a date stays a date, a datetime stays a datetime"""
    return DATETIME if value and value[0] == DATETIME else DATE


def _clock_fast(suffix: str) -> Any:
    """Without a context, read the real clock in the default site timezone inline."""

    def fast(args: Any, tmp: Any, fallback: str) -> str:
        return f"(_clock(_SITE_TZ){suffix} if c is None else {fallback}(c))"

    return fast


@register(
    "today",
    "",
    "date",
    category="date",
    needs_context=True,
    fast=_clock_fast(".date()"),
    never_null=True,
    en="Today's date in the site timezone.",
    zh="站点时区的今天日期。",
    examples=[("TODAY()", 'd"2026-03-16"')],
)
def today(c: Any) -> date:
    return ctx_of(c).today()


@register(
    "now",
    "",
    "datetime",
    category="date",
    needs_context=True,
    fast=_clock_fast(""),
    never_null=True,
    en="The current date and time (site timezone).",
    zh="当前日期时间（站点时区）。",
    examples=[("HOUR(NOW())", "10")],
)
def now(c: Any) -> datetime:
    return ctx_of(c).current_time()


@register(
    "date",
    "year: integer, month: integer, day: integer",
    "date",
    category="date",
    en="A date from parts; months and days beyond range roll over like Excel.",
    zh="由年、月、日构成日期；超出范围的月、日会像 Excel 一样顺延。",
    examples=[("DATE(2026, 1, 31)", 'd"2026-01-31"'), ("DATE(2026, 13, 1)", 'd"2027-01-01"')],
)
def date_(year: Any, month: Any, day: Any) -> date:
    try:
        base = add_months(date(as_int(year), 1, 1), as_int(month) - 1)
        return base + (as_int(day) - 1) * _DAY
    except (ValueError, OverflowError):
        raise fail("expr.runtime.bad_value", function="DATE", detail=f"{year}-{month}-{day}") from None


@register(
    "datetime",
    "year: integer, month: integer, day: integer, hour: integer?, minute: integer?, second: integer?",
    "datetime",
    category="date",
    needs_context=True,
    en="A date-time from parts, in the site timezone.",
    zh="由年月日时分秒构成日期时间（站点时区）。",
    examples=[("HOUR(DATETIME(2026, 3, 1, 8, 30))", "8")],
)
def datetime_(
    c: Any, year: Any, month: Any, day: Any, hour: Any = 0, minute: Any = 0, second: Any = 0
) -> datetime:
    base = date_(year, month, day)
    try:
        clock = time(as_int(hour or 0), as_int(minute or 0), as_int(second or 0))
    except ValueError:
        raise fail(
            "expr.runtime.bad_value", function="DATETIME", detail=f"{hour}:{minute}:{second}"
        ) from None
    return datetime.combine(base, clock, ctx_of(c).tz)


@register(
    "year",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="The year of a date.",
    zh="日期的年份。",
    examples=[('YEAR(d"2026-03-15")', "2026")],
)
def year(c: Any, value: Any) -> int:
    return local_date(c, value).year


@register(
    "month",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="The month (1–12) of a date.",
    zh="日期的月份（1–12）。",
    examples=[('MONTH(d"2026-03-15")', "3")],
)
def month(c: Any, value: Any) -> int:
    return local_date(c, value).month


@register(
    "day",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="The day of the month (1–31).",
    zh="日期是当月第几天（1–31）。",
    examples=[('DAY(d"2026-03-15")', "15")],
)
def day(c: Any, value: Any) -> int:
    return local_date(c, value).day


@register(
    "hour",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="The hour (0–23), in the site timezone.",
    zh="小时（0–23，站点时区）。",
    examples=[('HOUR(d"2026-03-15T00:30:00Z")', "8")],
)
def hour(c: Any, value: Any) -> int:
    return local_datetime(c, value).hour


@register(
    "minute",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="The minute (0–59).",
    zh="分钟（0–59）。",
    examples=[('MINUTE(d"2026-03-15 08:45")', "45")],
)
def minute(c: Any, value: Any) -> int:
    return local_datetime(c, value).minute


@register(
    "weekday",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="Day of the week, 1 = Monday … 7 = Sunday (ISO, as 星期一 = 1).",
    zh="星期几：1 = 星期一 … 7 = 星期日。",
    examples=[('WEEKDAY(d"2026-03-15")', "7")],
)
def weekday(c: Any, value: Any) -> int:
    return local_date(c, value).isoweekday()


@register(
    "weeknum",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="ISO week number (1–53).",
    zh="ISO 周数（1–53）。",
    examples=[('WEEKNUM(d"2026-01-05")', "2")],
)
def weeknum(c: Any, value: Any) -> int:
    return local_date(c, value).isocalendar()[1]


@register(
    "quarter",
    "value: datetime",
    "integer",
    category="date",
    needs_context=True,
    en="The quarter (1–4).",
    zh="季度（1–4）。",
    examples=[('QUARTER(d"2026-08-01")', "3")],
)
def quarter(c: Any, value: Any) -> int:
    return (local_date(c, value).month - 1) // 3 + 1


@register(
    "datedif",
    "start: datetime, end: datetime, unit: text",
    "integer",
    category="date",
    needs_context=True,
    en='Whole units between two dates: "Y" years, "M" months, "D" days, "H" hours, "MIN" minutes.',
    zh='两个日期之间的完整单位数："Y" 年、"M" 月、"D" 天、"H" 小时、"MIN" 分钟。',
    examples=[
        ('DATEDIF(d"2024-02-29", d"2026-02-28", "Y")', "1"),
        ('DATEDIF(d"2026-01-31", d"2026-03-01", "M")', "1"),
    ],
)
def datedif(c: Any, start: Any, end: Any, unit: Any) -> int:
    kind = str(unit).upper()
    if kind in ("H", "MIN"):
        delta = local_datetime(c, end) - local_datetime(c, start)
        return int(delta / (timedelta(hours=1) if kind == "H" else timedelta(minutes=1)))
    a, b = local_date(c, start), local_date(c, end)
    if kind == "D":
        return (b - a).days
    if kind in ("M", "Y"):
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        months = (b.year - a.year) * 12 + b.month - a.month - (1 if b.day < a.day else 0)
        return sign * (months // 12 if kind == "Y" else months)
    raise fail("expr.runtime.bad_value", function="DATEDIF", detail=f"unit {unit!r}")


@register(
    "edate",
    "start: datetime, months: integer",
    same_kind,
    category="date",
    needs_context=True,
    en="The same day `months` later (clamped to the month's end).",
    zh="若干个月后的同一天（超出月末取月末）。",
    examples=[('EDATE(d"2026-01-31", 1)', 'd"2026-02-28"')],
)
def edate(c: Any, start: Any, months: Any) -> Any:
    if isinstance(start, datetime):
        local = local_datetime(c, start)
        return datetime.combine(add_months(local.date(), as_int(months)), local.timetz())
    return add_months(local_date(c, start), as_int(months))


@register(
    "eomonth",
    "start: datetime, months: integer",
    "date",
    category="date",
    needs_context=True,
    en="The last day of the month `months` after start.",
    zh="若干个月后那个月的最后一天。",
    examples=[('EOMONTH(d"2026-01-15", 1)', 'd"2026-02-28"')],
)
def eomonth(c: Any, start: Any, months: Any) -> date:
    first = add_months(local_date(c, start).replace(day=1), as_int(months) + 1)
    return first - _DAY


@register(
    "datevalue",
    "text: text",
    "date",
    category="date",
    en='A date from ISO text ("2026-03-15"); null when it is not a date.',
    zh='将 ISO 文本（"2026-03-15"）转为日期；无法识别时为空。',
    examples=[('DATEVALUE("2026-03-15")', 'd"2026-03-15"')],
)
def datevalue(text: Any) -> date | None:
    try:
        return to_date(text)
    except Exception:
        return None


@register(
    "datetimevalue",
    "text: text",
    "datetime",
    category="date",
    needs_context=True,
    en="A date-time from ISO text (naive text means site time); null when invalid.",
    zh="将 ISO 文本转为日期时间（无时区即站点时间）；无法识别时为空。",
    examples=[('HOUR(DATETIMEVALUE("2026-03-15T00:00:00Z"))', "8")],
)
def datetimevalue(c: Any, text: Any) -> datetime | None:
    try:
        return to_datetime(text, ctx_of(c).tz)
    except Exception:
        return None


@register(
    "todate",
    "value: datetime",
    "date",
    category="date",
    needs_context=True,
    en="The site-local date of a date-time.",
    zh="日期时间在站点时区的日期部分。",
    examples=[('TODATE(d"2026-03-15T20:00:00Z")', 'd"2026-03-16"')],
)
def todate(c: Any, value: Any) -> date:
    return local_date(c, value)
