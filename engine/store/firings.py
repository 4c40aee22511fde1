"""Stored firings (rule explain) and dedupe marks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.store.models import RuleDedupe, RuleFiring


def record(session: Session, **values: Any) -> RuleFiring:
    row = RuleFiring(**values)
    session.add(row)
    return row


def query(session: Session, rule: str, *, record_id: int | None = None, outcome: str | None = None,
          limit: int = 50) -> Sequence[RuleFiring]:
    q = select(RuleFiring).where(RuleFiring.rule == rule)
    if record_id is not None:
        q = q.where(RuleFiring.record_id == record_id)
    if outcome is not None:
        q = q.where(RuleFiring.outcome == outcome)
    return list(session.execute(q.order_by(RuleFiring.id.desc()).limit(limit)).scalars())


def purge(session: Session, older_than: datetime) -> int:
    return session.execute(delete(RuleFiring).where(RuleFiring.at < older_than)).rowcount or 0


def dedupe_key(rule: str, values: Sequence[Any]) -> str:
    raw = json.dumps([rule, *values], sort_keys=True, ensure_ascii=False, default=str)
    if len(raw) <= 200:
        return raw
    return f"{rule[:100]}:{hashlib.sha256(raw.encode()).hexdigest()}"


def dedupe_active(session: Session, key: str, now: datetime) -> bool:
    until = session.execute(select(RuleDedupe.until).where(RuleDedupe.key == key)).scalar_one_or_none()
    return until is not None and until > now


def dedupe_mark(session: Session, key: str, rule: str, until: datetime, now: datetime) -> None:
    row = session.get(RuleDedupe, key)
    if row is None:
        session.add(RuleDedupe(key=key, rule=rule, until=until, created_at=now))
    else:
        row.until = until
