"""When a scheduled rule runs next: `every 1h`, `daily at "08:00"`, `weekly on monday at …`,
`cron "m h dom mon dow"` — computed in the site's time zone, so "08:00" is 08:00 on the plant
floor whatever the server's zone. The runtime arms one durable timer per scheduled rule at the
next time; when it fires it runs the rule and arms the following one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine import i18n
from engine.rules.model import ScheduleTrigger

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _at(spec: str | None) -> time:
    match = _HHMM.match(spec or "00:00")
    if match is None:
        raise ValueError(spec)
    return time(int(match.group(1)), int(match.group(2)))


def _cron_field(text: str, low: int, high: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, b = body.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = end = int(body)
            if step_text:
                end = high
        if start < low or end > high or start > end or step < 1:
            raise ValueError(part)
        out.update(range(start, end + 1, step))
    return out


def parse_cron(text: str) -> tuple[set[int], set[int], set[int], set[int], set[int]]:
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(text)
    minutes, hours, doms, months, dows = (_cron_field(p, lo, hi) for p, (lo, hi) in zip(parts, _CRON_RANGES,
                                                                                         strict=True))
    return minutes, hours, doms, months, {d % 7 for d in dows}  # 0 and 7 are both Sunday


def check_schedule(trigger: ScheduleTrigger) -> list[tuple[str, dict[str, str]]]:
    problems: list[tuple[str, dict[str, str]]] = []
    try:
        _at(trigger.at)
    except ValueError:
        problems.append(("rules.bad_time", {"value": trigger.at or ""}))
    if trigger.spec == "weekly" and trigger.day not in DAYS:
        problems.append(("rules.bad_day", {"value": trigger.day or ""}))
    if trigger.spec == "every" and (trigger.every is None or trigger.every < timedelta(minutes=1)):
        problems.append(("rules.too_often", {}))
    if trigger.spec == "cron":
        try:
            parse_cron(trigger.cron or "")
        except ValueError:
            problems.append(("rules.bad_cron", {"value": trigger.cron or ""}))
    return problems


def next_run(trigger: ScheduleTrigger, after: datetime, tz: ZoneInfo) -> datetime:
    """The first run strictly after `after` (aware), as an aware UTC-comparable datetime."""
    local = after.astimezone(tz)
    if trigger.spec == "every":
        assert trigger.every is not None
        return after + trigger.every
    if trigger.spec in ("daily", "weekly"):
        at = _at(trigger.at)
        for offset in range(0, 8):
            day = local.date() + timedelta(days=offset)
            if trigger.spec == "weekly" and DAYS[day.weekday()] != trigger.day:
                continue
            candidate = datetime.combine(day, at, tzinfo=tz)
            if candidate > local:
                return candidate
        raise AssertionError("no day within a week")
    minutes, hours, doms, months, dows = parse_cron(trigger.cron or "")
    start: date = local.date()
    for offset in range(0, 366 * 5):
        day = start + timedelta(days=offset)
        if day.month not in months or day.day not in doms or (day.isoweekday() % 7) not in dows:
            continue
        for hour in sorted(hours):
            for minute in sorted(minutes):
                candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
                if candidate > local:
                    return candidate
    raise ValueError(f"cron {trigger.cron!r} never fires")


i18n.register_messages({
    "rules.bad_time": {"zh-CN": "时间 “{value}” 应为 HH:MM（如 \"08:00\"）",
                       "en": "Time '{value}' must be HH:MM (such as \"08:00\")"},
    "rules.bad_day": {"zh-CN": "“{value}” 不是星期（monday … sunday）",
                      "en": "'{value}' is not a weekday (monday … sunday)"},
    "rules.too_often": {"zh-CN": "定时规则的间隔至少为 1 分钟", "en": "A schedule must be at least 1 minute apart"},
    "rules.bad_cron": {"zh-CN": "cron 表达式 “{value}” 无效（5 段：分 时 日 月 周）",
                       "en": "Invalid cron '{value}' (5 fields: minute hour day month weekday)"},
})
