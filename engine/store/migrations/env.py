"""Alembic environment: run against the connection SafeFlow hands in (see engine.store.migrate)."""

from __future__ import annotations

from alembic import context

import engine.store.models  # noqa: F401  (registers every table on the metadata)
from engine.store.base import Base
from engine.store.migrate import include_object

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("engine.store.migrate passes the connection; run `safeflow db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
