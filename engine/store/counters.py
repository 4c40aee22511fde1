"""Named counters incremented atomically: serial numbers (HZ-202611-0042) and the like.

The UPDATE … RETURNING takes the row's lock (PostgreSQL) or the database write lock (SQLite),
so two transactions asking at once get different numbers, and a rolled-back transaction's number
is simply not used — never handed out twice.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.store.models import Counter


def next_value(session: Session, key: str, step: int = 1) -> int:
    """The counter's next value (the first is `step`), reserved for the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(Counter).values(key=key, value=0).on_conflict_do_nothing())
    return session.execute(
        update(Counter).where(Counter.key == key).values(value=Counter.value + step).returning(Counter.value)
    ).scalar_one()
