"""Events: how engines tell each other that something happened without importing each other.

A form write emits `record.created`; the flow engine emits `flow.node_entered`; the rule engine
listens. Engines emit into an `EventSink` they are handed; `engine.runtime` wires the sink to
durable storage and to the listeners.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

# Stable event kinds. Engines may add their own with a dotted prefix of their name.
RECORD_CREATED = "record.created"
RECORD_UPDATED = "record.updated"
RECORD_DELETED = "record.deleted"
RECORD_RESTORED = "record.restored"
FLOW_STARTED = "flow.started"
FLOW_COMPLETED = "flow.completed"
FLOW_REJECTED = "flow.rejected"
FLOW_ERROR = "flow.error"
FLOW_NODE_ENTERED = "flow.node_entered"
FLOW_NODE_COMPLETED = "flow.node_completed"
FLOW_TASK_CREATED = "flow.task_created"
FLOW_TASK_OVERDUE = "flow.task_overdue"
SENSOR_READING = "sensor.reading"
WEBHOOK_RECEIVED = "webhook.received"


# Meta key of a record event: the number of its write's audit entry. Audited writes take the audit
# head's row lock until they commit, so these numbers follow commit order, and a transaction that
# read the head at N sees exactly the writes numbered up to N (what a rollup build knows it holds).
WRITE_SEQ = "write_seq"


def utcnow() -> datetime:
    return datetime.now(UTC)


def write_meta(seq: int | None) -> dict[str, Any]:
    """The meta carrying a write's audit number (none for an unaudited write)."""
    return {WRITE_SEQ: seq} if seq is not None else {}


@dataclass(frozen=True)
class Event:
    kind: str
    # The form (or metric / webhook name) the event is about, so listeners can index by it.
    subject: str | None = None
    record_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    # For record.updated: the field keys whose values changed; `before` holds their old values.
    changed: tuple[str, ...] = ()
    before: Mapping[str, Any] = field(default_factory=dict)
    actor_id: int | None = None
    at: datetime = field(default_factory=utcnow)
    # Free-form extra facts (flow key, node id, task id, instance id, reading source ...).
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "record_id": self.record_id,
            "data": dict(self.data),
            "changed": list(self.changed),
            "before": dict(self.before),
            "actor_id": self.actor_id,
            "at": self.at.isoformat(),
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        return cls(
            kind=raw["kind"],
            subject=raw.get("subject"),
            record_id=raw.get("record_id"),
            data=raw.get("data") or {},
            changed=tuple(raw.get("changed") or ()),
            before=raw.get("before") or {},
            actor_id=raw.get("actor_id"),
            at=datetime.fromisoformat(raw["at"]) if raw.get("at") else utcnow(),
            meta=raw.get("meta") or {},
        )


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class CollectingSink:
    """An EventSink that keeps events in a list: for library use, simulations and tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class NullSink:
    def emit(self, event: Event) -> None:
        return None
