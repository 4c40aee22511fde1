"""A dashboard for one viewer: each widget's dataset run with the dashboard's filters, its data
and its Plotly figure.

A widget that fails (the viewer may not read its form, a field is hidden from them) reports its
own error and the other widgets still render: a manager without rights to one register still
gets the rest of the 驾驶舱.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, Problem, SafeFlowError
from engine.reports import periods
from engine.reports.dashboard import Dashboard
from engine.reports.dataset import RangeSpec
from engine.reports.query import QueryContext, RowFilter, Viewer, run_dataset
from engine.reports.result import DatasetResult
from engine.reports.widgets import RenderContext, WidgetBase

_RANGE = TypeAdapter(RangeSpec)


@dataclass
class WidgetOutput:
    id: str
    type: str
    title: str
    data: DatasetResult | None = None
    figure: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    error: SafeFlowError | None = None

    def to_dict(self, locale: str, *, figure: bool = True, data: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.error is not None:
            out["error"] = self.error.to_dict(locale)
            return out
        if data and self.data is not None:
            out["data"] = self.data.to_dict(locale)
        if figure and self.figure is not None:
            out["figure"] = self.figure
        if self.summary is not None:
            out["summary"] = self.summary
        return out


@dataclass
class DashboardRun:
    """Everything a request needs to run widgets: who, when, with which filter values."""

    session: Session
    dashboard: Dashboard
    viewer: Viewer
    now: datetime
    tz: ZoneInfo
    locale: str = "zh-CN"
    values: Mapping[str, Any] = field(default_factory=dict)
    # Floor plans: by default only inline data: URLs (see `file_images` for uploaded ones).
    image: Callable[[Mapping[str, Any]], str | None] = lambda ref: ref.get("url")

    def __post_init__(self) -> None:
        self.values = parse_filter_values(self.dashboard, self.values, self.now.astimezone(self.tz).date())

    def row_filters(self, widget: WidgetBase) -> list[RowFilter]:
        out = []
        for f in self.dashboard.filters:
            value = self.values.get(f.key)
            if f.key in widget.ignore_filters or value is None:
                continue
            if f.type == "date_range":
                out.append(RowFilter("period", value, field=f.field, optional=f.field is not None))
            elif f.type == "department":
                out.append(RowFilter("department", value, field=f.field, optional=f.field is not None))
            else:
                out.append(RowFilter("in", value, field=f.field, optional=True))
        return out

    def context(self, widget: WidgetBase, extra: list[RowFilter] | None = None) -> QueryContext:
        return QueryContext(now=self.now, tz=self.tz, viewer=self.viewer,
                            filters=[*self.row_filters(widget), *(extra or [])], path=f"widgets.{widget.id}.dataset")

    def widget(self, widget: WidgetBase) -> WidgetOutput:
        output = WidgetOutput(widget.id, widget.type, widget.heading(self.locale))
        if widget.dataset is None:
            return output
        try:
            result = run_dataset(self.session, widget.dataset, self.context(widget))
            output.data = result
            output.figure = widget.figure(result, RenderContext(locale=self.locale, image=self.image))
            summary = getattr(widget, "summary", None)
            if callable(summary):
                output.summary = summary(result)
        except SafeFlowError as error:
            output.error = error
        return output

    def all(self) -> list[WidgetOutput]:
        return [self.widget(w) for w in self.dashboard.widgets]


def parse_filter_values(dashboard: Dashboard, raw: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Filter values from a request (or the defaults) as typed values; unknown keys and bad
    values are refused, each at its place."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for key in raw:
        if dashboard.filter(key) is None:
            problems.append(Problem("reports.unknown_filter", {"key": key}, path=f"filters.{key}"))
    for f in dashboard.filters:
        value = raw.get(f.key, f.default)
        if value is None or value == "" or value == []:
            continue
        try:
            if f.type == "date_range":
                out[f.key] = periods.resolve(_RANGE.validate_python(value), today)
            elif f.type == "department":
                out[f.key] = int(value)
            else:
                out[f.key] = list(value) if isinstance(value, list | tuple) else [value]
        except (ValidationError, ValueError, TypeError):
            problems.append(Problem("reports.bad_filter_value", {"key": f.key, "value": str(value)},
                                    path=f"filters.{f.key}"))
    if problems:
        raise InvalidInput("reports.invalid", problems=problems)
    return out


def file_images(session: Session, files_dir: Path) -> Callable[[Mapping[str, Any]], str | None]:
    """Floor-plan look-up: an uploaded image by id, or an inline data: URL, as a data: URL."""
    from engine.forms.files import CONTENT_TYPES, file_rows, kind_of, open_blob

    def load(ref: Mapping[str, Any]) -> str | None:
        if ref.get("url"):
            return str(ref["url"])
        row = file_rows(session, [int(ref["file"])]).get(int(ref["file"]))
        if row is None:
            return None
        kind = kind_of(row)
        if kind not in ("png", "jpeg", "webp", "gif"):
            return None
        data = base64.b64encode(open_blob(files_dir, row).read_bytes()).decode()
        return f"data:{CONTENT_TYPES[kind]};base64,{data}"

    return load


i18n.register_messages({"reports.bad_filter_value": {"zh-CN": "筛选器“{key}”的值“{value}”无效",
                                                     "en": "“{value}” is not a valid value for the filter “{key}”"}})
