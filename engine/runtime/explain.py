"""Answering "why did (or didn't) this rule fire for this record": the stored firings, and when
there are none, the condition evaluated now without taking any action."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import NotFound
from engine.events import RECORD_UPDATED, Event
from engine.rules import model as m
from engine.runtime import rules as rules_runtime
from engine.runtime.site import Site
from engine.store import firings
from engine.store.models import Record, RuleFiring


def firing_dict(row: RuleFiring) -> dict[str, Any]:
    return {"id": row.id, "rule": row.rule, "ruleset": row.ruleset, "version": row.version, "trigger": row.trigger,
            "subject": row.subject, "record_id": row.record_id, "outcome": row.outcome, "at": row.at.isoformat(),
            "conditions": row.conditions or [], "actions": row.actions or [], "dedupe_key": row.dedupe_key,
            "error": row.error, "event": row.event}


def explain(session: Session, site: Site, rule: str, record_id: int, limit: int = 20) -> dict[str, Any]:
    """Stored firings of `rule` for the record, newest first; plus `now`: the condition evaluated
    against the record as it is now (nothing is done), for rules that never looked at it."""
    book = rules_runtime.load_book(session)
    compiled = book.by_name.get(rule)
    stored = [firing_dict(r) for r in firings.query(session, rule, record_id=record_id, limit=limit)]
    if compiled is None and not stored:
        raise NotFound(what=f"rule {rule}")
    out: dict[str, Any] = {"rule": rule, "record_id": record_id, "firings": stored, "now": None}
    record = session.get(Record, record_id)
    if compiled is not None and record is not None and compiled.condition is not None:
        data = {**(record.data or {}), "id": record.id, "created_at": record.created_at}
        trigger = compiled.rule.trigger
        alias = compiled.rule.foreach.alias if compiled.rule.foreach else getattr(trigger, "alias", None)
        run = rules_runtime.runner(session, site)
        ctx = run.ctx.with_variables(**{alias: data}) if alias else run.ctx
        out["now"] = compiled.condition.explain(data, ctx).to_dict()
        if isinstance(trigger, m.RecordTrigger) and trigger.form != record.form:
            out["note"] = i18n.both("rules.explain.other_form", form=record.form, expected=trigger.form)
    return out


def lines(result: dict[str, Any], locale: str) -> list[str]:
    """A readable trace for the terminal."""
    out = []
    for f in result["firings"]:
        out.append(f"#{f['id']} {f['at']} v{f['version']} {f['trigger']}: {f['outcome']}"
                   + (f" ({f['error']})" if f["error"] else ""))
        for condition in f["conditions"]:
            out.extend("  " + line for line in _trace(condition))
        for action in f["actions"]:
            out.append(f"  → {action['kind']} {', '.join(action['to'])} {action['outcome']}")
    if not result["firings"]:
        out.append(i18n.message("rules.explain.none", locale))
    if result.get("now"):
        out.append(i18n.message("rules.explain.now", locale))
        out.extend("  " + line for line in _trace(result["now"]))
    return out


def _trace(node: dict[str, Any], depth: int = 0) -> list[str]:
    value = "(not evaluated)" if not node.get("evaluated", True) else f"→ {node.get('value')!r}"
    out = [f"{'  ' * depth}{node['text']} {value}"]
    if node.get("detail"):
        out.append(f"{'  ' * (depth + 1)}asked: {node['detail']}")
    for child in node.get("children", []):
        if child.get("kind") != "Literal":
            out.extend(_trace(child, depth + 1))
    return out


i18n.register_messages({
    "rules.explain.none": {"zh-CN": "该规则从未对此记录求值（无触发记录）",
                           "en": "The rule never evaluated this record (no stored firings)"},
    "rules.explain.now": {"zh-CN": "按记录当前数据求值（不执行动作）：",
                          "en": "Evaluated now against the record as it is (no action taken):"},
    "rules.explain.other_form": {"zh-CN": "该记录属于表单 {form}，规则监听的是 {expected}",
                                 "en": "The record is a {form}; the rule listens to {expected}"},
})

__all__ = ["RECORD_UPDATED", "Event", "explain", "firing_dict", "lines"]
