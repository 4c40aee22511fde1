"""Checking a dashboard definition: every problem at once, located in the file.

Three layers, all collected: the shape (pydantic, against the published JSON Schema: unknown
properties, wrong types), the dashboard's own consistency (duplicate ids, the grid, widgets that
name columns their dataset does not have), and each dataset against its source's fields — built
into SQL without running it, so a measure that does not fit its field's type, an unknown field
or a filter that does not type-check is reported here, not when a manager opens the dashboard.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.forms.loading import locate
from engine.forms.model import FormDefinition
from engine.jsonsource import JsonSyntaxError, Source, parse, path_text
from engine.reports.dashboard import Dashboard, GlobalFilter
from engine.reports.query import DatasetQuery, QueryContext
from engine.reports.sources import SourceView, records_view, resolve_source
from engine.reports.widgets import widget_types

FormResolver = Callable[[str], FormDefinition | None]


def _shape_problems(error: ValidationError, data: Any) -> list[Problem]:
    problems = []
    for err in error.errors():
        path: list[Any] = []
        current = data
        for part in err["loc"]:
            if isinstance(current, Mapping) and part not in current and part == current.get("type"):
                continue  # the union tag pydantic inserts
            path.append(part)
            current = current.get(part) if isinstance(current, Mapping) else (
                current[part] if isinstance(current, list) and isinstance(part, int) and part < len(current) else None)
        kind, ctx, name = err["type"], err.get("ctx") or {}, str(path[-1]) if path else ""
        if kind == "missing":
            problem = Problem("reports.missing", {"name": name})
        elif kind == "extra_forbidden":
            problem = Problem("reports.unknown_property", {"name": name})
        elif kind == "union_tag_invalid":
            tag = str(ctx.get("tag"))
            close = difflib.get_close_matches(tag, list(widget_types()), n=1)
            problem = Problem("reports.unknown_widget", {"type": tag, "hint": close[0] if close else "—",
                                                         "known": ", ".join(sorted(widget_types()))})
            path = [*path, "type"]
        elif kind == "literal_error":
            problem = Problem("reports.not_allowed", {"value": err.get("input"), "expected": ctx.get("expected", "")})
        else:
            detail = str(ctx["error"]) if kind == "value_error" and "error" in ctx else err["msg"]
            problem = Problem("reports.invalid_value", {"detail": detail})
        problems.append(Problem(problem.code, problem.params, path=path_text(path) or None))
    return problems


def _consistency(dashboard: Dashboard) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, widget in enumerate(dashboard.widgets):
        if widget.id in seen:
            problems.append(Problem("reports.duplicate_widget", {"id": widget.id}, path=f"widgets[{i}].id"))
        seen.add(widget.id)
        if widget.layout.x + widget.layout.w > dashboard.columns:
            problems.append(Problem("reports.layout_overflow", {"columns": dashboard.columns},
                                    path=f"widgets[{i}].layout"))
        for p in widget.check():
            problems.append(Problem(p.code, p.params, path=f"widgets[{i}].{p.path}" if p.path else f"widgets[{i}]"))
        for j, key in enumerate(widget.ignore_filters):
            if dashboard.filter(key) is None:
                problems.append(Problem("reports.unknown_filter", {"key": key},
                                        path=f"widgets[{i}].ignore_filters[{j}]"))
    keys = [f.key for f in dashboard.filters]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            problems.append(Problem("reports.duplicate_filter", {"key": key}, path=f"filters[{i}].key"))
    return problems


def _view(widget_index: int, spec: Any, resolve_form: FormResolver) -> tuple[SourceView | None, list[Problem]]:
    if spec.kind == "records":
        definition = resolve_form(spec.form)
        if definition is None:
            return None, [Problem("reports.unknown_form", {"form": spec.form},
                                  path=f"widgets[{widget_index}].dataset.source.form")]
        return records_view(spec, definition), []
    return resolve_source(None, spec), []


def dataset_problems(dashboard: Dashboard, resolve_form: FormResolver) -> list[Problem]:
    """Each widget's dataset built against its source (not run)."""
    problems: list[Problem] = []
    now = datetime.now(UTC)
    for i, widget in enumerate(dashboard.widgets):
        if widget.dataset is None:
            continue
        view, found = _view(i, widget.dataset.source, resolve_form)
        problems += found
        if view is None:
            continue
        ctx = QueryContext(now=now, tz=ZoneInfo("UTC"), path=f"widgets[{i}].dataset")
        try:
            DatasetQuery(None, widget.dataset, ctx, view=view).build()
        except InvalidInput as error:
            problems += [_expression_located(p) for p in error.problems]
        problems += _filter_warnings(dashboard.filters, widget, i, view)
    return problems


def _expression_located(problem: Problem) -> Problem:
    """A problem inside an expression: keep its place in the expression for `locate`, which
    turns it into the place in the file."""
    if problem.line is None:
        return problem
    params = {**problem.params, "expr_line": problem.line, "expr_column": problem.column}
    return Problem(problem.code, params, path=problem.path, severity=problem.severity, text=problem.text)


def _filter_warnings(filters: list[GlobalFilter], widget: Any, i: int, view: SourceView) -> list[Problem]:
    out = []
    for f in filters:
        if f.key in widget.ignore_filters or f.field is None or f.field in view.columns:
            continue
        out.append(Problem("reports.filter_not_applicable", {"filter": f.key, "field": f.field},
                           path=f"widgets[{i}].dataset.source", severity="warning"))
    return out


def check_dashboard(body: Any, file: str | None = None, *, resolve_form: FormResolver | None = None
                    ) -> tuple[Dashboard | None, list[Problem]]:
    """Every problem of a dashboard definition (errors and warnings), located; the dashboard
    when its shape is valid. Without `resolve_form` datasets are not checked against forms."""
    try:
        source = body if isinstance(body, Source) else (
            parse(body, file) if isinstance(body, str | bytes) else Source(data=body, file=file))
    except JsonSyntaxError as exc:
        return None, [Problem("reports.json_syntax", {"error": exc.message}, file=file, line=exc.line,
                              column=exc.column)]
    if not isinstance(source.data, Mapping):
        return None, locate([Problem("reports.not_object")], source)
    try:
        dashboard = Dashboard.model_validate(source.data)
    except ValidationError as exc:
        return None, locate(_shape_problems(exc, source.data), source)
    problems = _consistency(dashboard)
    if resolve_form is not None:
        problems += dataset_problems(dashboard, resolve_form)
    return dashboard, locate(problems, source)


def load_dashboard(body: Any, file: str | None = None, *, resolve_form: FormResolver | None = None) -> Dashboard:
    """A valid Dashboard, or InvalidInput carrying every located problem."""
    dashboard, problems = check_dashboard(body, file, resolve_form=resolve_form)
    errors = [p for p in problems if p.severity == "error"]
    if errors or dashboard is None:
        raise InvalidInput("reports.invalid", problems=errors)
    return dashboard


i18n.register_messages(
    {
        "reports.json_syntax": {"zh-CN": "JSON 语法错误：{error}", "en": "JSON syntax error: {error}"},
        "reports.not_object": {"zh-CN": "看板定义应为 JSON 对象", "en": "A dashboard definition is a JSON object"},
        "reports.missing": {"zh-CN": "缺少必填属性“{name}”", "en": "Missing required property “{name}”"},
        "reports.unknown_property": {"zh-CN": "未知属性“{name}”", "en": "Unknown property “{name}”"},
        "reports.unknown_widget": {"zh-CN": "未知组件类型“{type}”，是否想写“{hint}”？（可用：{known}）",
                                   "en": "Unknown widget type “{type}”; did you mean “{hint}”? (known: {known})"},
        "reports.not_allowed": {"zh-CN": "“{value}”不可用，可选：{expected}",
                                "en": "“{value}” is not allowed; expected {expected}"},
        "reports.invalid_value": {"zh-CN": "取值无效：{detail}", "en": "Invalid value: {detail}"},
        "reports.duplicate_widget": {"zh-CN": "组件 id“{id}”重复", "en": "The widget id “{id}” is used twice"},
        "reports.duplicate_filter": {"zh-CN": "筛选器“{key}”重复", "en": "The filter “{key}” is defined twice"},
        "reports.layout_overflow": {"zh-CN": "组件超出 {columns} 列的网格",
                                    "en": "The widget runs past the grid's {columns} columns"},
        "reports.unknown_filter": {"zh-CN": "看板没有筛选器“{key}”", "en": "The dashboard has no filter “{key}”"},
        "reports.filter_not_applicable": {
            "zh-CN": "筛选器“{filter}”的字段“{field}”不在该组件的数据源中，对该组件不起作用",
            "en": "The filter “{filter}” is on “{field}”, which this widget's source lacks: it will not apply here"},
    }
)
