"""What rule actions do to the world, as a port the runtime implements.

The rule engine decides *what* to do (who to tell, which fields to set); the runtime does it
in the trigger's transaction: the outbox for messages, the record service for records, the
flow engine for flows. Keeping it a port is what lets `rules` never import `flows`, and lets a
dry run or a benchmark count the actions instead of taking them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.services import Notification


class Effects(Protocol):
    def notify(self, notification: Notification) -> str: ...

    def create_record(self, form: str, values: Mapping[str, Any], source: Mapping[str, Any]) -> int: ...

    def update_record(self, record_id: int, values: Mapping[str, Any], source: Mapping[str, Any]) -> str: ...

    def start_flow(self, flow: str, record_id: int | None, data: Mapping[str, Any],
                   source: Mapping[str, Any]) -> str: ...

    def raise_alert(self, name: str, level: str, notification: Notification | None,
                    source: Mapping[str, Any]) -> str: ...

    def call_webhook(self, url: str, body: Mapping[str, Any], source: Mapping[str, Any]) -> str: ...


@dataclass
class RecordingEffects:
    """Keeps every call (benchmarks, unit tests); creates nothing."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    next_id: int = 1

    def notify(self, notification: Notification) -> str:
        self.calls.append(("notify", notification))
        return "recorded"

    def create_record(self, form: str, values: Mapping[str, Any], source: Mapping[str, Any]) -> int:
        self.calls.append(("create_record", (form, dict(values))))
        self.next_id += 1
        return self.next_id - 1

    def update_record(self, record_id: int, values: Mapping[str, Any], source: Mapping[str, Any]) -> str:
        self.calls.append(("update_record", (record_id, dict(values))))
        return "recorded"

    def start_flow(self, flow: str, record_id: int | None, data: Mapping[str, Any],
                   source: Mapping[str, Any]) -> str:
        self.calls.append(("start_flow", (flow, record_id)))
        return "recorded"

    def raise_alert(self, name: str, level: str, notification: Notification | None,
                    source: Mapping[str, Any]) -> str:
        self.calls.append(("raise_alert", (name, level)))
        return "recorded"

    def call_webhook(self, url: str, body: Mapping[str, Any], source: Mapping[str, Any]) -> str:
        self.calls.append(("call_webhook", (url, dict(body))))
        return "recorded"


def kinds(calls: Sequence[tuple[str, Any]]) -> list[str]:
    return [c[0] for c in calls]
