"""The business calendar the expression language and the flow engine share."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from engine.expr import BusinessCalendar, ExprError
from tests.expr.expr_support import SHANGHAI

# China's 2025 National Day and Mid-Autumn break: Oct 1–8 off; Sun Sep 28 and Sat Oct 11 worked.
NATIONAL_DAY = BusinessCalendar.from_config(
    {
        "timezone": "Asia/Shanghai",
        "holidays": [f"2025-10-0{d}" for d in range(1, 9)],
        "extra_workdays": ["2025-09-28", "2025-10-11"],
    }
)


def test_weekends_holidays_and_shifted_working_days() -> None:
    assert NATIONAL_DAY.is_workday(date(2025, 9, 26))  # Friday
    assert not NATIONAL_DAY.is_workday(date(2025, 9, 27))  # Saturday
    assert NATIONAL_DAY.is_workday(date(2025, 9, 28))  # Sunday, worked (调休)
    assert not NATIONAL_DAY.is_workday(date(2025, 10, 6))  # Monday, holiday
    assert NATIONAL_DAY.is_workday(date(2025, 10, 11))  # Saturday, worked


def test_add_workdays_skips_holidays_and_keeps_the_time_of_day() -> None:
    start = datetime(2025, 9, 30, 15, 30, tzinfo=SHANGHAI)
    assert NATIONAL_DAY.add_workdays(start, 2) == datetime(2025, 10, 10, 15, 30, tzinfo=SHANGHAI)
    assert NATIONAL_DAY.add_workdays(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert NATIONAL_DAY.add_workdays(date(2025, 10, 4), 0) == date(2025, 10, 4)


def test_add_workdays_of_a_utc_moment_counts_site_days() -> None:
    start = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)  # already Oct 1, 01:00 in Shanghai
    moved = NATIONAL_DAY.add_workdays(start, 1)
    assert moved.astimezone(SHANGHAI) == datetime(2025, 10, 9, 1, 0, tzinfo=SHANGHAI)
    assert moved.tzinfo is UTC


@pytest.mark.parametrize("n", [-7, -1, 0, 1, 3, 12])
def test_workdays_between_inverts_add_workdays(n: int) -> None:
    start = date(2025, 9, 29)
    assert NATIONAL_DAY.workdays_between(start, NATIONAL_DAY.add_workdays(start, n)) == n


def test_networkdays_counts_both_ends() -> None:
    assert NATIONAL_DAY.networkdays(date(2025, 9, 29), date(2025, 10, 10)) == 4
    assert NATIONAL_DAY.networkdays(date(2025, 10, 10), date(2025, 9, 29)) == -4


def test_business_duration_runs_only_in_working_hours() -> None:
    calendar = BusinessCalendar()
    friday_late = datetime(2026, 3, 6, 17, 0, tzinfo=SHANGHAI)
    assert calendar.add_business_duration(friday_late, timedelta(hours=4)) == datetime(
        2026, 3, 9, 12, 0, tzinfo=SHANGHAI
    )
    lunch = datetime(2026, 3, 9, 12, 30, tzinfo=SHANGHAI)
    assert calendar.add_business_duration(lunch, timedelta(minutes=30)) == datetime(
        2026, 3, 9, 13, 30, tzinfo=SHANGHAI
    )
    assert calendar.business_time_between(
        friday_late, datetime(2026, 3, 9, 12, 0, tzinfo=SHANGHAI)
    ) == timedelta(hours=4)
    assert calendar.is_working_time(datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))
    assert not calendar.is_working_time(datetime(2026, 3, 9, 12, 0, tzinfo=SHANGHAI))


def test_configuration_round_trips() -> None:
    config = NATIONAL_DAY.to_config()
    assert BusinessCalendar.from_config(config) == NATIONAL_DAY
    assert config["hours"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert BusinessCalendar.from_config({"hours": [["08:00", "16:30"]]}).hours == ((time(8), time(16, 30)),)


def test_a_calendar_without_working_days_fails_clearly_instead_of_looping() -> None:
    idle = BusinessCalendar(weekdays=frozenset())
    with pytest.raises(ExprError):
        idle.add_workdays(date(2026, 1, 1), 1)
    with pytest.raises(ExprError):
        idle.add_business_duration(datetime(2026, 1, 1, tzinfo=SHANGHAI), timedelta(hours=1))


def test_a_context_reads_its_calendar_only_when_a_workday_function_runs() -> None:
    """The site's calendar is a database read: a context given a loader asks it once, and only
    for an expression that counts workdays."""
    from engine.expr import EvalContext, evaluate

    calls: list[int] = []

    def load() -> BusinessCalendar:
        calls.append(1)
        return NATIONAL_DAY

    ctx = EvalContext(now=datetime(2025, 9, 26, 9, tzinfo=UTC), tz=SHANGHAI, calendar_loader=load)
    assert evaluate("1 + 2", {}, ctx) == 3
    assert calls == []
    assert evaluate('WORKDAY(DATE(2025, 9, 30), 1)', {}, ctx) == date(2025, 10, 9)
    assert evaluate('ISHOLIDAY(DATE(2025, 10, 3))', {}, ctx) is True
    assert calls == [1]
