"""The rule DSL's AST: what a parsed rule says, before any form or expression is resolved.

Expressions stay text (`ExprText`, with where they start in the file): engine.expr parses,
checks and compiles them; this package never interprets expression syntax itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class ExprText:
    text: str
    line: int
    column: int


@dataclass(frozen=True)
class Where:
    """A spot in the rule file, for problems found after parsing."""

    line: int
    column: int


# --- triggers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordTrigger:
    form: str
    event: str  # created | updated | deleted
    fields: tuple[str, ...] = ()  # updated of …: only when one of these changed
    alias: str | None = None
    where: Where | None = None

    @property
    def kind(self) -> str:
        return f"record.{self.event}"


@dataclass(frozen=True)
class FlowTrigger:
    flow: str | None  # None: any flow
    event: str  # started | completed | rejected | node_entered | node_completed | task_overdue
    node: str | None = None
    alias: str | None = None
    where: Where | None = None

    @property
    def kind(self) -> str:
        return f"flow.{self.event}"


@dataclass(frozen=True)
class ScheduleTrigger:
    """every DURATION | daily [at "HH:MM"] | weekly on DAY [at "HH:MM"] | cron "m h dom mon dow"."""

    spec: str  # every | daily | weekly | cron
    every: timedelta | None = None
    at: str | None = None
    day: str | None = None
    cron: str | None = None
    where: Where | None = None

    @property
    def kind(self) -> str:
        return "schedule"

    def describe(self) -> str:
        if self.spec == "every":
            return f"every {self.every}"
        if self.spec == "cron":
            return f'cron "{self.cron}"'
        day = f" on {self.day}" if self.day else ""
        return f"{self.spec}{day} at {self.at or '00:00'}"


@dataclass(frozen=True)
class ReadingTrigger:
    metric: str
    alias: str | None = None
    where: Where | None = None

    @property
    def kind(self) -> str:
        return "sensor.reading"


@dataclass(frozen=True)
class WebhookTrigger:
    name: str
    alias: str | None = None
    where: Where | None = None

    @property
    def kind(self) -> str:
        return "webhook.received"


Trigger = RecordTrigger | FlowTrigger | ScheduleTrigger | ReadingTrigger | WebhookTrigger


# --- recipients and actions ------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRecipient:
    role: str
    department: ExprText | None = None


@dataclass(frozen=True)
class ManagerRecipient:
    of: ExprText


@dataclass(frozen=True)
class ExprRecipient:
    """An expression giving user id(s), a user record, an email address or a phone number."""

    value: ExprText


Recipient = RoleRecipient | ManagerRecipient | ExprRecipient


@dataclass(frozen=True)
class Delivery:
    channels: tuple[str, ...] = ("inapp",)
    template: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Assignment:
    field: str
    value: ExprText
    where: Where


@dataclass(frozen=True)
class Action:
    """One `then`/`else` action. `kind` names the registered action (engine.rules.actions)."""

    kind: str  # notify | escalate | create_record | update_record | start_flow | raise_alert | call_webhook
    where: Where
    to: tuple[Recipient, ...] = ()
    cc: tuple[Recipient, ...] = ()
    delivery: Delivery = field(default_factory=Delivery)
    form: str | None = None  # create_record
    target: ExprText | None = None  # update_record: which record; start_flow: for which record
    assignments: tuple[Assignment, ...] = ()
    name: str | None = None  # start_flow: flow key; raise_alert: alert name; call_webhook: URL
    level: str | None = None  # raise_alert


@dataclass(frozen=True)
class ForEach:
    form: str
    alias: str
    where: ExprText | None = None
    at: Where | None = None


@dataclass(frozen=True)
class Dedupe:
    keys: tuple[ExprText, ...]
    period: timedelta


@dataclass(frozen=True)
class Rule:
    name: str
    trigger: Trigger
    actions: tuple[Action, ...]
    priority: int = 0
    enabled: bool = True
    foreach: ForEach | None = None
    condition: ExprText | None = None
    else_actions: tuple[Action, ...] = ()
    dedupe: Dedupe | None = None
    line: int = 1
    source: str = ""  # the rule's own text, for explain output
