"""The outbox: messages waiting to leave the site, claimed by workers, retried, dead-lettered.

A message is written in the same transaction as whatever caused it (a rule firing, a flow
step), so a rolled-back cause sends nothing and a committed one is never lost. Delivery happens
outside any transaction: a worker claims a batch (status `sending` with a lease in
`next_attempt_at`), talks to the network, then records the outcome. A worker that dies while
sending leaves the lease to expire and another worker retries: delivery is at least once, and
every message carries its id so receivers can drop a repeat.

States: pending → sending → sent; sending → failed (retry at next_attempt_at) → … → dead after
the last attempt; suppressed (dry runs, nothing is ever sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from engine.store.models import OutboxMessage

STATES = ("pending", "sending", "sent", "failed", "dead", "suppressed")


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    channel: str
    recipient: str
    user_id: int | None
    subject: str
    body: str
    payload: dict[str, Any]
    attempts: int


def claim_due(session: Session, now: datetime, *, limit: int = 50,
              lease: timedelta = timedelta(minutes=5)) -> list[ClaimedMessage]:
    """Take up to `limit` messages due for an attempt (and ones whose sender died mid-send)."""
    claimable = or_(
        and_(OutboxMessage.status.in_(("pending", "failed")), OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at < now),
    )
    ids = (
        select(OutboxMessage.id)
        .where(claimable)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), claimable)
        .values(status="sending", next_attempt_at=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.user_id,
                   OutboxMessage.subject, OutboxMessage.body, OutboxMessage.payload, OutboxMessage.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    claimed = [ClaimedMessage(r.id, r.channel, r.recipient, r.user_id, r.subject, r.body, r.payload or {},
                              r.attempts) for r in rows]
    return sorted(claimed, key=lambda m: m.id)


def load_claimed(session: Session, message_id: int, attempts: int) -> ClaimedMessage | None:
    """The message as claimed by attempt number `attempts`, or None if that claim is stale."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.status != "sending" or row.attempts != attempts:
        return None
    return ClaimedMessage(row.id, row.channel, row.recipient, row.user_id, row.subject, row.body,
                          row.payload or {}, row.attempts)


def mark_sent(session: Session, message_id: int, attempts: int, now: datetime) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending",
               OutboxMessage.attempts == attempts)
        .values(status="sent", sent_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def mark_failed(session: Session, message_id: int, attempts: int, error: str, now: datetime, *,
                max_attempts: int, backoff: timedelta, permanent: bool = False) -> str:
    """Schedule the next attempt with exponential backoff, or dead-letter it; returns the state."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.status != "sending" or row.attempts != attempts:
        return row.status if row is not None else "gone"
    row.last_error = error[-4000:]
    if permanent or row.attempts >= max_attempts:
        row.status = "dead"
    else:
        row.status = "failed"
        row.next_attempt_at = now + min(backoff * (2 ** (row.attempts - 1)), timedelta(hours=6))
    return row.status


def retry(session: Session, message_id: int, now: datetime) -> bool:
    """An admin re-queues a dead (or failed) message for one more round of attempts."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(("dead", "failed")))
        .values(status="pending", next_attempt_at=now, attempts=0, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
