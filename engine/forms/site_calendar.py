"""The site's business calendar as data: the public holidays and the 调休 working weekends of
each year live in the dictionary `business_calendar` (entry key an ISO date, column `kind`
`holiday` or `workday`), so an EHS team updates them when the State Council publishes the next
year's schedule — without a restart — and forms, flows and rules all count the same days
(`WORKDAY`, `ISHOLIDAY`, "2 workdays" deadlines). Without that dictionary the calendar is
Monday to Friday."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import Problem
from engine.expr.calendar import BusinessCalendar

CALENDAR_DICTIONARY = "business_calendar"
KINDS = ("holiday", "workday")


def site_calendar(session: Session, tz: ZoneInfo) -> BusinessCalendar:
    """Mon–Fri in `tz`, with the holidays and working days the published dictionary lists."""
    from engine.forms.dictionary import DictionaryLookup

    table = DictionaryLookup(session).table(CALENDAR_DICTIONARY) or {}
    days: dict[str, list[date]] = {kind: [] for kind in KINDS}
    for key, entry in table.items():
        day = _day(key)
        if day is not None and entry.get("kind") in days:
            days[entry["kind"]].append(day)
    return BusinessCalendar(tz=tz, holidays=frozenset(days["holiday"]), extra_workdays=frozenset(days["workday"]))


def calendar_loader(session: Session, tz: ZoneInfo) -> Callable[[], BusinessCalendar]:
    """`site_calendar`, read on the first call and kept: an expression context given this reads
    the dictionary only when a workday function is evaluated (most record writes evaluate none)."""
    loaded: list[BusinessCalendar] = []

    def load() -> BusinessCalendar:
        if not loaded:
            loaded.append(site_calendar(session, tz))
        return loaded[0]

    return load


def check_calendar_entries(body: Any, file: str | None = None) -> list[Problem]:
    """Each entry of `business_calendar` is a date (YYYY-MM-DD) marked holiday or workday."""
    problems = []
    for index, entry in enumerate(body.get("entries") or []):
        key, kind = entry.get("key"), (entry.get("values") or {}).get("kind")
        if not isinstance(key, str) or _day(key) is None:
            problems.append(Problem("dictionary.calendar_day", {"key": key}, file=file, path=f"entries.{index}.key"))
        if kind not in KINDS:
            problems.append(Problem("dictionary.calendar_kind", {"key": key, "kind": kind}, file=file,
                                    path=f"entries.{index}.values.kind"))
    return problems


def _day(key: str) -> date | None:
    try:
        return date.fromisoformat(key) if len(key) == 10 else None
    except ValueError:
        return None


i18n.register_messages({
    "dictionary.calendar_day": {"zh-CN": "工作日历的条目 {key} 应为日期（YYYY-MM-DD）",
                                "en": "Business calendar entry {key} must be a date (YYYY-MM-DD)"},
    "dictionary.calendar_kind": {"zh-CN": "工作日历 {key} 的类型 {kind} 应为 holiday（放假）或 workday（调休上班）",
                                 "en": "Business calendar {key}: kind {kind} must be holiday or workday"},
})
