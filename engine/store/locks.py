"""Table locks the store hands out for consistent snapshots."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_records_for_snapshot(session: Session) -> None:
    """Until the transaction ends, no record is written (PostgreSQL SHARE lock; readers go on).
    A pre-aggregate built from the records in this transaction then misses no write that commits
    alongside it. SQLite needs nothing: its writer already holds the database."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE records IN SHARE MODE"))
