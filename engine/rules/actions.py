"""Rule actions: one small registered class per `then` verb.

Each action evaluates its expressions against the firing's scope, says what it will do (`to`
and `detail`, the dry run's output line) and asks the Effects port to do it. Adding a verb is a
grammar alternative plus one class here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.expr import CompiledExpr, EvalContext
from engine.expr.values import to_json
from engine.rules import model as m
from engine.rules.compile import CompiledAction
from engine.rules.effects import Effects
from engine.services import Notification, Recipient


@dataclass
class Scope:
    """What one firing sees: the trigger's data, the aliases, the record it is about."""

    rule: str
    data: Mapping[str, Any]
    ctx: EvalContext
    record_id: int | None = None
    source: dict[str, Any] = field(default_factory=dict)

    def value(self, compiled: CompiledExpr | None) -> Any:
        return None if compiled is None else compiled.evaluate(self.data, self.ctx)

    def template_context(self) -> dict[str, Any]:
        record = to_json(dict(self.data))
        aliases = {k: record if v is self.data else to_json(v) for k, v in self.ctx.variables.items()}
        return {**aliases, "record": record, "rule": self.rule, "record_id": self.record_id}


@dataclass
class ActionResult:
    kind: str
    to: list[str]
    detail: dict[str, Any]
    outcome: str = "done"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "to": self.to, "detail": self.detail, "outcome": self.outcome}


def _people(value: Any) -> tuple[list[Recipient], list[str]]:
    """An expression's value as recipients: user ids, user records, emails, phones, URLs."""
    items = value if isinstance(value, list | tuple) else [value]
    out: list[Recipient] = []
    names: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("id")
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int | float) or (isinstance(item, str) and item.isdigit() and len(item) < 10):
            out.append(Recipient("user", int(item)))
            names.append(f"user:{int(item)}")
        elif isinstance(item, str) and "@" in item:
            out.append(Recipient("email", item))
            names.append(f"email:{item}")
        elif isinstance(item, str) and item.startswith(("http://", "https://")):
            out.append(Recipient("url", item))
            names.append(f"url:{item}")
        elif isinstance(item, str) and item.lstrip("+").replace("-", "").isdigit():
            out.append(Recipient("phone", item))
            names.append(f"phone:{item}")
    return out, names


def recipients(items: Sequence[tuple[m.Recipient, CompiledExpr | None]], scope: Scope) -> tuple[list[Recipient],
                                                                                                list[str]]:
    out: list[Recipient] = []
    names: list[str] = []
    for written, compiled in items:
        if isinstance(written, m.RoleRecipient):
            department = scope.value(compiled) if compiled is not None else None
            scoped = {"department": department} if department is not None else {}
            out.append(Recipient("role", written.role, scoped))
            names.append(f"role:{written.role}" + (f"@{department}" if department is not None else ""))
        elif isinstance(written, m.ManagerRecipient):
            people, _ = _people(scope.value(compiled))
            for person in people:
                out.append(Recipient("manager_of", person.value))
                names.append(f"manager_of:{person.value}")
        else:
            people, described = _people(scope.value(compiled))
            out.extend(people)
            names.extend(described)
    return out, names


class ActionKind:
    name: ClassVar[str]

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        raise NotImplementedError


ACTIONS: dict[str, ActionKind] = {}


def register_action(cls: type[ActionKind]) -> type[ActionKind]:
    ACTIONS[cls.name] = cls()
    return cls


def _notification(action: CompiledAction, scope: Scope, default_template: str) -> tuple[Notification, list[str]]:
    to, to_names = recipients(action.to, scope)
    cc, cc_names = recipients(action.cc, scope)
    delivery = action.action.delivery
    message = {"zh": delivery.message, "en": delivery.message} if delivery.message else None
    template = None if message else (delivery.template or default_template)
    context = scope.template_context()
    if action.action.name:
        context.update({"alert": action.action.name, "level": action.action.level})
    note = Notification(to=to, cc=cc, template=template, channels=tuple(delivery.channels), context=context,
                        subject=message, body=message, source=dict(scope.source))
    return note, to_names + [f"cc:{n}" for n in cc_names]


def _values(action: CompiledAction, scope: Scope) -> dict[str, Any]:
    return {key: to_json(scope.value(compiled)) for key, compiled in action.values.items()}


@register_action
class Notify(ActionKind):
    name = "notify"

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        note, names = _notification(action, scope, "rules.notify")
        outcome = effects.notify(note)
        return ActionResult(self.name, names, {"channels": list(note.channels), "template": note.template}, outcome)


@register_action
class Escalate(Notify):
    name = "escalate"

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        note, names = _notification(action, scope, "rules.escalate")
        outcome = effects.notify(note)
        return ActionResult(self.name, names, {"channels": list(note.channels), "template": note.template}, outcome)


@register_action
class CreateRecord(ActionKind):
    name = "create_record"

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        values = _values(action, scope)
        assert action.action.form is not None
        new_id = effects.create_record(action.action.form, values, scope.source)
        return ActionResult(self.name, [], {"form": action.action.form, "values": values, "id": new_id})


@register_action
class UpdateRecord(ActionKind):
    name = "update_record"

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        target = scope.value(action.target)
        if isinstance(target, Mapping):
            target = target.get("id")
        if action.target is not None and action.target.text.strip() == "record":
            target = scope.record_id
        values = _values(action, scope)
        if target is None:
            return ActionResult(self.name, [], {"values": values}, "skipped: no target record")
        outcome = effects.update_record(int(target), values, scope.source)
        return ActionResult(self.name, [], {"record": int(target), "values": values}, outcome)


@register_action
class StartFlow(ActionKind):
    name = "start_flow"

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        target = scope.value(action.target) if action.target is not None else scope.record_id
        if isinstance(target, Mapping):
            target = target.get("id")
        flow = action.action.name or ""
        outcome = effects.start_flow(flow, int(target) if target is not None else None, to_json(dict(scope.data)),
                                     scope.source)
        return ActionResult(self.name, [], {"flow": flow, "record": target}, outcome)


@register_action
class RaiseAlert(ActionKind):
    name = "raise_alert"

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        note, names = _notification(action, scope, "rules.alert") if action.to else (None, [])
        name, level = action.action.name or "", action.action.level or ""
        outcome = effects.raise_alert(name, level, note, scope.source)
        return ActionResult(self.name, names, {"alert": name, "level": level}, outcome)


@register_action
class CallWebhook(ActionKind):
    name = "call_webhook"

    def run(self, action: CompiledAction, scope: Scope, effects: Effects) -> ActionResult:
        body = _values(action, scope)
        body.setdefault("rule", scope.rule)
        url = action.action.name or ""
        outcome = effects.call_webhook(url, body, scope.source)
        return ActionResult(self.name, [url], {"body": body}, outcome)


Runner = Callable[[CompiledAction, Scope, Effects], ActionResult]
