"""Date ranges in the site's time zone: "this_month", "last_30d", explicit dates, and the period
before each (what "compared with the previous period" compares with).

A range is a half-open interval of local dates [start, end); its bounds become UTC instants for
datetime columns and "YYYY-MM-DD" text for date fields, so the SQL compares like with like and
an index on the column serves the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.reports.dataset import DateRange


@dataclass(frozen=True)
class Period:
    start: date  # included
    end: date  # excluded
    # How to step back one period: months for calendar months/quarters/years, else days.
    months: int = 0

    def previous(self) -> Period:
        if self.months:
            return Period(add_months(self.start, -self.months), self.start, self.months)
        return Period(self.start - (self.end - self.start), self.start)

    def instants(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware UTC datetimes (local midnights)."""
        return (datetime.combine(self.start, time(0), tz).astimezone(UTC),
                datetime.combine(self.end, time(0), tz).astimezone(UTC))

    def to_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": (self.end - timedelta(days=1)).isoformat()}


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def resolve(spec: str | DateRange | None, today: date) -> Period | None:
    """The period a range spec means on `today` (a local date)."""
    if spec is None:
        return None
    if isinstance(spec, DateRange):
        end = spec.to + timedelta(days=1)
        if spec.from_.day == 1 and end.day == 1:  # whole months: the previous period is whole months too
            months = (end.year - spec.from_.year) * 12 + end.month - spec.from_.month
            return Period(spec.from_, end, months)
        return Period(spec.from_, end)
    month = date(today.year, today.month, 1)
    monday = today - timedelta(days=today.weekday())
    table: dict[str, Period] = {
        "today": Period(today, today + timedelta(days=1)),
        "yesterday": Period(today - timedelta(days=1), today),
        "this_week": Period(monday, monday + timedelta(days=7)),
        "last_week": Period(monday - timedelta(days=7), monday),
        "this_month": Period(month, add_months(month, 1), 1),
        "last_month": Period(add_months(month, -1), month, 1),
        "this_quarter": Period(_quarter_start(today), add_months(_quarter_start(today), 3), 3),
        "last_quarter": Period(add_months(_quarter_start(today), -3), _quarter_start(today), 3),
        "this_year": Period(date(today.year, 1, 1), date(today.year + 1, 1, 1), 12),
        "last_year": Period(date(today.year - 1, 1, 1), date(today.year, 1, 1), 12),
        "last_7d": Period(today - timedelta(days=6), today + timedelta(days=1)),
        "last_30d": Period(today - timedelta(days=29), today + timedelta(days=1)),
        "last_90d": Period(today - timedelta(days=89), today + timedelta(days=1)),
        "last_12_months": Period(add_months(month, -11), add_months(month, 1), 12),
    }
    return table[spec]
