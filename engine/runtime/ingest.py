"""What comes in from outside: sensor readings and inbound webhooks, turned into events.

Readings are stored in one batch and each becomes a `sensor.reading` event (subject = metric)
in the same transaction, so a rule on "3 consecutive readings over the threshold" sees the
reading in the table when it runs. An inbound webhook becomes one `webhook.received` event
(subject = the hook's name) carrying the JSON body. The daily retention purge is a durable
timer that re-arms itself — the same mechanism as every other schedule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine import events, i18n
from engine.errors import InvalidInput, Problem
from engine.runtime.site import Site
from engine.store import readings
from engine.store.readings import Reading
from engine.store.timers import DueTimer

PURGE_KIND = "readings.purge"
PURGE_KEY = "readings:purge"
MAX_BATCH = 5000


def validate(raw: Sequence[Mapping[str, Any]], now: datetime) -> list[Reading]:
    """Readings from request items; every bad item is reported (all or nothing)."""
    problems: list[Problem] = []
    out: list[Reading] = []
    if len(raw) > MAX_BATCH:
        raise InvalidInput(problems=[Problem("ingest.too_many", {"max": MAX_BATCH})])
    for index, item in enumerate(raw):
        metric, source, value, at = item.get("metric"), item.get("source"), item.get("value"), item.get("at")
        path = f"readings[{index}]"
        if not isinstance(metric, str) or not metric or len(metric) > 128:
            problems.append(Problem("ingest.bad_metric", path=f"{path}.metric"))
        if not isinstance(source, str | int) or str(source) == "" or len(str(source)) > 128:
            problems.append(Problem("ingest.bad_source", path=f"{path}.source"))
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem("ingest.bad_value", path=f"{path}.value"))
        when = now
        if at is not None:
            try:
                when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
                if when.tzinfo is None:
                    raise ValueError("naive")
            except ValueError:
                problems.append(Problem("ingest.bad_time", {"value": str(at)}, path=f"{path}.at"))
        if not problems:
            out.append(Reading(metric, str(source), float(value), when))
    if problems:
        raise InvalidInput(problems=problems)
    return out


def ingest_readings(session: Session, site: Site, raw: Sequence[Mapping[str, Any]]) -> int:
    now = site.clock.now()
    batch = validate(raw, now)
    readings.insert_batch(session, batch, now)
    sink = site.events(session)
    for r in batch:
        sink.emit(events.Event(kind=events.SENSOR_READING, subject=r.metric, at=r.at,
                               data={"value": r.value, "source": r.source, "at": r.at.isoformat()},
                               meta={"source": r.source}))
    site.timers(session).ensure(PURGE_KIND, _next_purge(site, now), {}, key=PURGE_KEY)
    return len(batch)


def receive_webhook(session: Session, site: Site, name: str, body: Any, actor_id: int | None = None) -> None:
    data = body if isinstance(body, dict) else {"body": body}
    site.events(session).emit(events.Event(kind=events.WEBHOOK_RECEIVED, subject=name, data=data,
                                           actor_id=actor_id, at=site.clock.now()))


def _next_purge(site: Site, now: datetime) -> datetime:
    """03:00 site time the next day: outside the working day's ingest peak."""
    local = now.astimezone(site.settings.tz)
    at = (local + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    return at.astimezone(now.tzinfo)


def purge_readings(session: Session, timer: DueTimer, site: Site) -> None:
    now = site.clock.now()
    readings.purge(session, now - timedelta(days=site.settings.sensor_retention_days))
    site.timers(session).schedule(PURGE_KIND, _next_purge(site, now), {}, key=PURGE_KEY)


def wire_ingest(site: Site) -> None:
    site.register_timer_handler(PURGE_KIND, purge_readings)


i18n.register_messages({
    "ingest.too_many": {"zh-CN": "一次最多提交 {max} 条读数", "en": "At most {max} readings per request"},
    "ingest.bad_metric": {"zh-CN": "metric 须为 1–128 个字符的文本", "en": "metric must be text of 1–128 characters"},
    "ingest.bad_source": {"zh-CN": "source 须为 1–128 个字符", "en": "source must be 1–128 characters"},
    "ingest.bad_value": {"zh-CN": "value 须为数字", "en": "value must be a number"},
    "ingest.bad_time": {"zh-CN": "at 须为带时区的 ISO 时间：{value}",
                        "en": "at must be an ISO date-time with an offset: {value}"},
})
