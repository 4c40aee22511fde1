"""Where instances live: a store protocol with one unit of work per step, and in-memory versions.

The engine runs the same code against `MemoryFlowStore` (simulate, the bench, tests) and the SQL
store in `engine.store.flows` (the server). A unit is one transaction: load, change, save with
the row version it was loaded at — a concurrent writer makes `save` raise `StaleInstance` and
the engine re-runs the step on fresh state, so no vote is lost and no node completes twice.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from engine.errors import Conflict, NotFound
from engine.flows.model import FlowDefinition
from engine.flows.state import FlowInstance
from engine.services import TimerScheduler


class StaleInstance(Conflict):
    """Someone else saved the instance since it was loaded; the step is retried."""

    default_code = "flow.instance.stale"


class FlowUnit(Protocol):
    """One transaction over instances (and the timers scheduled with them)."""

    timers: TimerScheduler
    # The user acting in this step, set by the engine before `load` (None: the system).
    actor: int | None

    def new_id(self) -> int: ...

    def load(self, instance_id: int) -> FlowInstance: ...

    def add(self, instance: FlowInstance) -> None: ...

    def save(self, instance: FlowInstance) -> None:
        """Persist; raise StaleInstance if the stored row_version is not instance.row_version - 1."""
        ...

    def open_tasks_of(self, user_id: int) -> list[tuple[int, str]]:
        """(instance id, task id) of every open task assigned to a user."""
        ...


class FlowStore(Protocol):
    def atomic(self) -> Any:
        """Context manager yielding a FlowUnit; commits on success, rolls back on error."""
        ...


class FlowCatalog(Protocol):
    """Published flow definitions by key and version (None = the latest)."""

    def get(self, key: str, version: int | None = None) -> FlowDefinition | None: ...


class MemoryCatalog:
    def __init__(self, definitions: list[FlowDefinition] | None = None) -> None:
        self._by_key: dict[str, dict[int, FlowDefinition]] = {}
        for definition in definitions or []:
            self.publish(definition)

    def publish(self, definition: FlowDefinition) -> FlowDefinition:
        versions = self._by_key.setdefault(definition.key, {})
        if definition.version in versions:
            raise Conflict("flow.version_exists", what=f"{definition.key} v{definition.version}")
        versions[definition.version] = definition
        return definition

    def get(self, key: str, version: int | None = None) -> FlowDefinition | None:
        versions = self._by_key.get(key)
        if not versions:
            return None
        return versions.get(version if version is not None else max(versions))


class MemoryTimers:
    """An in-memory TimerScheduler with the runtime's tick: simulations, the bench and tests."""

    def __init__(self) -> None:
        self.timers: dict[str, tuple[str, datetime, dict[str, Any]]] = {}

    def schedule(self, kind: str, due_at: datetime, payload: Mapping[str, Any], key: str) -> None:
        self.timers[key] = (kind, due_at, dict(payload))

    def cancel(self, key: str) -> None:
        self.timers.pop(key, None)

    def cancel_prefix(self, prefix: str) -> None:
        for key in [k for k in self.timers if k.startswith(prefix)]:
            del self.timers[key]

    def due(self, now: datetime) -> list[tuple[str, str, dict[str, Any]]]:
        """Due timers in due order, removed from the list (claimed)."""
        due = sorted(((t[1], k) for k, t in self.timers.items() if t[1] <= now))
        out = []
        for _, key in due:
            kind, _, payload = self.timers.pop(key)
            out.append((kind, key, payload))
        return out


class _MemoryUnit:
    """The one unit of a MemoryFlowStore; entering it takes the store's lock."""

    # Who acts in the step (set by the engine; a SQL unit reads their name with the instance).
    actor: int | None = None

    def __init__(self, store: MemoryFlowStore) -> None:
        self.store = store
        self.timers: TimerScheduler = store.timers
        self._lock = threading.RLock()
        self._acquire, self._release = self._lock.acquire, self._lock.release

    def __enter__(self) -> _MemoryUnit:
        self._acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release()

    def new_id(self) -> int:
        self.store.last_id += 1
        return self.store.last_id

    def load(self, instance_id: int) -> FlowInstance:
        instance = self.store.instances.get(instance_id)
        if instance is None:
            raise NotFound("error.not_found", what=f"flow instance {instance_id}")
        return instance

    def add(self, instance: FlowInstance) -> None:
        self.store.instances[instance.id] = instance

    def save(self, instance: FlowInstance) -> None:
        self.store.instances[instance.id] = instance

    def open_tasks_of(self, user_id: int) -> list[tuple[int, str]]:
        return [
            (inst.id, t.id)
            for inst in self.store.instances.values()
            for t in inst.tasks.values()
            if t.assignee == user_id and t.status == "open"
        ]


class MemoryFlowStore:
    """Instances as live objects in a dict; a lock makes each step atomic across threads.

    Steps check everything before they change anything, so a refused action leaves the live
    object untouched without the cost of copying it.
    """

    def __init__(self, timers: MemoryTimers | None = None) -> None:
        self.instances: dict[int, FlowInstance] = {}
        self.timers = timers or MemoryTimers()
        self.last_id = 0
        self._unit = _MemoryUnit(self)

    def atomic(self) -> _MemoryUnit:
        return self._unit
