"""Durable timers: schedule, cancel, claim due rows with a lease, finish or retry.

One mechanism for everything that waits for time (flow deadlines, reminders, rule schedules,
deferred event dispatch). Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so several
workers never take the same row; on SQLite the single writer lock gives the same guarantee.
A handler's effects and the row's `done` mark commit together, so a crash re-runs only work
whose effects were rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from engine.services import Clock, SystemClock
from engine.store.base import utcnow
from engine.store.models import Timer


@dataclass(frozen=True)
class DueTimer:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: Mapping[str, Any]
    attempts: int


class TimerRepository:
    """The database-backed `engine.services.TimerScheduler`, bound to the caller's session."""

    def __init__(self, session: Session, clock: Clock | None = None) -> None:
        self.session = session
        self.clock = clock or SystemClock()

    def schedule(self, kind: str, due_at: datetime, payload: Mapping[str, Any], key: str) -> None:
        """Arm (or re-arm) the timer named `key`; scheduling the same key twice keeps one row."""
        existing = self.session.execute(select(Timer).where(Timer.key == key)).scalar_one_or_none()
        if existing is None:
            self.session.add(Timer(kind=kind, key=key, due_at=due_at, payload=dict(payload), status="pending"))
        else:
            existing.kind = kind
            existing.due_at = due_at
            existing.payload = dict(payload)
            existing.status = "pending"
            existing.attempts = 0
            existing.locked_by = None
            existing.locked_until = None
            existing.last_error = None
            existing.finished_at = None
        self.session.flush()

    def add(self, kind: str, due_at: datetime, payload: Mapping[str, Any], key: str) -> None:
        """Arm a timer whose `key` is new by construction (an event's fan-out: the key holds a
        fresh id): no lookup, and the insert goes out with the transaction's next flush."""
        self.session.add(Timer(kind=kind, key=key, due_at=due_at, payload=dict(payload), status="pending"))

    def ensure(self, kind: str, due_at: datetime, payload: Mapping[str, Any], key: str) -> bool:
        """Arm `key` unless it is already waiting or running (a recurring job arms itself once)."""
        status = self.session.execute(select(Timer.status).where(Timer.key == key)).scalar_one_or_none()
        if status in ("pending", "running"):
            return False
        self.schedule(kind, due_at, payload, key)
        return True

    def cancel(self, key: str) -> None:
        self.session.execute(
            update(Timer).where(Timer.key == key, Timer.status == "pending").values(status="cancelled")
        )

    def cancel_prefix(self, prefix: str) -> None:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        self.session.execute(
            update(Timer)
            .where(Timer.key.like(escaped + "%", escape="\\"), Timer.status == "pending")
            .values(status="cancelled")
        )

    def pending(self, prefix: str = "") -> list[Timer]:
        query = select(Timer).where(Timer.status == "pending").order_by(Timer.due_at, Timer.id)
        if prefix:
            query = query.where(Timer.key.startswith(prefix, autoescape=True))
        return list(self.session.execute(query).scalars())

    def next_due(self) -> datetime | None:
        return self.session.execute(
            select(Timer.due_at).where(Timer.status == "pending").order_by(Timer.due_at).limit(1)
        ).scalar_one_or_none()


def claim_due(session: Session, worker: str, now: datetime, *, limit: int = 100,
              lease: timedelta = timedelta(minutes=5)) -> list[DueTimer]:
    """Take up to `limit` due timers (and ones whose lease expired: their worker died)."""
    claimable = or_(
        and_(Timer.status == "pending", Timer.due_at <= now),
        and_(Timer.status == "running", Timer.locked_until < now),
    )
    ids = (
        select(Timer.id)
        .where(claimable)
        .order_by(Timer.due_at, Timer.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = session.execute(
        update(Timer)
        .where(Timer.id.in_(ids), claimable)
        .values(status="running", locked_by=worker, locked_until=now + lease, attempts=Timer.attempts + 1)
        .returning(Timer.id, Timer.kind, Timer.key, Timer.due_at, Timer.payload, Timer.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    due = [DueTimer(r.id, r.kind, r.key, r.due_at, r.payload or {}, r.attempts) for r in rows]
    return sorted(due, key=lambda t: (t.due_at, t.id))


def load_claimed(session: Session, timer_id: int, worker: str, *, lock: bool = False) -> DueTimer | None:
    """The timer as claimed by `worker`, or None if that claim is over (done, or taken over).

    With `lock`, the row stays locked until the caller's transaction ends: while a handler runs,
    no other worker can take the timer over (their claim skips locked rows; SQLite's single
    writer gives the same), so a lease that expires under a slow handler never runs it twice.
    """
    query = select(Timer).where(Timer.id == timer_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None or row.status != "running" or row.locked_by != worker:
        return None
    return DueTimer(row.id, row.kind, row.key, row.due_at, row.payload or {}, row.attempts)


def load_claimed_many(session: Session, timer_ids: list[int], worker: str, *,
                      lock: bool = False) -> dict[int, DueTimer]:
    """`load_claimed` for a batch in one statement: the ones still claimed by `worker`, by id."""
    if not timer_ids:
        return {}
    query = select(Timer).where(Timer.id.in_(timer_ids), Timer.status == "running", Timer.locked_by == worker)
    if lock:
        query = query.with_for_update()
    return {row.id: DueTimer(row.id, row.kind, row.key, row.due_at, row.payload or {}, row.attempts)
            for row in session.execute(query).scalars()}


def finish_many(session: Session, timer_ids: list[int], worker: str) -> int:
    """`finish` for a batch in one statement; returns how many were marked done."""
    if not timer_ids:
        return 0
    result = session.execute(
        update(Timer)
        .where(Timer.id.in_(timer_ids), Timer.status == "running", Timer.locked_by == worker)
        .values(status="done", finished_at=utcnow(), locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def finish(session: Session, timer_id: int, worker: str) -> bool:
    """Mark done, unless the handler re-armed the same key meanwhile (then it stays pending)."""
    result = session.execute(
        update(Timer)
        .where(Timer.id == timer_id, Timer.status == "running", Timer.locked_by == worker)
        .values(status="done", finished_at=utcnow(), locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def fail(session: Session, timer_id: int, worker: str, error: str, *, max_attempts: int = 5,
         now: datetime | None = None) -> None:
    """Retry with exponential backoff; after `max_attempts` the row stays `failed` for an admin."""
    row = session.get(Timer, timer_id)
    if row is None or row.locked_by != worker:
        return
    row.last_error = error[-4000:]
    row.locked_by = None
    row.locked_until = None
    if row.attempts >= max_attempts:
        row.status = "failed"
        row.finished_at = utcnow()
    else:
        row.status = "pending"
        row.due_at = (now or utcnow()) + timedelta(seconds=min(3600, 2 ** row.attempts * 5))


def purge_finished(session: Session, older_than: datetime) -> int:
    result = session.execute(
        delete(Timer).where(Timer.status.in_(("done", "cancelled")), Timer.finished_at < older_than)
    )
    return result.rowcount or 0
