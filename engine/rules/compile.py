"""Rules → checked, compiled rules: every expression through engine.expr, every form, field,
flow, channel and template name checked, all problems collected and located in the file.

Which names an expression may use depends on the trigger: a record trigger's condition reads
the record's fields (bare, or through its alias and `record`); a reading trigger reads
`metric, source, value, at`; a for-each sweep reads the row's fields. Aggregates resolve their
form through the same environment, so `count(hazrd where …)` says "did you mean hazard".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine import i18n
from engine.errors import Problem
from engine.expr import CompiledExpr, Schema, check, compile_expr
from engine.expr.types import OPEN
from engine.rules import model as m
from engine.rules.schedules import check_schedule

READINGS_FORM = "readings"
READING_FIELDS = {"metric": "text", "source": "text", "value": "number", "at": "datetime"}
KNOWN_CHANNELS = ("inapp", "email", "sms", "webhook", "dingtalk", "wecom")
ALERT_LEVELS = ("low", "medium", "high", "highest")


@dataclass
class Environment:
    """What rules may refer to. The runtime builds it from installed definitions; `safeflow
    check` from a pack plus the installed ones; tests from plain dicts."""

    form_schema: Callable[[str], Schema | None]
    form_keys: Callable[[], Sequence[str]] = lambda: ()
    flow_exists: Callable[[str], bool] | None = None
    template_exists: Callable[[str], bool] | None = None
    channels: Sequence[str] = KNOWN_CHANNELS

    def resolve_form(self, key: str) -> Schema | None:
        if key == READINGS_FORM:
            return Schema.of(READING_FIELDS, name=READINGS_FORM)
        return self.form_schema(key)


@dataclass
class CompiledAction:
    action: m.Action
    target: CompiledExpr | None = None
    values: dict[str, CompiledExpr] = field(default_factory=dict)
    to: list[tuple[m.Recipient, CompiledExpr | None]] = field(default_factory=list)
    cc: list[tuple[m.Recipient, CompiledExpr | None]] = field(default_factory=list)


@dataclass
class CompiledRule:
    rule: m.Rule
    ruleset: str
    version: int
    schema: Schema
    condition: CompiledExpr | None
    foreach_where: CompiledExpr | None
    dedupe: list[CompiledExpr]
    actions: list[CompiledAction]
    else_actions: list[CompiledAction]

    @property
    def name(self) -> str:
        return self.rule.name


def _suggest(name: str, choices: Sequence[str]) -> dict[str, str]:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if not close:
        return {"en": "", "zh-CN": ""}
    return {"en": f"; did you mean '{close[0]}'?", "zh-CN": f"，是否想写 “{close[0]}”？"}


class _Compiler:
    def __init__(self, env: Environment, file: str | None) -> None:
        self.env = env
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, code: str, where: m.Where | m.ExprText | None, *, severity: str = "error",
                **params: Any) -> None:
        self.problems.append(Problem(code, params, file=self.file, line=where.line if where else None,
                                     column=where.column if where else None, severity=severity))  # type: ignore[arg-type]

    def form(self, key: str, where: m.Where | None) -> Schema | None:
        schema = self.env.resolve_form(key)
        if schema is None:
            self.problem("rules.unknown_form", where, name=key, hint=_suggest(key, list(self.env.form_keys())))
        return schema

    def expr(self, text: m.ExprText | None, schema: Schema, *, boolean: bool = False) -> CompiledExpr | None:
        if text is None:
            return None
        from engine.expr import types

        expected = types.BOOLEAN if boolean else None
        found = check(text.text, schema, expected=expected, resolve_form=self.env.resolve_form)
        if found:
            for p in found:
                self.problems.append(self._shift(p, text))
            return None
        return compile_expr(text.text, schema, expected=expected, resolve_form=self.env.resolve_form)

    def _shift(self, p: Problem, at: m.ExprText) -> Problem:
        line = (p.line or 1) + at.line - 1
        column = ((p.column or 1) + at.column - 1) if (p.line or 1) == 1 else p.column
        params = dict(p.params)
        if p.code == "expr.unknown_form" and "name" in params:
            params["hint"] = _suggest(str(params["name"]), list(self.env.form_keys()))
        return Problem(p.code, params, file=self.file, path=p.path, line=line, column=column, severity=p.severity,
                       text=p.text)

    # --- scopes -------------------------------------------------------------------------------
    def scope(self, rule: m.Rule) -> Schema:
        trigger = rule.trigger
        variables: dict[str, Any] = {}
        base: Schema
        if isinstance(trigger, m.RecordTrigger):
            found = self.form(trigger.form, trigger.where)
            base = found or OPEN
            for name in trigger.fields:
                if found is not None and found.lookup(name) is None:
                    self.problem("rules.unknown_field", trigger.where, name=name, form=trigger.form,
                                 hint=_suggest(name, list(found.fields)))
        elif isinstance(trigger, m.ReadingTrigger):
            base = Schema.of(READING_FIELDS, name="reading")
        elif isinstance(trigger, m.ScheduleTrigger):
            for code, params in check_schedule(trigger):
                self.problem(code, trigger.where, **params)
            base = Schema(fields={}, name="schedule")
        else:
            if isinstance(trigger, m.FlowTrigger) and trigger.flow and self.env.flow_exists is not None \
                    and not self.env.flow_exists(trigger.flow):
                self.problem("rules.unknown_flow", trigger.where, name=trigger.flow)
            base = OPEN
        alias = getattr(trigger, "alias", None)
        if alias:
            variables[alias] = base if not base.open else "any"
        if rule.foreach is not None:
            row = self.form(rule.foreach.form, rule.foreach.at) or OPEN
            variables[rule.foreach.alias] = row if not row.open else "any"
            base = row
        if not variables:
            return base
        return Schema(base.fields, {**base.variables}, base.name, base.open, base.version).with_variables(**variables)

    # --- actions ------------------------------------------------------------------------------
    def action(self, action: m.Action, schema: Schema) -> CompiledAction:
        out = CompiledAction(action)
        out.to = [(r, self.recipient(r, schema)) for r in action.to]
        out.cc = [(r, self.recipient(r, schema)) for r in action.cc]
        for channel in action.delivery.channels:
            if channel not in self.env.channels:
                self.problem("rules.unknown_channel", action.where, name=channel,
                             hint=_suggest(channel, list(self.env.channels)))
        template = action.delivery.template
        if template and self.env.template_exists is not None and not self.env.template_exists(template):
            # A warning: templates may be installed after the rules; until then the key is the subject.
            self.problem("rules.unknown_template", action.where, name=template, severity="warning")
        target_schema: Schema | None = None
        if action.kind == "create_record" and action.form:
            target_schema = self.form(action.form, action.where)
        if action.kind == "update_record" and action.target is not None:
            out.target = self.expr(action.target, schema)
            if action.target.text.strip() in ("record", getattr_alias(schema)):
                target_schema = schema
        if action.kind == "start_flow":
            out.target = self.expr(action.target, schema)
            if self.env.flow_exists is not None and action.name and not self.env.flow_exists(action.name):
                self.problem("rules.unknown_flow", action.where, name=action.name)
        if action.kind == "raise_alert" and action.level not in ALERT_LEVELS:
            self.problem("rules.bad_level", action.where, level=action.level, levels=", ".join(ALERT_LEVELS))
        for assignment in action.assignments:
            if target_schema is not None and not target_schema.open and target_schema.lookup(assignment.field) is None:
                self.problem("rules.unknown_field", assignment.where, name=assignment.field,
                             form=target_schema.name or "", hint=_suggest(assignment.field, list(target_schema.fields)))
            compiled = self.expr(assignment.value, schema)
            if compiled is not None:
                out.values[assignment.field] = compiled
        return out

    def recipient(self, recipient: m.Recipient, schema: Schema) -> CompiledExpr | None:
        if isinstance(recipient, m.RoleRecipient):
            return self.expr(recipient.department, schema)
        if isinstance(recipient, m.ManagerRecipient):
            return self.expr(recipient.of, schema)
        return self.expr(recipient.value, schema)

    def rule(self, rule: m.Rule, ruleset: str, version: int) -> CompiledRule:
        schema = self.scope(rule)
        return CompiledRule(
            rule=rule, ruleset=ruleset, version=version, schema=schema,
            condition=self.expr(rule.condition, schema, boolean=True),
            foreach_where=self.expr(rule.foreach.where, schema, boolean=True) if rule.foreach else None,
            dedupe=[c for c in (self.expr(k, schema) for k in (rule.dedupe.keys if rule.dedupe else ())) if c],
            actions=[self.action(a, schema) for a in rule.actions],
            else_actions=[self.action(a, schema) for a in rule.else_actions],
        )


def getattr_alias(schema: Schema) -> str:
    return next(iter(schema.variables), "record")


def compile_rules(rules: Sequence[m.Rule], env: Environment, *, ruleset: str = "", version: int = 0,
                  file: str | None = None) -> tuple[list[CompiledRule], list[Problem]]:
    compiler = _Compiler(env, file)
    seen: dict[str, int] = {}
    out = []
    for rule in rules:
        if rule.name in seen:
            compiler.problem("rules.duplicate", m.Where(rule.line, 1), name=rule.name, first=seen[rule.name])
        seen.setdefault(rule.name, rule.line)
        out.append(compiler.rule(rule, ruleset, version))
    return out, compiler.problems


i18n.register_messages({
    "rules.unknown_form": {"zh-CN": "未知表单 “{name}”{hint}", "en": "Unknown form '{name}'{hint}"},
    "rules.unknown_field": {"zh-CN": "表单 {form} 没有字段 “{name}”{hint}",
                            "en": "Form {form} has no field '{name}'{hint}"},
    "rules.unknown_flow": {"zh-CN": "未知流程 “{name}”", "en": "Unknown flow '{name}'"},
    "rules.unknown_channel": {"zh-CN": "未知通知渠道 “{name}”{hint}"
                                       "（可用：inapp、email、sms、webhook、dingtalk、wecom）",
                              "en": "Unknown channel '{name}'{hint} (use inapp, email, sms, webhook, dingtalk, wecom)"},
    "rules.unknown_template": {"zh-CN": "未知通知模板 “{name}”", "en": "Unknown notification template '{name}'"},
    "rules.bad_level": {"zh-CN": "告警级别 “{level}” 无效，可用：{levels}",
                        "en": "Alert level '{level}' is not one of: {levels}"},
    "rules.duplicate": {"zh-CN": "规则 “{name}” 重名（第 {first} 行已定义）",
                        "en": "Rule '{name}' is defined twice (first on line {first})"},
})
