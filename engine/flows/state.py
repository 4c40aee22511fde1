"""Runtime state of one flow instance: tokens, tasks, history — plain data, cheap to copy and store.

These are slotted dataclasses rather than pydantic models because the engine touches them on
every step (the bench counts microseconds); `to_dict`/`from_dict` give the JSON form the SQL
repository persists and the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

# Instance statuses.
RUNNING = "running"
COMPLETED = "completed"
REJECTED = "rejected"
ERROR = "error"
CANCELLED = "cancelled"
FINISHED = frozenset({COMPLETED, REJECTED, CANCELLED})

# Task statuses. "waiting": paused on signers added before it, or its decision is held until
# signers added after it have acted.
OPEN = "open"
WAITING = "waiting"
DONE = "done"
WITHDRAWN = "withdrawn"
CC = "cc"
LIVE_TASK = frozenset({OPEN, WAITING})


@dataclass(slots=True)
class Token:
    """A point of control in the graph; a parallel split makes several."""

    id: int
    node: str


@dataclass(slots=True)
class Task:
    """Work one person owes on one visit of a user node (or a cc notice, needing no action)."""

    id: str
    node: str
    assignee: int
    kind: str
    status: str
    created_at: datetime
    visit: int
    token: int
    decision: str | None = None
    completed_at: datetime | None = None
    due_at: datetime | None = None
    weight: float = 1.0
    # Who finally acted (differs from the assignee when a delegate resolved on their behalf).
    actor: int | None = None
    # 委派: the delegator the task comes back to once the delegate has resolved it.
    owner: int | None = None
    # Out-of-office substitute: the task was meant for this user.
    on_behalf_of: int | None = None
    # 加签: the task this one was added to, and whether before or after its holder decides.
    parent: str | None = None
    position: str | None = None
    draft: dict[str, Any] | None = None
    comment: str | None = None
    reminders: int = 0
    overdue: bool = False
    has_timers: bool = False

    @property
    def live(self) -> bool:
        return self.status in LIVE_TASK

    def to_dict(self) -> dict[str, Any]:
        """Set fields only (a save writes every task of the instance: kept to plain look-ups)."""
        out: dict[str, Any] = {}
        for name, value in zip(_TASK_FIELDS, _task_values(self), strict=True):
            if value is None or (not value and name in _FALSY_OMITTED):
                continue
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Task:
        values = dict(raw)
        for key in ("created_at", "completed_at", "due_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


_TASK_FIELDS = tuple(f.name for f in fields(Task))
# Every field's value in one C call (a save writes every task of the instance).
_task_values = attrgetter(*_TASK_FIELDS)


def entry_dict(entry: tuple[Any, ...]) -> dict[str, Any]:
    """A history tuple `(at, action, key, value, ...)` as the public entry dict."""
    out: dict[str, Any] = {"at": entry[0], "action": entry[1]}
    for index in range(2, len(entry), 2):
        value = entry[index + 1]
        if value is not None:
            out[entry[index]] = value
    return out
_FALSY_OMITTED = frozenset({"reminders", "overdue", "has_timers"})


class FlowInstance:
    """One run of a pinned flow version over one record.

    A plain slotted class with a written-out `__init__` (one is built per start, with eight
    containers). The history is kept as it is appended — entries on the hot path are tuples
    `(at, action, key, value, ...)` — and read as the public list of dicts through `history`,
    which turns the tuples into dicts in place the first time someone looks.
    """

    __slots__ = ("_log", "_plain", "chosen", "completed", "data", "ended_at", "error", "flow_key", "flow_version",
                 "form", "id", "initiator", "next_task", "next_token", "node_state", "parent", "record_id",
                 "returns", "row_version", "started_at", "status", "tasks", "tokens", "visits")

    def __init__(
        self,
        id: int,
        flow_key: str,
        flow_version: int,
        initiator: int,
        data: dict[str, Any],
        started_at: datetime,
        status: str = RUNNING,
        record_id: int | None = None,
        form: str | None = None,
        ended_at: datetime | None = None,
        tokens: dict[int, Token] | None = None,
        tasks: dict[str, Task] | None = None,
        history: list[dict[str, Any]] | None = None,
        visits: dict[str, int] | None = None,
        node_state: dict[str, dict[str, Any]] | None = None,
        chosen: dict[str, list[int]] | None = None,
        returns: dict[str, str] | None = None,
        completed: list[str] | None = None,
        error: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
        row_version: int = 0,
        next_task: int = 1,
        next_token: int = 1,
    ) -> None:
        self.id = id
        self.flow_key = flow_key
        self.flow_version = flow_version
        self.initiator = initiator
        self.data = data
        self.started_at = started_at
        self.status = status
        self.record_id = record_id
        self.form = form
        self.ended_at = ended_at
        self.tokens: dict[int, Token] = {} if tokens is None else tokens
        self.tasks: dict[str, Task] = {} if tasks is None else tasks
        # The history as appended (dicts and hot-path tuples); `_plain`: entries before it are dicts.
        self._log: list[Any] = [] if history is None else history
        self._plain = 0
        # Node id -> how many times it was entered (tasks carry the visit they belong to).
        self.visits: dict[str, int] = {} if visits is None else visits
        # Per-node state of the current visit (e.g. the queue of a sequential approval).
        self.node_state: dict[str, dict[str, Any]] = {} if node_state is None else node_state
        # Node id -> users the previous approver chose for it.
        self.chosen: dict[str, list[int]] = {} if chosen is None else chosen
        # Reject target -> node that rejected, for "resume": "return".
        self.returns: dict[str, str] = {} if returns is None else returns
        # Nodes whose latest visit passed, in the order they passed.
        self.completed: list[str] = [] if completed is None else completed
        self.error = error
        # For a sub-flow: {"instance": parent id, "token": token id, "node": node id}.
        self.parent = parent
        self.row_version = row_version
        self.next_task = next_task
        self.next_token = next_token

    @property
    def history(self) -> list[dict[str, Any]]:
        """The audit trail of the instance, oldest first: {"at", "action", facts...} per entry."""
        log = self._log
        for index in range(self._plain, len(log)):
            entry = log[index]
            if type(entry) is tuple:
                log[index] = entry_dict(entry)
        self._plain = len(log)
        return log

    def log(self, at: datetime, action: str, *facts: Any) -> None:
        """Append a history entry as `key, value, ...` pairs (None values are left out when read)."""
        self._log.append((at, action, *facts))

    def __repr__(self) -> str:
        return (f"FlowInstance(id={self.id!r}, flow_key={self.flow_key!r}, flow_version={self.flow_version!r}, "
                f"status={self.status!r}, tasks={list(self.tasks)!r})")

    def open_tasks(self, node: str | None = None) -> list[Task]:
        return [t for t in self.tasks.values() if t.status == OPEN and (node is None or t.node == node)]

    def open_nodes(self) -> list[str]:
        """Node ids with open tasks, in the order their first open task was created."""
        seen: dict[str, None] = {}
        for task in self.tasks.values():
            if task.status == OPEN:
                seen.setdefault(task.node, None)
        return list(seen)

    def active_nodes(self) -> list[str]:
        return [t.node for t in self.tokens.values()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "flow_key": self.flow_key,
            "flow_version": self.flow_version,
            "initiator": self.initiator,
            "data": self.data,
            "started_at": self.started_at.isoformat(),
            "status": self.status,
            "record_id": self.record_id,
            "form": self.form,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "tokens": [[t.id, t.node] for t in self.tokens.values()],
            "tasks": [t.to_dict() for t in self.tasks.values()],
            "history": [
                {**e, "at": e["at"].isoformat()} if isinstance(e.get("at"), datetime) else e for e in self.history
            ],
            "visits": self.visits,
            "node_state": self.node_state,
            "chosen": self.chosen,
            "returns": self.returns,
            "completed": self.completed,
            "error": self.error,
            "parent": self.parent,
            "row_version": self.row_version,
            "next_task": self.next_task,
            "next_token": self.next_token,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FlowInstance:
        return cls(
            id=raw["id"],
            flow_key=raw["flow_key"],
            flow_version=raw["flow_version"],
            initiator=raw["initiator"],
            data=raw["data"],
            started_at=datetime.fromisoformat(raw["started_at"]),
            status=raw["status"],
            record_id=raw.get("record_id"),
            form=raw.get("form"),
            ended_at=datetime.fromisoformat(raw["ended_at"]) if raw.get("ended_at") else None,
            tokens={tid: Token(tid, node) for tid, node in raw.get("tokens", [])},
            tasks={t["id"]: Task.from_dict(t) for t in raw.get("tasks", [])},
            history=list(raw.get("history", [])),
            visits=dict(raw.get("visits", {})),
            node_state=dict(raw.get("node_state", {})),
            chosen={k: list(v) for k, v in raw.get("chosen", {}).items()},
            returns=dict(raw.get("returns", {})),
            completed=list(raw.get("completed", [])),
            error=raw.get("error"),
            parent=raw.get("parent"),
            row_version=raw.get("row_version", 0),
            next_task=raw.get("next_task", 1),
            next_token=raw.get("next_token", 1),
        )
