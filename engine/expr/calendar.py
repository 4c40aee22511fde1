"""The site's business calendar: which days are worked and during which hours.

China shifts weekends around public holidays (调休): some weekdays are off and some Saturdays or
Sundays are worked. The flow engine reuses this for "2 workdays" deadlines, the expression
language for WORKDAYS/WORKDAY. All day arithmetic happens on local dates in the calendar's
timezone; datetimes keep their wall-clock time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from engine.expr.errors import fail
from engine.expr.limits import MAX_WORKDAYS_SPAN

SITE_TZ = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)
D = TypeVar("D", date, datetime)


def _dates(values: Iterable[date | str]) -> frozenset[date]:
    return frozenset(v if isinstance(v, date) else date.fromisoformat(v) for v in values)


@dataclass(frozen=True)
class BusinessCalendar:
    """Workdays (Mon–Fri by default, ISO weekday numbers 1–7), holidays, extra working days
    (调休) and the working hours of a day (default 09:00–12:00 and 13:00–18:00)."""

    tz: ZoneInfo = SITE_TZ
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    hours: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))

    def __post_init__(self) -> None:
        for start, end in self.hours:
            if not start < end:
                raise ValueError(f"working hours {start}–{end} are empty")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BusinessCalendar:
        """`{"timezone": "Asia/Shanghai", "weekdays": [1,2,3,4,5], "holidays": ["2025-10-01"],
        "extra_workdays": ["2025-09-28"], "hours": [["09:00", "12:00"], ["13:00", "18:00"]]}`."""
        kwargs: dict[str, Any] = {}
        if "timezone" in config:
            kwargs["tz"] = ZoneInfo(config["timezone"])
        if "weekdays" in config:
            kwargs["weekdays"] = frozenset(int(d) for d in config["weekdays"])
        kwargs["holidays"] = _dates(config.get("holidays", ()))
        kwargs["extra_workdays"] = _dates(config.get("extra_workdays", ()))
        if "hours" in config:
            kwargs["hours"] = tuple(
                (time.fromisoformat(a), time.fromisoformat(b)) for a, b in config["hours"]
            )
        return cls(**kwargs)

    def to_config(self) -> dict[str, Any]:
        return {
            "timezone": self.tz.key,
            "weekdays": sorted(self.weekdays),
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "extra_workdays": sorted(d.isoformat() for d in self.extra_workdays),
            "hours": [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in self.hours],
        }

    # --- days -----------------------------------------------------------------------------

    def is_workday(self, day: date | datetime) -> bool:
        day = self._local_date(day)
        if day in self.extra_workdays:
            return True
        if day in self.holidays:
            return False
        return day.isoweekday() in self.weekdays

    def add_workdays(self, start: D, n: int) -> D:
        """Move `n` workdays forward (backward when negative), like Excel's WORKDAY: from a
        Friday, 1 workday is the next Monday; 0 returns `start`. Datetimes keep their time."""
        if n == 0:
            return start
        day = self._local_date(start)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        scanned = 0
        while remaining:
            day += step
            scanned += 1
            if scanned > MAX_WORKDAYS_SPAN:
                raise fail("expr.runtime.bad_value", function="WORKDAY", detail=f"{n} workdays")
            if self.is_workday(day):
                remaining -= 1
        return self._same_kind(start, day)

    def is_holiday(self, day: date | datetime) -> bool:
        """A public holiday of the calendar (not an ordinary weekend; a 调休 working day is not one)."""
        day = self._local_date(day)
        return day in self.holidays and day not in self.extra_workdays

    def next_holiday(self, start: D) -> D | None:
        """The first holiday after `start` (the day itself excluded), or None when the calendar
        lists none later. Datetimes keep their wall-clock time, like `add_workdays`."""
        day = self._local_date(start)
        later = [h for h in self.holidays if h > day and h not in self.extra_workdays]
        if not later:
            return None
        return self._same_kind(start, min(later))

    def _same_kind(self, start: D, day: date) -> D:
        if isinstance(start, datetime):
            local = start.astimezone(self.tz) if start.tzinfo else start.replace(tzinfo=self.tz)
            moved = datetime.combine(day, local.timetz().replace(tzinfo=None)).replace(tzinfo=self.tz)
            return moved.astimezone(start.tzinfo) if start.tzinfo else moved.replace(tzinfo=None)
        return day  # type: ignore[return-value]

    def workdays_between(self, start: date | datetime, end: date | datetime) -> int:
        """Workdays after `start` up to and including `end` (negative when `end` is earlier), so
        `workdays_between(s, add_workdays(s, n)) == n`."""
        a, b = self._local_date(start), self._local_date(end)
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        if (b - a).days > MAX_WORKDAYS_SPAN:
            raise fail("expr.runtime.bad_value", function="WORKDAYS", detail=f"{a} … {b}")
        count = sum(1 for i in range(1, (b - a).days + 1) if self.is_workday(a + timedelta(days=i)))
        return sign * count

    def networkdays(self, start: date | datetime, end: date | datetime) -> int:
        """Excel's NETWORKDAYS: workdays from `start` to `end`, both included."""
        a, b = self._local_date(start), self._local_date(end)
        if b < a:
            return -self.networkdays(b, a)
        return self.workdays_between(a, b) + (1 if self.is_workday(a) else 0)

    # --- hours ----------------------------------------------------------------------------

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(day):
            return []
        return [(datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)) for a, b in self.hours]

    def is_working_time(self, moment: datetime) -> bool:
        local = self._aware(moment)
        return any(a <= local < b for a, b in self._intervals(local.date()))

    def add_business_duration(self, start: datetime, duration: timedelta) -> datetime:
        """`start` plus `duration` of working time (e.g. a 4h SLA started Friday 17:00 ends
        Monday 12:00). Returns an aware datetime in the calendar's timezone."""
        if duration < timedelta(0):
            raise fail("expr.runtime.bad_value", function="add_business_duration", detail="negative duration")
        current = self._aware(start)
        remaining = duration
        day = current.date()
        for _ in range(MAX_WORKDAYS_SPAN):
            for a, b in self._intervals(day):
                if b <= current:
                    continue
                begin = max(a, current)
                available = b - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                current = b
            day += _ONE_DAY
        raise fail(
            "expr.runtime.bad_value", function="add_business_duration", detail="calendar has no working time"
        )

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end) (negative when `end` is earlier)."""
        a, b = self._aware(start), self._aware(end)
        if b < a:
            return -self.business_time_between(end, start)
        if (b - a).days > MAX_WORKDAYS_SPAN:
            raise fail("expr.runtime.bad_value", function="business_time_between", detail=f"{a} … {b}")
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for lo, hi in self._intervals(day):
                overlap = min(hi, b) - max(lo, a)
                if overlap > timedelta(0):
                    total += overlap
            day += _ONE_DAY
        return total

    # --- helpers --------------------------------------------------------------------------

    def _aware(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz) if moment.tzinfo else moment.replace(tzinfo=self.tz)

    def _local_date(self, value: date | datetime) -> date:
        if isinstance(value, datetime):
            return self._aware(value).date()
        return value
