"""The flow engine over SQL: `SqlFlowStore` and `SqlFlowCatalog` adapt `engine.store` to the
engine's store and catalog protocols (the same engine code runs in memory and on the server).

Bound to a caller's session (a request, a timer tick), each step is a SAVEPOINT inside the
caller's transaction; with a `Database`, each step is its own transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.flows.definition import parse_definition
from engine.flows.model import FlowDefinition
from engine.flows.repository import StaleInstance
from engine.flows.state import FlowInstance
from engine.services import Clock, TimerScheduler
from engine.store import audit
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository
from engine.store.flows import STALE, FlowInstanceRepository
from engine.store.models import User
from engine.store.prepared import Statements
from engine.store.timers import TimerRepository

FLOW_KIND = "flow"
_USERS = User.__table__
# The acting user's name for the step's audit entry, on the repository's cursor.
_USER_NAME = Statements({"name": select(_USERS.c.username).where(_USERS.c.id == bindparam("b_id"))})


class SqlFlowUnit:
    """One step's unit of work: on a caller's session, or on a bare connection in its own
    transaction (a `Database` store), where an ORM session is made only if the step needs one
    (timers): most steps write through the repository's prepared statements alone."""

    def __init__(self, bind: Session | Connection, clock: Clock | None, timers: TimerScheduler | None = None,
                 audited: bool = True) -> None:
        self._bind = bind
        self._session: Session | None = bind if isinstance(bind, Session) else None
        self._clock = clock
        self._timers = timers
        self.audited = audited
        self.repo = FlowInstanceRepository(bind)
        # History length at load, so `save` audits exactly the entries this step added.
        self._seen: dict[int, int] = {}
        # Who acts in this step (the engine sets it before `load`): their name is read with the
        # instance, in the same statement, for the step's audit entry.
        self.actor: int | None = None
        self._names: dict[int, str | None] = {}

    @property
    def session(self) -> Session:
        """The ORM session of this step (on a bare connection: joined to its transaction)."""
        if self._session is None:
            bind = self._bind
            if isinstance(bind, Connection) and not bind.in_transaction():
                # The step's transaction was begun on the driver (SqlFlowStore.atomic): SQLAlchemy
                # joins it first, so the session does not own it and never ends it.
                bind.begin()
            self._session = Session(bind=bind, expire_on_commit=False)
        return self._session

    @property
    def timers(self) -> TimerScheduler:
        if self._timers is None:
            self._timers = TimerRepository(self.session, self._clock)
        return self._timers

    def finish(self) -> None:
        """Flush a session this unit made onto its connection, before the transaction commits."""
        if self._session is not None and self._session is not self._bind:
            self._session.flush()
            self._session.close()

    def new_id(self) -> int:
        # The row is reserved when the instance is added (it needs key and version).
        return -1

    def add(self, instance: FlowInstance) -> None:
        instance.id = self.repo.reserve_id(instance.flow_key, instance.flow_version, instance.started_at)
        self.repo.track_new(instance.id)
        self._seen[instance.id] = 0

    def load(self, instance_id: int) -> FlowInstance:
        actor = self.actor if self.audited and type(self.actor) is int else None
        state = self.repo.load(instance_id, actor)
        if actor is not None:
            self._names[actor] = state.pop("actor_name")
        instance = FlowInstance.from_dict(state)
        self._seen[instance_id] = len(instance.history)
        return instance

    def save(self, instance: FlowInstance) -> None:
        state = instance.to_dict()
        try:
            self.repo.save(state)
        except Conflict as exc:
            if exc.code == STALE:
                raise StaleInstance(STALE, what=instance.id) from None
            raise
        if self.audited:
            self._audit(instance.id, state["history"][self._seen.get(instance.id, 0):])
        self._seen[instance.id] = len(state["history"])

    def _audit(self, instance_id: int, entries: list[dict[str, Any]]) -> None:
        """One audit entry per step, in the same transaction: named after what was done (the
        step's first history entry), its consequences (node passed, instance completed) in the diff."""
        if not entries:
            return
        first = entries[0]
        by = first.get("by")
        cursor, dialect = self.repo.raw()
        if not isinstance(by, int):
            name = None
        elif by in self._names:
            name = self._names[by]
        else:
            found = _USER_NAME[dialect]["name"].row(cursor, {"b_id": by})
            name = found[0] if found else None
        actor = Actor(id=by, name=name) if name is not None else Actor.system("flow")
        args = (actor, f"flow.{first['action']}", "flow_instance", instance_id, {"history": entries})
        if audit.append_raw(cursor, dialect, *args) is None:
            audit.append(self.session, *args)

    def open_tasks_of(self, user_id: int) -> list[tuple[int, str]]:
        return self.repo.open_tasks_of(user_id)


class SqlFlowStore:
    """A FlowStore on `engine.store`: bound to a session, or opening one per step from a Database."""

    def __init__(self, *, session: Session | None = None, database: Any = None, clock: Clock | None = None,
                 timers: TimerScheduler | None = None, audited: bool = True) -> None:
        if (session is None) == (database is None):
            raise ValueError("give either a session or a database")
        self.session = session
        self.database = database
        self.clock = clock
        self.timers = timers
        # Each step writes one entry to the hash-chained audit log (off only for measurements).
        self.audited = audited
        # With a Database: one connection per thread, held between steps (checking one out of the
        # pool and back costs more than the step's own statements); `close` returns them.
        self._held = threading.local()
        self._connections: list[Connection] = []

    @contextmanager
    def atomic(self) -> Iterator[SqlFlowUnit]:
        if self.session is not None:
            with self.session.begin_nested():
                yield SqlFlowUnit(self.session, self.clock, self.timers, self.audited)
        else:
            # A transaction on the driver itself (BEGIN IMMEDIATE on SQLite, as the database's
            # write sessions): SQLAlchemy's begin and commit cost more than the step's own
            # statements. SQLAlchemy joins it only if the step needs it (an ORM session for
            # timers, a Core query); then it also ends it.
            connection = self._connection()
            driver = connection.connection.dbapi_connection
            assert driver is not None
            if connection.dialect.name == "sqlite":
                cursor = driver.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                cursor.close()
            try:
                unit = SqlFlowUnit(connection, self.clock, self.timers, self.audited)
                yield unit
                unit.finish()
            except BaseException:
                if connection.in_transaction():
                    connection.rollback()
                else:
                    driver.rollback()
                raise
            if connection.in_transaction():
                connection.commit()
            else:
                driver.commit()

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._held, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            if connection is not None:
                connection.close()
            connection = self._held.connection = self.database.writer.connect()
            self._connections.append(connection)
        return connection

    def close(self) -> None:
        """Return the connections held for steps to the pool (a Database-backed store)."""
        for connection in self._connections:
            connection.close()
        self._connections.clear()
        self._held = threading.local()


@lru_cache(maxsize=512)
def _parsed(key: str, version: int, checksum: str, body_json: str) -> FlowDefinition:
    return parse_definition(body_json)


class SqlFlowCatalog:
    """Published flow definitions from the versioned `definitions` table (kind "flow")."""

    def __init__(self, session: Session) -> None:
        self.repo = DefinitionRepository(session)

    def get(self, key: str, version: int | None = None) -> FlowDefinition | None:
        row = self.repo.current(FLOW_KIND, key) if version is None else self.repo.get(FLOW_KIND, key, version)
        if row is None or (version is None and row.status != "published"):
            return None
        import json

        definition = _parsed(key, row.version, row.checksum, json.dumps(row.body))
        if definition.version != row.version:
            definition = definition.model_copy(update={"version": row.version})
        return definition
