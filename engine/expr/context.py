"""What an evaluation may see besides the record: the clock, the site timezone and business
calendar, named scopes (`record`, a rule alias like `h`), and the two pluggable sources —
`DataSource` for aggregates over stored records and `LookupSource` for dictionaries.

A form formula gets no DataSource, so it can never reach the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from engine.expr.calendar import SITE_TZ, BusinessCalendar

if TYPE_CHECKING:
    from engine.expr.aggregates import BoundAggregate


class DataSource(Protocol):
    """Answers one aggregate (count/sum/avg/min/max/exists/consecutive) over stored records."""

    def aggregate(self, bound: BoundAggregate) -> Any: ...


class LookupSource(Protocol):
    """LOOKUP(source, key[, field]): an entry of a dictionary or option list, or a field of it."""

    def lookup(self, source: str, key: Any, field: str | None = None) -> Any: ...


@dataclass(frozen=True)
class EvalContext:
    now: datetime | None = None  # aware; None = the real clock when asked
    tz: ZoneInfo = SITE_TZ
    calendar: BusinessCalendar | None = None  # default: Mon–Fri in `tz`
    variables: Mapping[str, Any] = field(default_factory=dict)
    data_source: DataSource | None = None
    lookup: LookupSource | None = None
    # Where the calendar comes from when it is first needed (the site's holidays are a database
    # read, and most record writes evaluate no workday function): used when `calendar` is None.
    calendar_loader: Callable[[], BusinessCalendar] | None = None

    def __post_init__(self) -> None:
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("EvalContext.now must be timezone-aware")
        if self.calendar is None and self.calendar_loader is None:
            object.__setattr__(self, "calendar", BusinessCalendar(tz=self.tz))

    def at(self, now: datetime) -> EvalContext:
        """This context at another instant: engines that evaluate per step keep one context and
        move its clock, instead of rebuilding (and re-validating) it every step."""
        if now.tzinfo is None:
            raise ValueError("EvalContext.now must be timezone-aware")
        moved = object.__new__(EvalContext)
        moved.__dict__.update(self.__dict__)
        moved.__dict__["now"] = now
        return moved

    def current_time(self) -> datetime:
        """Now, in the site timezone."""
        if self.now is None:
            return datetime.now(self.tz)
        return self.now.astimezone(self.tz)

    def today(self) -> date:
        return self.current_time().date()

    def business_calendar(self) -> BusinessCalendar:
        calendar = self.calendar
        if calendar is None:
            calendar = self.calendar_loader() if self.calendar_loader is not None else BusinessCalendar(tz=self.tz)
            object.__setattr__(self, "calendar", calendar)
        return calendar

    def with_variables(self, **variables: Any) -> EvalContext:
        # A shallow copy with one field changed; `dataclasses.replace` re-runs __init__, which a
        # rule engine doing this per event pays for on every event.
        copy = object.__new__(EvalContext)
        copy.__dict__.update(self.__dict__)
        object.__setattr__(copy, "variables", {**self.variables, **variables})
        return copy


DEFAULT_CONTEXT = EvalContext()


def context_or_default(ctx: EvalContext | None) -> EvalContext:
    return DEFAULT_CONTEXT if ctx is None else ctx
