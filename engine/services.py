"""The small services interface engines call for effects they do not own.

`engine.runtime` implements these against the database (durable timers, the outbox) and wires
them at start-up; simulations and dry runs pass in-memory or recording implementations. No
engine imports another engine's internals to start a flow or send a message: it calls these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: simulations, dry runs and tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now = self._now + delta
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class TimerScheduler(Protocol):
    """Durable timers: a row with a due time; the runtime's tick hands it to the kind's handler.

    `key` makes scheduling idempotent and lets the owner cancel it (e.g. a task completed before
    its deadline). Handlers are registered per `kind` by the engine that owns the kind.
    """

    def schedule(self, kind: str, due_at: datetime, payload: Mapping[str, Any], key: str) -> None: ...

    def cancel(self, key: str) -> None: ...

    def cancel_prefix(self, prefix: str) -> None: ...


@dataclass(frozen=True)
class Recipient:
    """Who a notification goes to, before resolution to concrete users.

    kind: "user" (value = user id), "role" (value = role key, optional department id in scope),
    "field" (value = a user field of the record), "manager_of" (value = user id), "email",
    "phone" (raw addresses given by an integrator).
    """

    kind: str
    value: Any
    scope: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    to: Sequence[Recipient]
    template: str | None = None
    channels: Sequence[str] = ("inapp",)
    context: Mapping[str, Any] = field(default_factory=dict)
    cc: Sequence[Recipient] = ()
    # Plain subject/body when no template is named, per locale.
    subject: Mapping[str, str] | None = None
    body: Mapping[str, str] | None = None
    source: Mapping[str, Any] = field(default_factory=dict)
    # Files sent along by e-mail (a weekly report's PDF): stored files, as
    # {"sha256", "filename", "content_type"}; other channels ignore them.
    attachments: Sequence[Mapping[str, Any]] = ()


class Notifier(Protocol):
    def notify(self, notification: Notification) -> None: ...


class RecordingNotifier:
    """Keeps notifications instead of sending them: dry runs, simulations, tests."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def notify(self, notification: Notification) -> None:
        self.sent.append(notification)
