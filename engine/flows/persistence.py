"""The flow engine over SQL: `SqlFlowStore` and `SqlFlowCatalog` adapt `engine.store` to the
engine's store and catalog protocols (the same engine code runs in memory and on the server).

Bound to a caller's session (a request, a timer tick), each step is a SAVEPOINT inside the
caller's transaction; with a `Database`, each step is its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.flows.definition import parse_definition
from engine.flows.model import FlowDefinition
from engine.flows.repository import StaleInstance
from engine.flows.state import FlowInstance
from engine.services import Clock, TimerScheduler
from engine.store.definitions import DefinitionRepository
from engine.store.flows import STALE, FlowInstanceRepository
from engine.store.timers import TimerRepository

FLOW_KIND = "flow"


class SqlFlowUnit:
    def __init__(self, session: Session, clock: Clock | None, timers: TimerScheduler | None = None) -> None:
        self.session = session
        self.repo = FlowInstanceRepository(session)
        self.timers: TimerScheduler = timers or TimerRepository(session, clock)
        self._pending: dict[int, FlowInstance] = {}

    def new_id(self) -> int:
        # The row is reserved when the instance is added (it needs key and version).
        return -1

    def add(self, instance: FlowInstance) -> None:
        instance.id = self.repo.reserve_id(instance.flow_key, instance.flow_version, instance.started_at)
        self.repo.track_new(instance.id)

    def load(self, instance_id: int) -> FlowInstance:
        return FlowInstance.from_dict(self.repo.load(instance_id))

    def save(self, instance: FlowInstance) -> None:
        try:
            self.repo.save(instance.to_dict())
        except Conflict as exc:
            if exc.code == STALE:
                raise StaleInstance(STALE, what=instance.id) from None
            raise

    def open_tasks_of(self, user_id: int) -> list[tuple[int, str]]:
        return self.repo.open_tasks_of(user_id)


class SqlFlowStore:
    """A FlowStore on `engine.store`: bound to a session, or opening one per step from a Database."""

    def __init__(self, *, session: Session | None = None, database: Any = None, clock: Clock | None = None,
                 timers: TimerScheduler | None = None) -> None:
        if (session is None) == (database is None):
            raise ValueError("give either a session or a database")
        self.session = session
        self.database = database
        self.clock = clock
        self.timers = timers

    @contextmanager
    def atomic(self) -> Iterator[SqlFlowUnit]:
        if self.session is not None:
            with self.session.begin_nested():
                yield SqlFlowUnit(self.session, self.clock, self.timers)
        else:
            with self.database.session() as session:
                yield SqlFlowUnit(session, self.clock, self.timers)


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
