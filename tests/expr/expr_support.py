"""Shared test data: a fixed clock (2026-03-16 10:00 in Asia/Shanghai) and a hazard-like schema."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from engine.expr import EvalContext, MemoryLookupSource, Schema

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)

HAZARD = Schema.of(
    {
        "title": "text",
        "level": "text",
        "status": "text",
        "reported_at": "datetime",
        "category": "text",
        "score": "number",
        "count": "integer",
        "L": "number",
        "E": "number",
        "C": "number",
        "due": "date",
        "created_at": "datetime",
        "closed": "boolean",
        "tags": "list[text]",
        "area": {"name": "text", "frequency": "text"},
        "measures": [{"action": "text", "cost": "number", "done": "boolean", "due": "date"}],
    },
    name="hazard",
)

LOOKUPS = MemoryLookupSource(
    {"hazard_level": {"major": {"label": "重大隐患"}, "general": {"label": "一般隐患"}}}
)


def fixed_context(**kw: object) -> EvalContext:
    return EvalContext(now=NOW, lookup=LOOKUPS, **kw)  # type: ignore[arg-type]
