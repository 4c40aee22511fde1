"""Working-day functions over the site's business calendar (holidays and 调休 working weekends):
WORKDAYS, WORKDAY, ISWORKDAY, ISHOLIDAY,
NEXT_HOLIDAY and working-hour arithmetic for SLAs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.expr.functions.dates import as_int, ctx_of, local_date, local_datetime, same_kind
from engine.expr.functions.registry import register
from engine.expr.runtime import is_number, type_error


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
    return ctx_of(c).business_calendar().networkdays(local_date(c, start), local_date(c, end))


@register(
    "workday",
    "start: datetime, days: integer",
    same_kind,
    category="date",
    needs_context=True,
    aliases=["add_workdays"],
    en="The date `days` working days after start (before, when negative), by the business calendar.",
    zh="按工作日历，从开始日期起向后（负数向前）数若干个工作日后的日期。",
    examples=[('WORKDAY(d"2026-03-06", 1)', 'd"2026-03-09"')],
)
def workday(c: Any, start: Any, days: Any) -> Any:
    calendar = ctx_of(c).business_calendar()
    if isinstance(start, datetime):
        return calendar.add_workdays(local_datetime(c, start), as_int(days))
    return calendar.add_workdays(local_date(c, start), as_int(days))


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
    return ctx_of(c).business_calendar().is_workday(local_date(c, value))


@register(
    "isholiday",
    "value: datetime",
    "boolean",
    category="date",
    needs_context=True,
    en="Whether the date is a public holiday in the business calendar (an ordinary weekend is not).",
    zh="按工作日历判断该日是否为法定节假日（普通周末不算）。",
    examples=[('ISHOLIDAY(d"2026-03-07")', "false")],
)
def isholiday(c: Any, value: Any) -> bool:
    return ctx_of(c).business_calendar().is_holiday(local_date(c, value))


@register(
    "next_holiday",
    "start: datetime",
    same_kind,
    category="date",
    needs_context=True,
    en="The first public holiday after start in the business calendar (a datetime keeps its time of "
    "day), or null when the calendar lists none; `WORKDAY(NEXT_HOLIDAY(x), -1)` is the last working "
    "day before it.",
    zh="按工作日历，开始日期之后的第一个法定节假日（日期时间保留时刻）；日历中没有时为空。"
    "`WORKDAY(NEXT_HOLIDAY(x), -1)` 即节前最后一个工作日。",
    examples=[('NEXT_HOLIDAY(d"2026-03-16")', "null")],
)
def next_holiday(c: Any, start: Any) -> Any:
    calendar = ctx_of(c).business_calendar()
    if isinstance(start, datetime):
        return calendar.next_holiday(local_datetime(c, start))
    return calendar.next_holiday(local_date(c, start))


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
        ctx_of(c).business_calendar().add_business_duration(local_datetime(c, start), timedelta(hours=hours))
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
    calendar = ctx_of(c).business_calendar()
    return calendar.business_time_between(local_datetime(c, start), local_datetime(c, end)) / timedelta(
        hours=1
    )
