"""The append-only, hash-chained audit log.

Each entry's hash covers its own content and the previous entry's hash; ids come from a counter
bumped under a row lock, so entries are numbered 1..N without gaps and the counter remembers N.
An edited row breaks its own hash, a removed row breaks the chain or the count, and `verify`
names the first entry where the story stops adding up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.store.base import utcnow
from engine.store.models import AuditEntry, Counter

GENESIS = "0" * 64
SEQ_KEY = "audit.seq"


@dataclass(frozen=True)
class Actor:
    """Who did it, as the audit log records it (a user, an API key's user, or the system)."""

    id: int | None
    name: str

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(id=None, name=name)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(entry_id: int, at: datetime, actor_id: int | None, actor: str, action: str,
               object_type: str, object_id: str, diff: Any, prev_hash: str) -> str:
    body = canonical(
        {
            "id": entry_id,
            "at": at.isoformat(),
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "diff": diff,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _hash_of(entry: Any) -> str:
    return entry_hash(entry.id, entry.at, entry.actor_id, entry.actor, entry.action, entry.object_type,
                      entry.object_id, entry.diff, entry.prev_hash)


def _next_id(session: Session) -> int:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(Counter).values(key=SEQ_KEY, value=0).on_conflict_do_nothing())
    # The UPDATE takes the row lock: concurrent appenders queue here, keeping the chain linear.
    return session.execute(
        update(Counter).where(Counter.key == SEQ_KEY).values(value=Counter.value + 1).returning(Counter.value)
    ).scalar_one()


def append(session: Session, actor: Actor, action: str, object_type: str, object_id: Any,
           diff: Any = None) -> AuditEntry:
    """Record a write in the caller's transaction: if the write rolls back, so does its entry."""
    entry_id = _next_id(session)
    prev = session.execute(select(AuditEntry.hash).where(AuditEntry.id == entry_id - 1)).scalar_one_or_none()
    prev_hash = prev or GENESIS
    at = utcnow()
    diff = json.loads(canonical(diff if diff is not None else {}))
    entry = AuditEntry(
        id=entry_id, at=at, actor_id=actor.id, actor=actor.name, action=action, object_type=object_type,
        object_id=str(object_id), diff=diff, prev_hash=prev_hash,
    )
    entry.hash = _hash_of(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_id: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute the chain from the first entry; stop at the first inconsistency."""
    expected_prev = GENESIS
    expected_id = 1
    checked = 0
    for entry in _stream(session, batch):
        if entry.id != expected_id:
            return VerifyResult(False, checked, expected_id, f"entry {expected_id} is missing")
        if entry.prev_hash != expected_prev:
            return VerifyResult(False, checked, entry.id, "previous-hash link does not match the entry before it")
        if _hash_of(entry) != entry.hash:
            return VerifyResult(False, checked, entry.id, "content does not match its hash (the row was altered)")
        expected_prev = entry.hash
        expected_id += 1
        checked += 1
    last = session.execute(select(Counter.value).where(Counter.key == SEQ_KEY)).scalar_one_or_none() or 0
    if last != checked:
        return VerifyResult(False, checked, checked + 1, f"{last - checked} entries after #{checked} were removed")
    return VerifyResult(True, checked)


def _stream(session: Session, batch: int) -> Iterator[Any]:
    """Plain rows, batch by batch: verifying a million entries must not fill the session."""
    table = AuditEntry.__table__
    after = 0
    while True:
        rows = session.execute(select(table).where(table.c.id > after).order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id
