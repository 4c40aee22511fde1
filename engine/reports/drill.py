"""Drill-down: the records behind a clicked bar, slice, cell or map area.

The click sends the point's dimension values (what the figure put in `customdata`); the list is
the widget's own rows — same source, filter, range, dashboard filters and viewer scope — with
each dimension pinned to the clicked value (a month bucket to that month, a department level to
the departments under that ancestor) and, when a measure is named, that measure's condition. It
is a page of records in SQL with a keyset cursor, never the dataset re-run in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.reports.query import DatasetQuery, RowFilter
from engine.reports.render import DashboardRun
from engine.reports.widgets import WidgetBase
from engine.store.models import Record

MAX_PAGE = 200


@dataclass
class DrillPage:
    form: str
    records: list[dict[str, Any]]
    next_cursor: int | None
    filter: list[dict[str, Any]]


def point_filters(widget: WidgetBase, point: Mapping[str, Any]) -> list[RowFilter]:
    """The clicked dimension values as row filters (unknown keys are refused)."""
    assert widget.dataset is not None
    dims = {d.name: d for d in widget.dataset.dimensions}
    problems = [Problem("reports.drill_unknown_dimension", {"key": key, "known": ", ".join(dims) or "—"},
                        path=f"point.{key}") for key in point if key not in dims]
    if problems:
        raise InvalidInput("reports.invalid", problems=problems)
    out = []
    for key, value in point.items():
        d = dims[key]
        if d.bucket:
            out.append(RowFilter("bucket", value, field=d.field, bucket=d.bucket))
        elif d.level:
            out.append(RowFilter("ancestor", value, field=d.field, bucket=str(d.level)))
        else:
            out.append(RowFilter("eq", value, field=d.field))
    return out


def drill(run: DashboardRun, widget: WidgetBase, point: Mapping[str, Any], *, measure: str | None = None,
          cursor: int | None = None, limit: int = 50) -> DrillPage:
    if widget.dataset is None or widget.dataset.source.kind != "records" or not widget.drill:
        raise InvalidInput("reports.invalid", problems=[Problem("reports.drill_not_records", path="widget")])
    dataset = widget.dataset
    ctx = run.context(widget, point_filters(widget, point))
    query = DatasetQuery(run.session, dataset, ctx)
    query.listing = True
    conditions = query.where()
    if measure is not None:
        found = next((m for m in dataset.measures if m.key == measure), None)
        if found is None:
            raise InvalidInput("reports.invalid", problems=[Problem(
                "reports.widget_column", {"key": measure, "role": "measure", "known": ", ".join(
                    m.key for m in dataset.measures)}, path="measure")])
        for text, name in ((found.where, "where"), (found.of, "of")):
            if text:
                conditions.append(query.conditions.expression(text, f"measures.{measure}.{name}"))
    if query.problems:
        raise InvalidInput("reports.invalid", problems=query.problems)
    statement = select(Record).where(*conditions)
    if cursor is not None:
        statement = statement.where(Record.id < cursor)
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(run.session.execute(statement.order_by(Record.id.desc()).limit(limit + 1)).scalars())
    hidden = query.hidden
    records = [{"id": r.id, "form_version": r.form_version, "status": r.status, "owner_id": r.owner_id,
                "department_id": r.department_id, "created_at": r.created_at.isoformat(),
                "data": {k: v for k, v in (r.data or {}).items() if k not in hidden}} for r in rows[:limit]]
    return DrillPage(dataset.source.form or "", records, rows[limit - 1].id if len(rows) > limit else None,
                     [_describe(f) for f in ctx.filters])


def _describe(f: RowFilter) -> dict[str, Any]:
    value = f.value.to_dict() if hasattr(f.value, "to_dict") else f.value
    out: dict[str, Any] = {"op": f.op, "value": value}
    if f.field:
        out["field"] = f.field
    if f.bucket:
        out["bucket"] = f.bucket
    return out


i18n.register_messages(
    {
        "reports.drill_unknown_dimension": {"zh-CN": "该组件没有维度“{key}”（可用：{known}）",
                                            "en": "The widget has no dimension “{key}” (known: {known})"},
        "reports.drill_not_records": {"zh-CN": "只有基于表单记录的组件可以下钻到记录列表",
                                      "en": "Only widgets over a form's records drill down to a record list"},
    }
)
