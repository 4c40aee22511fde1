"""Engine and session handling: one `Database` per site, sessions handed to whoever needs one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.store.types import dump_json


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", dump_json)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, record: Any) -> None:
            # Take over transaction control from pysqlite (it defers BEGIN and breaks SAVEPOINTs).
            dbapi_connection.isolation_level = None
            _sqlite_pragmas(dbapi_connection, record)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A writing unit of work takes SQLite's write lock up front, so two writers queue on
            # busy_timeout instead of failing with SQLITE_BUSY when a read upgrades to a write.
            # Read-only sessions begin deferred and never block each other.
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            driver = conn.connection.dbapi_connection
            if driver.in_transaction:
                # Begun on the driver already (a flow store's step, engine.flows.persistence):
                # SQLAlchemy joins that transaction instead of failing on a second BEGIN.
                return
            # On the driver's cursor: every unit of work passes here, and exec_driver_sql's
            # machinery cost several times SQLite's BEGIN.
            cursor = driver.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            finally:
                cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker: Callable[[], Session] = sessionmaker(self.engine, expire_on_commit=False)
        # Writing units of work take SQLite's write lock up front (see make_engine's `_begin`).
        self.writer: Engine = (
            self.engine.execution_options(sqlite_immediate=True) if self.dialect == "sqlite" else self.engine
        )
        self.write_sessionmaker: Callable[[], Session] = sessionmaker(self.writer, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A unit of work: commits if the block succeeds, rolls back (changing nothing) if not."""
        session = self.sessionmaker() if readonly else self.write_sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
