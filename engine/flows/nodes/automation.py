"""Automation nodes: set fields, create a record, call a webhook — no person involved.

Setting fields changes the instance's record data in the step itself. Creating records and
calling webhooks are effects handed to an `Automation` port after the step is saved; the
runtime wires it to the record store and the outbox (and to the rule engine's actions once
those exist), simulations record the calls instead of making them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import Field

from engine.errors import Problem
from engine.flows.model import NodeSpec, Spec
from engine.flows.nodes.base import NodeType, Targets, register_node_type


class CreateRecord(Spec):
    form: str
    values: dict[str, Any] = Field(default_factory=dict)


class Webhook(Spec):
    url: str
    method: Literal["POST", "PUT", "PATCH", "GET", "DELETE"] = "POST"
    body: dict[str, Any] | None = None


class AutomationAction(Spec):
    """One step: exactly one of `set`, `create_record`, `webhook`.

    Values are literals; a string starting with "=" is an expression over the record
    (`"=score * 2"`), so a plain text value never needs quoting.
    """

    set: dict[str, Any] | None = None
    create_record: CreateRecord | None = None
    webhook: Webhook | None = None


class AutomationSpec(NodeSpec):
    type: Literal["automation"]
    actions: list[AutomationAction] = Field(min_length=1)


class Automation(Protocol):
    def create_record(self, form: str, values: Mapping[str, Any], source: Mapping[str, Any]) -> None: ...

    def call_webhook(
        self, url: str, method: str, body: Mapping[str, Any] | None, source: Mapping[str, Any]
    ) -> None: ...


class RecordingAutomation:
    """Keeps the calls instead of making them (simulations, dry runs, tests)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_record(self, form: str, values: Mapping[str, Any], source: Mapping[str, Any]) -> None:
        self.calls.append(("create_record", {"form": form, "values": dict(values), "source": dict(source)}))

    def call_webhook(
        self, url: str, method: str, body: Mapping[str, Any] | None, source: Mapping[str, Any]
    ) -> None:
        self.calls.append(("webhook", {"url": url, "method": method, "body": body, "source": dict(source)}))


def expressions_of(values: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return [(k, v[1:]) for k, v in (values or {}).items() if isinstance(v, str) and v.startswith("=")]


def _value(run: Any, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("="):
        compiled = run.engine.compiled_expression(run.flow, value[1:])
        return compiled.evaluate(run.instance.data, run.engine.eval_context(run.now))
    return value


def _values(run: Any, values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else {k: _value(run, v) for k, v in values.items()}


@register_node_type
class AutomationNode(NodeType):
    name = "automation"
    spec = AutomationSpec
    bpmn = "scriptTask"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        inst = run.instance
        source = {"engine": "flows", "flow": inst.flow_key, "instance": inst.id, "node": node.id}
        try:
            for action in node.actions:
                if action.set is not None:
                    updates = _values(run, action.set) or {}
                    inst.data.update(updates)
                    run.record("set", node=node.id, fields=sorted(updates))
                if action.create_record is not None:
                    values = _values(run, action.create_record.values) or {}
                    run.effects.children.append(("create_record", action.create_record.form, values, source))
                if action.webhook is not None:
                    body = _values(run, action.webhook.body)
                    run.effects.children.append(
                        ("webhook", action.webhook.url, action.webhook.method, body, source)
                    )
        except Exception as exc:  # a failing expression stops the instance visibly
            run.fail(token, "flow.automation.error", node=node.id, error=str(exc))
            return None
        return run.flow.out_targets[node.id]

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        problems = []
        for index, action in enumerate(node.actions):
            given = [a for a in ("set", "create_record", "webhook") if getattr(action, a) is not None]
            if len(given) != 1:
                problems.append(ctx.problem("flow.automation.one_action", node.id, path=f"actions[{index}]"))
            for key, expr in expressions_of(action.set):
                problems.extend(ctx.expression_problems(expr, node.id, f"actions[{index}].set.{key}"))
                if ctx.fields is not None and key not in ctx.fields:
                    problems.append(
                        ctx.problem(
                            "flow.field.unknown", node.id, path=f"actions[{index}].set.{key}", field=key
                        )
                    )
            if action.create_record is not None:
                for key, expr in expressions_of(action.create_record.values):
                    path = f"actions[{index}].create_record.values.{key}"
                    problems.extend(ctx.expression_problems(expr, node.id, path))
            if action.webhook is not None:
                for key, expr in expressions_of(action.webhook.body):
                    path = f"actions[{index}].webhook.body.{key}"
                    problems.extend(ctx.expression_problems(expr, node.id, path))
        return problems
