"""Form definitions and helpers the form-engine tests share."""

from __future__ import annotations

import copy
from typing import Any

from engine.forms.publishing import publish
from engine.forms.records import RecordService
from engine.runtime.site import Site
from engine.store.audit import Actor

ADMIN = Actor.system("test")


def label(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh": zh, "en": en or zh}


HAZARD: dict[str, Any] = {
    "key": "hazard",
    "title": label("隐患上报", "Hazard report"),
    "title_field": "title",
    "fields": [
        {"type": "serial", "key": "no", "label": label("编号", "No."), "pattern": "HZ-{yyyy}{mm}-{seq:4}"},
        {"type": "text", "key": "title", "label": label("隐患描述", "Description"), "required": True,
         "max_length": 100, "indexed": True},
        {"type": "radio", "key": "level", "label": label("级别", "Level"), "default": "general",
         "options": [{"value": "general", "label": label("一般", "General")},
                     {"value": "major", "label": label("重大", "Major")}], "indexed": True},
        {"type": "date", "key": "due", "label": label("整改期限", "Due"), "visible_if": 'level == "major"',
         "required": True, "default": "today() + 7d"},
        {"type": "integer", "key": "l", "label": label("可能性", "Likelihood"), "min": 0, "max": 10},
        {"type": "integer", "key": "e", "label": label("暴露", "Exposure"), "min": 0, "max": 10},
        {"type": "integer", "key": "c", "label": label("后果", "Consequence"), "min": 0, "max": 100},
        {"type": "formula", "key": "score", "label": label("风险值", "Risk score"), "expr": "l * e * c",
         "indexed": True, "result": "integer"},
        {"type": "subtable", "key": "measures", "label": label("整改措施", "Measures"), "max_rows": 50, "fields": [
            {"type": "text", "key": "action", "label": label("措施", "Action"), "required": True},
            {"type": "number", "key": "qty", "label": label("数量", "Quantity"), "min": 0},
            {"type": "money", "key": "price", "label": label("单价", "Unit price"), "visible_if": "qty > 0",
             "required_if": "qty > 0"},
            {"type": "formula", "key": "cost", "label": label("费用", "Cost"), "expr": "qty * price"},
        ]},
        {"type": "formula", "key": "total", "label": label("合计", "Total"), "expr": "sum(measures.cost)"},
    ],
}


def hazard(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(HAZARD)
    body.update(changes)
    return body


def with_row_defaults() -> dict[str, Any]:
    """HAZARD whose measures have row defaults (a literal option, an expression) and a row
    formula over a defaulted cell."""
    body = hazard()
    body["fields"][8]["fields"] += [
        {"type": "select", "key": "state", "label": label("状态", "State"), "default": "open",
         "options": ["open", "done"]},
        {"type": "number", "key": "weight", "label": label("权重", "Weight"), "default": "record.l + 1"},
        {"type": "formula", "key": "open_cost", "label": label("未完成费用", "Open cost"),
         "expr": 'if(state == "open", weight * 10, 0)'},
    ]
    return body


def publish_form(site: Site, body: dict[str, Any]) -> int:
    with site.session() as session:
        return publish(session, ADMIN, body["key"], body).version


def records(site: Site, session: Any) -> RecordService:
    return RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)
