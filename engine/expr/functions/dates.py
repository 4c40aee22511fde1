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
from engine.expr.values import CalendarDuration, add_months, duration_key, to_date, to_datetime

_DAY = timedelta(days=1)


def _ctx(c: EvalContext | None) -> EvalContext:
    return context_or_default(c)


def _local_date(c: EvalContext | None, value: Any) -> date:
    if isinstance(value, datetime):
        return to_date(value, _ctx(c).tz)  # type: ignore[return-value]
    if isinstance(value, date):
        return value
    result = to_date(value, _ctx(c).tz)
    if result is None:
        raise type_error("date", value)
    return result


def _local_datetime(c: EvalContext | None, value: Any) -> datetime:
    result = to_datetime(value, _ctx(c).tz)
    if result is None:
        raise type_error("datetime", value)
    return result.astimezone(_ctx(c).tz)


def _int(value: Any) -> int:
    if is_number(value):
        return int(value)
    raise type_error("integer", value)


def _same_kind(value: Any) -> Any:
    """result rule: a date stays a date, a datetime stays a datetime"""
    return DATETIME if value and value[0] == DATETIME else DATE


@register(
    "today",
    "",
    "date",
    category="date",
    needs_context=True,
    volatile=True,
    en="Today's date in the site timezone.",
    zh="站点时区的今天日期。",
    examples=[("TODAY()", 'd"2026-03-16"')],
)
def today(c: Any) -> date:
    return _ctx(c).today()


@register(
    "now",
    "",
    "datetime",
    category="date",
    needs_context=True,
    volatile=True,
    en="The current date and time (site timezone).",
    zh="当前日期时间（站点时区）。",
    examples=[("HOUR(NOW())", "10")],
)
def now(c: Any) -> datetime:
    return _ctx(c).current_time()


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
        base = add_months(date(_int(year), 1, 1), _int(month) - 1)
        return base + (_int(day) - 1) * _DAY
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
        clock = time(_int(hour or 0), _int(minute or 0), _int(second or 0))
    except ValueError:
        raise fail(
            "expr.runtime.bad_value", function="DATETIME", detail=f"{hour}:{minute}:{second}"
        ) from None
    return datetime.combine(base, clock, _ctx(c).tz)


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
    return _local_date(c, value).year


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
    return _local_date(c, value).month


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
    return _local_date(c, value).day


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
    return _local_datetime(c, value).hour


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
    return _local_datetime(c, value).minute


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
    return _local_date(c, value).isoweekday()


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
    return _local_date(c, value).isocalendar()[1]


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
    return (_local_date(c, value).month - 1) // 3 + 1


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
        delta = _local_datetime(c, end) - _local_datetime(c, start)
        return int(delta / (timedelta(hours=1) if kind == "H" else timedelta(minutes=1)))
    a, b = _local_date(c, start), _local_date(c, end)
    if kind == "D":
        return (b - a).days
    if kind in ("M", "Y"):
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        months = (b.year - a.year) * 12 + b.month - a.month - (1 if b.day < a.day else 0)
        return sign * (months // 12 if kind == "Y" else months)
    raise fail("expr.runtime.bad_value", function="DATEDIF", detail=f"unit {unit!r}")


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
    return (_local_date(c, end) - _local_date(c, start)).days


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
    return (_local_datetime(c, end) - _local_datetime(c, start)) / timedelta(hours=1)


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
    volatile=True,
    en="Whole days from a date until today.",
    zh="从某日期到今天的整天数。",
    examples=[('AGE_DAYS(d"2026-03-01")', "15")],
)
def age_days(c: Any, since: Any) -> int:
    return (_ctx(c).today() - _local_date(c, since)).days


@register(
    "age_hours",
    "since: datetime",
    "number",
    category="date",
    needs_context=True,
    volatile=True,
    en="Hours from a moment until now: age_hours(created_at) > 24.",
    zh="从某时刻到现在的小时数：age_hours(created_at) > 24。",
    examples=[('AGE_HOURS(d"2026-03-16 07:30")', "2.5")],
)
def age_hours(c: Any, since: Any) -> float:
    return (_ctx(c).current_time() - _local_datetime(c, since)) / timedelta(hours=1)


@register(
    "workdays",
    "start: datetime, end: datetime",
    "integer",
    category="date",
    needs_context=True,
    aliases=["networkdays"],
    en="Working days from start to end, both included, by the site's business calendar "
    "(holidays and 调休 working weekends count correctly).",
    zh="按站点工作日历计算从开始到结束（含首尾）的工作日数，节假日与调休均计入。",
    examples=[('WORKDAYS(d"2026-03-02", d"2026-03-08")', "5")],
)
def workdays(c: Any, start: Any, end: Any) -> int:
    return _ctx(c).business_calendar().networkdays(_local_date(c, start), _local_date(c, end))


@register(
    "workday",
    "start: datetime, days: integer",
    _same_kind,
    category="date",
    needs_context=True,
    aliases=["add_workdays"],
    en="The date `days` working days after start (before, when negative), by the business calendar.",
    zh="按工作日历，从开始日期起向后（负数向前）数若干个工作日后的日期。",
    examples=[('WORKDAY(d"2026-03-06", 1)', 'd"2026-03-09"')],
)
def workday(c: Any, start: Any, days: Any) -> Any:
    calendar = _ctx(c).business_calendar()
    if isinstance(start, datetime):
        return calendar.add_workdays(_local_datetime(c, start), _int(days))
    return calendar.add_workdays(_local_date(c, start), _int(days))


@register(
    "isworkday",
    "value: datetime",
    "boolean",
    category="date",
    needs_context=True,
    en="Whether the date is a working day in the business calendar.",
    zh="按工作日历判断该日是否为工作日。",
    examples=[('ISWORKDAY(d"2026-03-07")', "false")],
)
def isworkday(c: Any, value: Any) -> bool:
    return _ctx(c).business_calendar().is_workday(_local_date(c, value))


@register(
    "add_business_hours",
    "start: datetime, hours: number",
    "datetime",
    category="date",
    needs_context=True,
    en="The moment after `hours` of working time (business hours of working days).",
    zh="从开始时刻起累计若干个工作小时（仅计工作日的工作时段）后的时刻。",
    examples=[('HOUR(ADD_BUSINESS_HOURS(d"2026-03-06 17:00", 2))', "10")],
)
def add_business_hours(c: Any, start: Any, hours: Any) -> datetime:
    if not is_number(hours):
        raise type_error("number", hours)
    return (
        _ctx(c).business_calendar().add_business_duration(_local_datetime(c, start), timedelta(hours=hours))
    )


@register(
    "business_hours_between",
    "start: datetime, end: datetime",
    "number",
    category="date",
    needs_context=True,
    en="Working hours between two moments.",
    zh="两个时刻之间的工作小时数。",
    examples=[('BUSINESS_HOURS_BETWEEN(d"2026-03-06 17:00", d"2026-03-09 10:00")', "2")],
)
def business_hours_between(c: Any, start: Any, end: Any) -> float:
    calendar = _ctx(c).business_calendar()
    return calendar.business_time_between(_local_datetime(c, start), _local_datetime(c, end)) / timedelta(
        hours=1
    )


@register(
    "edate",
    "start: datetime, months: integer",
    _same_kind,
    category="date",
    needs_context=True,
    en="The same day `months` later (clamped to the month's end).",
    zh="若干个月后的同一天（超出月末取月末）。",
    examples=[('EDATE(d"2026-01-31", 1)', 'd"2026-02-28"')],
)
def edate(c: Any, start: Any, months: Any) -> Any:
    if isinstance(start, datetime):
        local = _local_datetime(c, start)
        return datetime.combine(add_months(local.date(), _int(months)), local.timetz())
    return add_months(_local_date(c, start), _int(months))


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
    first = add_months(_local_date(c, start).replace(day=1), _int(months) + 1)
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
        return to_datetime(text, _ctx(c).tz)
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
    return _local_date(c, value)
