"""Sensor readings: batched inserts, the last N of a source, retention.

Readings arrive in bursts from gateways (hundreds per request); one `executemany` per batch
keeps ingest cheap, and `ix_readings_metric_source_at` answers "the last 3 readings of GH-1"
from the index without touching older rows, however long the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from engine.store.models import SensorReading


@dataclass(frozen=True)
class Reading:
    metric: str
    source: str
    value: float
    at: datetime


def insert_batch(session: Session, readings: Sequence[Reading], received_at: datetime) -> int:
    if not readings:
        return 0
    session.execute(insert(SensorReading), [
        {"metric": r.metric, "source": r.source, "value": r.value, "at": r.at, "received_at": received_at}
        for r in readings
    ])
    return len(readings)


def last(session: Session, metric: str, source: str, n: int, *, until: datetime | None = None) -> list[Reading]:
    """The newest `n` readings of one source (newest first), optionally up to a moment."""
    query = select(SensorReading.metric, SensorReading.source, SensorReading.value, SensorReading.at).where(
        SensorReading.metric == metric, SensorReading.source == source)
    if until is not None:
        query = query.where(SensorReading.at <= until)
    rows = session.execute(query.order_by(SensorReading.at.desc(), SensorReading.id.desc()).limit(n)).all()
    return [Reading(r.metric, r.source, r.value, r.at) for r in rows]


def purge(session: Session, older_than: datetime) -> int:
    result = session.execute(delete(SensorReading).where(SensorReading.at < older_than))
    return result.rowcount or 0
