"""Flow instances in SQL: state documents with optimistic locking, and the task inbox.

Works on plain JSON documents (what `FlowInstance.to_dict` gives), so the store knows nothing of
the flow engine's classes. `save` updates the row only if its row version is still the one the
caller loaded; otherwise it raises `Conflict("flow.instance.stale")` and the engine re-runs the
step on fresh state — a concurrent approval is never lost or counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from engine.errors import Conflict, NotFound
from engine.store.base import utcnow
from engine.store.models import StoredInstance, StoredTask, User
from engine.store.prepared import Prepared, Statements, raw_cursor

STALE = "flow.instance.stale"
_I = StoredInstance.__table__
_T = StoredTask.__table__
_U = User.__table__
# Prebuilt statements: a task completion is a handful of these, compiled once (the ORM's
# per-call coercion of `.values(**kw)` costs more than SQLite's whole write).
_LOAD = select(_I.c.state, _I.c.row_version).where(_I.c.id == bindparam("b_id"))
_SAVE = (
    _I.update()
    .where(_I.c.id == bindparam("b_id"), _I.c.row_version == bindparam("b_expected"))
    .values(state=bindparam("state"), row_version=bindparam("row_version"), status=bindparam("status"),
            flow_version=bindparam("flow_version"), form=bindparam("form"), record_id=bindparam("record_id"),
            initiator_id=bindparam("initiator_id"), parent_id=bindparam("parent_id"), ended_at=bindparam("ended_at"),
            updated_at=bindparam("updated_at"))
)
# The same when only the document changed: the indexed columns are left out of the SET, so SQLite
# does not rewrite their index entries (each a page the commit writes to the WAL).
_SAVE_STATE = (
    _I.update()
    .where(_I.c.id == bindparam("b_id"), _I.c.row_version == bindparam("b_expected"))
    .values(state=bindparam("state"), row_version=bindparam("row_version"), updated_at=bindparam("updated_at"))
)
_TASK_COLUMNS = ("node", "kind", "status", "assignee_id", "actor_id", "decision", "created_at", "completed_at",
                 "due_at")
_UPDATE_TASK = _T.update().where(_T.c.id == bindparam("b_id")).values(
    **{c: bindparam(c) for c in _TASK_COLUMNS})
_TASK_FIELDS = ("node", "kind", "status", "assignee", "actor", "decision", "created_at", "completed_at", "due_at")
_RESERVE = (
    _I.insert()
    .values(flow_key=bindparam("flow_key"), flow_version=bindparam("flow_version"), status="running",
            state=bindparam("state"), row_version=0, started_at=bindparam("started_at"),
            updated_at=bindparam("started_at"))
    .returning(_I.c.id)
)
# The load with the acting user's name for the step's audit entry, in the same round trip.
_LOAD_WITH_ACTOR = select(
    _I.c.state, _I.c.row_version,
    select(_U.c.username).where(_U.c.id == bindparam("b_actor")).scalar_subquery(),
).where(_I.c.id == bindparam("b_id"))


def _upsert_task(insert: Any) -> Any:
    """One statement for a step's new and changed task rows (SQLite and PostgreSQL upsert)."""
    statement = insert(_T)
    return statement.on_conflict_do_update(
        index_elements=[_T.c.id], set_={c: getattr(statement.excluded, c) for c in _TASK_COLUMNS})


# ... run on the session connection's DBAPI cursor (see engine.store.prepared).
_STATEMENTS = Statements({"load": _LOAD, "load_with_actor": _LOAD_WITH_ACTOR, "save": _SAVE,
                          "save_state": _SAVE_STATE, "update_task": _UPDATE_TASK, "insert_task": _T.insert(),
                          "reserve": _RESERVE})
_UPSERT = {"sqlite": Statements({"upsert_task": _upsert_task(sqlite_insert)}),
           "postgresql": Statements({"upsert_task": _upsert_task(postgresql_insert)})}


@dataclass(frozen=True, slots=True)
class _Loaded:
    state: dict[str, Any] | None
    row_version: int


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _task_values(task: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "node": task["node"], "kind": task["kind"], "status": task["status"], "assignee_id": task["assignee"],
        "actor_id": task.get("actor"), "decision": task.get("decision"), "created_at": _when(task["created_at"]),
        "completed_at": _when(task.get("completed_at")), "due_at": _when(task.get("due_at")),
    }


# The instance's own columns, taken from its document (ended_at last: bound as a datetime);
# flow_version changes when `safeflow flow migrate` moves the instance.
_COLUMNS = ("status", "flow_version", "form", "record_id", "initiator_id", "parent_id", "ended_at")


def _columns(state: Mapping[str, Any]) -> tuple[Any, ...]:
    return (state["status"], state["flow_version"], state.get("form"), state.get("record_id"),
            state.get("initiator"), (state.get("parent") or {}).get("instance"), state.get("ended_at"))


def _signature(task: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(map(task.get, _TASK_FIELDS))


class FlowInstanceRepository:
    """Session-bound: every call runs in the caller's transaction."""

    def __init__(self, session: Session | Connection) -> None:
        self.session = session
        # Task signatures as loaded, so `save` writes only the task rows that changed.
        self._loaded: dict[int, dict[str, tuple[Any, ...]]] = {}
        self._cursor: Any = None
        self._connection: Connection | None = None
        self._prepared: dict[str, Prepared] = {}
        # The indexed columns as stored, so `save` rewrites them (and their indexes) only when they change.
        self._columns: dict[int, tuple[Any, ...]] = {}
        self.dialect: Any = None

    def _raw(self) -> tuple[Any, dict[str, Prepared]]:
        """The DBAPI cursor of this session's connection and the statements for its dialect
        (a session may move to another connection after a commit: the cursor follows it)."""
        bind = self.session
        connection = bind.connection() if isinstance(bind, Session) else bind
        if self._cursor is None or connection is not self._connection:
            self._cursor, self.dialect = raw_cursor(connection)
            self._connection = connection
            self._prepared = _STATEMENTS[self.dialect]
        return self._cursor, self._prepared

    def raw(self) -> tuple[Any, Dialect]:
        """The cursor this repository writes with, for other writes of the same step (audit)."""
        return self._raw()[0], self.dialect

    def reserve_id(self, flow_key: str, flow_version: int, started_at: datetime) -> int:
        """Insert an empty row (row version 0) and return its id; `save` fills it."""
        cursor, prepared = self._raw()
        row = prepared["reserve"].row(cursor, {"flow_key": flow_key, "flow_version": flow_version, "state": {},
                                               "started_at": started_at})
        assert row is not None
        return int(row[0])

    def load(self, instance_id: int, actor: int | None = None) -> dict[str, Any]:
        """The state document; with `actor`, their username too, as `state["actor_name"]` (None:
        no such user), read in the same statement for the step's audit entry."""
        cursor, prepared = self._raw()
        if actor is None:
            found = prepared["load"].row(cursor, {"b_id": instance_id})
        else:
            found = prepared["load_with_actor"].row(cursor, {"b_id": instance_id, "b_actor": actor})
        row = None if found is None else _Loaded(*found[:2])
        if row is None or not row.state:
            raise NotFound("error.not_found", what=f"flow instance {instance_id}")
        state = dict(row.state)
        state["row_version"] = row.row_version
        if actor is not None:
            state["actor_name"] = found[2]
        self._loaded[instance_id] = {t["id"]: _signature(t) for t in state.get("tasks", [])}
        self._columns[instance_id] = _columns(state)
        return state

    def track_new(self, instance_id: int) -> None:
        self._loaded[instance_id] = {}
        self._columns.pop(instance_id, None)

    def save(self, state: Mapping[str, Any]) -> None:
        """Write the document whose `row_version` is one more than the stored one."""
        instance_id = state["id"]
        version = state["row_version"]
        cursor, prepared = self._raw()
        columns = _columns(state)
        params = {"b_id": instance_id, "b_expected": version - 1, "state": dict(state),
                  "row_version": version, "updated_at": utcnow()}
        if columns == self._columns.get(instance_id):
            result = prepared["save_state"].run(cursor, params)
        else:
            result = prepared["save"].run(cursor, {**params, **dict(zip(_COLUMNS, columns, strict=True)),
                                                   "ended_at": _when(columns[-1])})
        if result.rowcount != 1:
            raise Conflict(STALE, what=instance_id)
        before = self._loaded.get(instance_id, {})
        new_rows = []
        changed = []
        after: dict[str, tuple[Any, ...]] = {}
        for task in state.get("tasks", []):
            signature = after[task["id"]] = _signature(task)
            old = before.get(task["id"])
            if old == signature:
                continue
            if old is None:
                new_rows.append({"id": task["id"], "instance_id": instance_id, "flow_key": state["flow_key"],
                                 "record_id": state.get("record_id"), **_task_values(task)})
            else:
                changed.append({"b_id": task["id"], **_task_values(task)})
        upsert = _UPSERT.get(self.dialect.name)
        if upsert is not None and changed and new_rows:  # one statement for both
            rows = [{"id": r.pop("b_id"), "instance_id": instance_id, "flow_key": state["flow_key"],
                     "record_id": state.get("record_id"), **r} for r in changed]
            upsert[self.dialect]["upsert_task"].run_many(cursor, rows + new_rows)
        else:
            if changed:
                prepared["update_task"].run_many(cursor, changed)
            if new_rows:
                prepared["insert_task"].run_many(cursor, new_rows)
        self._loaded[instance_id] = after
        self._columns[instance_id] = columns

    def open_tasks_of(self, user_id: int) -> list[tuple[int, str]]:
        rows = self.session.execute(
            select(StoredTask.instance_id, StoredTask.id)
            .where(StoredTask.assignee_id == user_id, StoredTask.status == "open")
            .order_by(StoredTask.created_at)
        )
        return [(r.instance_id, r.id) for r in rows]

    def instances_of(self, flow_key: str, *, version: int | None = None,
                     statuses: Iterable[str] = ("running", "error")) -> list[int]:
        query = select(StoredInstance.id).where(StoredInstance.flow_key == flow_key,
                                                StoredInstance.status.in_(tuple(statuses)))
        if version is not None:
            query = query.where(StoredInstance.flow_version == version)
        return list(self.session.execute(query.order_by(StoredInstance.id)).scalars())


# -- the inbox ------------------------------------------------------------------------------------

BOXES = ("todo", "done", "cc", "started")


@dataclass(frozen=True)
class InboxEntry:
    task_id: str | None
    instance_id: int
    flow_key: str
    record_id: int | None
    node: str | None
    kind: str | None
    status: str
    created_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    decision: str | None


def _box_query(box: str, user_id: int) -> Any:
    if box == "started":
        return select(
            StoredInstance.id.label("instance_id"), StoredInstance.flow_key, StoredInstance.record_id,
            StoredInstance.status, StoredInstance.started_at.label("created_at"),
            StoredInstance.ended_at.label("completed_at"),
        ).where(StoredInstance.initiator_id == user_id, StoredInstance.parent_id.is_(None))
    query = select(StoredTask)
    if box == "todo":
        return query.where(StoredTask.assignee_id == user_id, StoredTask.status.in_(("open", "waiting")))
    if box == "done":
        return query.where(
            StoredTask.status == "done",
            or_(StoredTask.actor_id == user_id, (StoredTask.assignee_id == user_id) & StoredTask.actor_id.is_(None)),
        )
    if box == "cc":
        return query.where(StoredTask.assignee_id == user_id, StoredTask.kind == "cc")
    raise NotFound("error.not_found", what=f"inbox {box}")


def inbox(session: Session, user_id: int, box: str, *, flow_key: str | None = None, node: str | None = None,
          overdue_at: datetime | None = None, limit: int = 50, offset: int = 0) -> tuple[list[InboxEntry], int]:
    """One box of a user's inbox, newest first, with its total count (before limit/offset)."""
    query = _box_query(box, user_id)
    if box == "started":
        if flow_key:
            query = query.where(StoredInstance.flow_key == flow_key)
        order = StoredInstance.started_at.desc()
    else:
        if flow_key:
            query = query.where(StoredTask.flow_key == flow_key)
        if node:
            query = query.where(StoredTask.node == node)
        if overdue_at is not None:
            query = query.where(StoredTask.due_at < overdue_at)
        order = (StoredTask.completed_at if box == "done" else StoredTask.created_at).desc()
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(order).limit(limit).offset(offset))
    out = []
    for row in rows:
        if box == "started":
            out.append(InboxEntry(None, row.instance_id, row.flow_key, row.record_id, None, None, row.status,
                                  row.created_at, row.completed_at, None, None))
        else:
            t = row[0]
            out.append(InboxEntry(t.id, t.instance_id, t.flow_key, t.record_id, t.node, t.kind, t.status,
                                  t.created_at, t.completed_at, t.due_at, t.decision))
    return out, total


def inbox_counts(session: Session, user_id: int) -> dict[str, int]:
    return {
        box: session.execute(select(func.count()).select_from(_box_query(box, user_id).subquery())).scalar_one()
        for box in BOXES
    }
