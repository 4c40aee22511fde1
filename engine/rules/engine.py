"""Evaluating rules: which rules an event wakes, the condition with its explanation, dedupe,
the actions, and the firing record that answers "why did (or didn't) it fire".

A `RuleBook` is an immutable set of compiled rules indexed by trigger; the runtime swaps in a
new book when a rule version is published, while an evaluation already running keeps the book
it started with (in-flight work finishes on the old set). The condition is evaluated in explain
mode, so the stored firing carries every sub-condition's value — including an aggregate's
bound question — at no second evaluation.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from engine.events import Event
from engine.expr import EvalContext
from engine.expr.values import to_json
from engine.rules import model as m
from engine.rules.actions import ACTIONS, ActionResult, Scope
from engine.rules.compile import CompiledRule
from engine.rules.effects import Effects

log = logging.getLogger("safeflow.rules")


class DedupeMarks(Protocol):
    def active(self, key: str, now: datetime) -> bool: ...

    def mark(self, key: str, rule: str, until: datetime, now: datetime) -> None: ...


@dataclass
class MemoryDedupe:
    until: dict[str, datetime] = field(default_factory=dict)

    def active(self, key: str, now: datetime) -> bool:
        return key in self.until and self.until[key] > now

    def mark(self, key: str, rule: str, until: datetime, now: datetime) -> None:
        self.until[key] = until


@dataclass
class Firing:
    rule: str
    ruleset: str
    version: int
    trigger: str
    subject: str | None
    record_id: int | None
    outcome: str  # fired | not_matched | deduped | failed
    at: datetime
    conditions: dict[str, Any] | None = None
    actions: list[ActionResult] = field(default_factory=list)
    dedupe_key: str | None = None
    error: str | None = None
    # The triggering Event (stored as its summary); None for schedules.
    event: Any = None

    def event_summary(self) -> dict[str, Any] | None:
        if self.event is None or isinstance(self.event, dict):
            return self.event
        out = self.event.to_dict()
        out.pop("before", None)
        return out

    @property
    def fired(self) -> bool:
        return self.outcome == "fired"


class RuleBook:
    """The rules in effect, indexed by (event kind, subject)."""

    def __init__(self, rules: Sequence[CompiledRule], stamp: Any = None) -> None:
        self.rules = [r for r in rules if r.rule.enabled]
        self.stamp = stamp
        self.by_name = {r.name: r for r in self.rules}
        self._index: dict[tuple[str, str | None], list[CompiledRule]] = defaultdict(list)
        for r in self.rules:
            t = r.rule.trigger
            subject = (t.form if isinstance(t, m.RecordTrigger) else t.metric if isinstance(t, m.ReadingTrigger)
                       else t.name if isinstance(t, m.WebhookTrigger) else None)
            if not isinstance(t, m.ScheduleTrigger):
                self._index[(t.kind, subject)].append(r)
        for bucket in self._index.values():
            bucket.sort(key=lambda r: -r.rule.priority)

    def for_event(self, event: Event) -> list[CompiledRule]:
        found = self._index.get((event.kind, event.subject), []) + self._index.get((event.kind, None), [])
        return [r for r in found if _matches(r.rule.trigger, event)]

    def scheduled(self) -> list[CompiledRule]:
        return [r for r in self.rules if isinstance(r.rule.trigger, m.ScheduleTrigger)]


def _matches(trigger: m.Trigger, event: Event) -> bool:
    if isinstance(trigger, m.RecordTrigger) and trigger.fields:
        return bool(set(trigger.fields) & set(event.changed))
    if isinstance(trigger, m.FlowTrigger):
        if trigger.flow is not None and event.meta.get("flow") != trigger.flow:
            return False
        return trigger.node is None or event.meta.get("node") == trigger.node
    return True


def event_data(event: Event) -> dict[str, Any]:
    """The record-like data a rule's expressions read for this event."""
    if event.kind.startswith("sensor."):
        return {"metric": event.subject, "source": event.data.get("source"), "value": event.data.get("value"),
                "at": event.at}
    data = dict(event.data)
    if event.record_id is not None:
        data.setdefault("id", event.record_id)
    if event.kind.startswith("flow."):
        data = {**data, **{k: v for k, v in event.meta.items() if k not in data}}
    return data


class RuleRunner:
    """Runs rules against triggers with one EvalContext (clock, timezone, SQL windows)."""

    def __init__(self, effects: Effects, ctx: EvalContext, dedupe: DedupeMarks, *, explain: str = "always") -> None:
        """`explain="always"` stores every sub-condition's value of every evaluation (the site's
        default); `"matched"` evaluates plain conditions on the fast path and explains only the
        ones that matched (conditions with aggregates are always explained: one query, not two);
        `"none"` keeps only the outcome (benchmarks against engines that explain nothing)."""
        self.effects = effects
        self.ctx = ctx
        self.dedupe = dedupe
        self.explain = explain

    @property
    def now(self) -> datetime:
        assert self.ctx.now is not None
        return self.ctx.now

    def on_event(self, book: RuleBook, event: Event) -> list[Firing]:
        return [self.evaluate_event(rule, event) for rule in book.for_event(event)]

    def evaluate_event(self, rule: CompiledRule, event: Event) -> Firing:
        data = event_data(event)
        return self.evaluate(rule, data, self.event_variables(rule, event), record_id=event.record_id,
                             trigger=event.kind, subject=event.subject, event=event)

    @staticmethod
    def event_variables(rule: CompiledRule, event: Event) -> dict[str, Any]:
        """The trigger's record (or reading, or flow step) under the rule's alias."""
        alias = getattr(rule.rule.trigger, "alias", None)
        return {alias: event_data(event)} if alias else {}

    def each_row(self, rule: CompiledRule, rows: Iterable[tuple[int, Mapping[str, Any]]],
                 outer: Mapping[str, Any] | None = None) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        """The rows of a rule's `for each` that pass its where, as (id, row, variables): the row
        under its alias beside `outer` (an event rule's trigger record under its own alias), so
        `for each risk_point as p where p.area == h.area` reaches both."""
        assert rule.rule.foreach is not None
        alias = rule.rule.foreach.alias
        for record_id, raw in rows:
            data = {**raw, "id": record_id}
            variables = {**(outer or {}), alias: data}
            if rule.foreach_where is not None and not rule.foreach_where.evaluate(data,
                                                                                 self.ctx.with_variables(**variables)):
                continue
            yield record_id, data, variables

    def sweep(self, rule: CompiledRule, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[Firing]:
        """A scheduled rule: once, or once per row of its `for each` (filtered by its where)."""
        if rule.rule.foreach is None:
            return [self.evaluate(rule, {}, {}, record_id=None, trigger="schedule", subject=None, event=None)]
        return [self.evaluate(rule, data, variables, record_id=record_id, trigger="schedule",
                              subject=rule.rule.foreach.form, event=None)
                for record_id, data, variables in self.each_row(rule, rows)]

    def evaluate(self, rule: CompiledRule, data: Mapping[str, Any], variables: Mapping[str, Any], *,
                 record_id: int | None, trigger: str, subject: str | None,
                 event: Any) -> Firing:
        ctx = self.ctx.with_variables(**variables) if variables else self.ctx
        firing = Firing(rule.name, rule.ruleset, rule.version, trigger, subject, record_id, "not_matched",
                        self.now, event=event)
        try:
            matched = True
            condition = rule.condition
            if condition is not None:
                if self.explain == "none":
                    matched = condition.evaluate(data, ctx) is True
                elif self.explain == "always" or condition.aggregates or condition.evaluate(data, ctx) is True:
                    value, firing.conditions = condition.explain_dict(data, ctx)
                    matched = value is True
                else:
                    matched = False
            branch = rule.actions if matched else rule.else_actions
            if not branch and not matched:
                return firing
            scope = Scope(rule.name, data, ctx, record_id,
                          {"engine": "rules", "rule": rule.name, "version": rule.version, "record": record_id})
            if matched and rule.dedupe:
                firing.dedupe_key = _dedupe_key(rule, scope)
                if self.dedupe.active(firing.dedupe_key, self.now):
                    firing.outcome = "deduped"
                    return firing
            for action in branch:
                firing.actions.append(ACTIONS[action.action.kind].run(action, scope, self.effects))
            if matched:
                firing.outcome = "fired"
                if firing.dedupe_key is not None and rule.rule.dedupe is not None:
                    self.dedupe.mark(firing.dedupe_key, rule.name, self.now + rule.rule.dedupe.period, self.now)
            elif branch:
                firing.outcome = "else"
        except Exception as exc:  # recorded on the firing; the runtime decides about the transaction
            log.warning("rule %s failed: %s", rule.name, exc)
            firing.outcome = "failed"
            firing.error = f"{type(exc).__name__}: {exc}"
        return firing


def _dedupe_key(rule: CompiledRule, scope: Scope) -> str:
    from engine.store.firings import dedupe_key

    return dedupe_key(rule.name, [to_json(scope.value(k)) for k in rule.dedupe])


def at_time(ctx: EvalContext, now: datetime) -> EvalContext:
    return replace(ctx, now=now)
