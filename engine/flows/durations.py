"""Durations in definitions: `30m`, `4h`, `2d`, `2 workdays`, `8 workhours`, ISO 8601 `PT4H`.

Calendar units (`workdays`, `workhours`) go through the platform's business calendar
(`engine.expr.calendar.BusinessCalendar`) so "2 workdays" skips weekends and holidays exactly
as a rule's `add_workdays` does — one calendar, not one per engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

_UNITS = {
    "s": "seconds", "sec": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
    "wd": "workdays", "workday": "workdays", "workdays": "workdays",
    "working day": "workdays", "working days": "workdays", "business day": "workdays",
    "business days": "workdays", "工作日": "workdays",
    "wh": "workhours", "workhour": "workhours", "workhours": "workhours",
    "business hour": "workhours", "business hours": "workhours",
    "天": "days", "小时": "hours", "分钟": "minutes",
}  # fmt: skip
_SIMPLE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z\u4e00-\u9fff ]+?)\s*$")
_ISO = re.compile(
    r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: str

    @property
    def business(self) -> bool:
        return self.unit in ("workdays", "workhours")

    def to_timedelta(self) -> timedelta:
        """Calendar-free length (business units counted as plain days/hours)."""
        unit = {"workdays": "days", "workhours": "hours"}.get(self.unit, self.unit)
        return timedelta(**{unit: self.amount})

    def after(self, start: datetime, calendar: Any = None) -> datetime:
        """The moment this long after `start`; business units need a calendar."""
        if not self.business:
            return start + self.to_timedelta()
        if calendar is None:
            from engine.expr.calendar import BusinessCalendar

            calendar = BusinessCalendar()
        if self.unit == "workdays":
            return calendar.add_workdays(start, int(self.amount))
        return calendar.add_business_duration(start, timedelta(hours=self.amount))

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {self.unit}"


def parse_duration(text: str) -> Duration:
    """Parse a duration; raises ValueError naming what was expected."""
    raw = text.strip()
    iso = _ISO.match(raw.upper()) if raw.upper().startswith("P") else None
    if iso and any(iso.groups()):
        weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in iso.groups())
        total = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
        return Duration(total.total_seconds() / 60, "minutes")
    match = _SIMPLE.match(raw)
    if match:
        unit = _UNITS.get(match.group(2).strip().lower())
        if unit == "workdays" and not float(match.group(1)).is_integer():
            raise ValueError(f"workdays must be whole: {text!r} (use workhours for parts of a day)")
        if unit:
            return Duration(float(match.group(1)), unit)
    raise ValueError(f"not a duration: {text!r} (expected e.g. 30m, 4h, 2d, 2 workdays, PT4H)")
