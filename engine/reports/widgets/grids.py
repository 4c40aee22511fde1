"""Grids of numbers: the heat map (e.g. area × week), the calendar heat map (one cell per day,
weeks across, weekdays down), the table and the pivot table."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field

from engine import i18n
from engine.errors import Problem
from engine.forms.fieldtypes.base import Key
from engine.reports.result import DatasetResult, ResultColumn
from engine.reports.widgets.base import RenderContext, WidgetBase, measure_title, register, series_of

# Light for few, dark for many (Plotly's named "YlOrRd" and "Greens" run the other way).
HEAT = [[0.0, "#ffffb2"], [0.25, "#fecc5c"], [0.5, "#fd8d3c"], [0.75, "#f03b20"], [1.0, "#bd0026"]]
GREENS = [[0.0, "#edf8e9"], [0.5, "#74c476"], [1.0, "#006d2c"]]
ColorScale = str | list[tuple[float, str]]
_ADDITIVE = ("count", "sum")


@register
class HeatMap(WidgetBase):
    """A measure over two dimensions, as coloured cells."""

    type: Literal["heatmap"]
    x: Key = Field(description="Dimension across")
    y: Key = Field(description="Dimension down")
    value: Key = Field(description="The measure")
    colorscale: ColorScale = Field(default_factory=lambda: [tuple(x) for x in HEAT],
                                   description="A Plotly colour scale: a name or [[0, colour], …, [1, colour]]")

    def references(self) -> list[tuple[str, str, str]]:
        return [("x", self.x, "dimension"), ("y", self.y, "dimension"), ("value", self.value, "measure")]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        xs, ys = series_of(result, self.x), series_of(result, self.y)
        cells = {(r[self.x], r[self.y]): r[self.value] for r in result.records()}
        x_col, y_col = result.column(self.x), result.column(self.y)
        trace = {"type": "heatmap", "colorscale": self.colorscale,
                 "x": [x_col.value_label(v, ctx.locale) for v in xs],
                 "y": [y_col.value_label(v, ctx.locale) for v in ys],
                 "z": [[cells.get((x, y)) for x in xs] for y in ys],
                 "customdata": [[[x, y] for x in xs] for y in ys],
                 "colorbar": {"title": {"text": measure_title(result, self.value, ctx.locale)}}}
        layout = self.base_layout(ctx, xaxis={"type": "category"}, yaxis={"type": "category"})
        return {"data": [trace], "layout": layout}


@register
class CalendarHeatMap(WidgetBase):
    """A measure per day laid out like a calendar: weeks across, Monday to Sunday down."""

    type: Literal["calendar"]
    date: Key = Field(description="A dimension bucketed by day")
    value: Key = Field(description="The measure")
    colorscale: ColorScale = Field(default_factory=lambda: [tuple(x) for x in GREENS],
                                   description="A Plotly colour scale: a name or [[0, colour], …, [1, colour]]")

    def references(self) -> list[tuple[str, str, str]]:
        return [("date", self.date, "dimension"), ("value", self.value, "measure")]

    def check(self) -> list[Problem]:
        problems = super().check()
        if self.dataset is not None:
            dim = next((d for d in self.dataset.dimensions if d.name == self.date), None)
            if dim is not None and dim.bucket != "day":
                problems.append(Problem("reports.calendar_needs_days", {"key": self.date}, path="date"))
        return problems

    def grid(self, result: DatasetResult) -> tuple[list[date], list[list[Any]], list[list[Any]]]:
        """Week starts, and per weekday row the values and the days (None outside the data)."""
        values = {date.fromisoformat(str(r[self.date])): r[self.value] for r in result.records() if r[self.date]}
        if not values:
            return [], [[] for _ in range(7)], [[] for _ in range(7)]
        first = min(values) - timedelta(days=min(values).weekday())
        weeks = [first + timedelta(days=7 * i) for i in range((max(values) - first).days // 7 + 1)]
        z = [[values.get(w + timedelta(days=d)) for w in weeks] for d in range(7)]
        days = [[(w + timedelta(days=d)).isoformat() for w in weeks] for d in range(7)]
        return weeks, z, days

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        weeks, z, days = self.grid(result)
        names = [i18n.message(f"reports.weekday.{d}", ctx.locale) for d in range(7)]
        trace = {"type": "heatmap", "colorscale": self.colorscale, "x": [w.isoformat() for w in weeks], "y": names,
                 "z": z, "customdata": [[[day] for day in row] for row in days], "xgap": 2, "ygap": 2,
                 "hovertemplate": "%{customdata[0]}: %{z}<extra></extra>"}
        layout = self.base_layout(ctx, xaxis={"type": "category", "showgrid": False},
                                  yaxis={"autorange": "reversed", "showgrid": False})
        return {"data": [trace], "layout": layout}


def _cell(column: ResultColumn, value: Any, locale: str) -> Any:
    if column.role == "dimension":
        return column.value_label(value, locale)
    if value is None:
        return ""
    if column.format == "percent" and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return value


@register
class TableWidget(WidgetBase):
    """The dataset's rows as a table (dimension values by their labels)."""

    type: Literal["table"]
    columns: list[Key] = Field(default_factory=list, description="Columns shown, in order (default: all)")

    def references(self) -> list[tuple[str, str, str]]:
        return [(f"columns[{i}]", key, "any") for i, key in enumerate(self.columns)]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        keys = self.columns or [c.key for c in result.columns]
        cols = [result.column(k) for k in keys]
        rows = result.records()
        trace = {"type": "table",
                 "header": {"values": [c.title(ctx.locale) for c in cols], "fill": {"color": "#eceff1"},
                            "align": "left"},
                 "cells": {"values": [[_cell(c, r[c.key], ctx.locale) for r in rows] for c in cols],
                           "align": "left"},
                 "customdata": [[r.get(d.key) for d in result.dimensions()] for r in rows]}
        return {"data": [trace], "layout": self.base_layout(ctx)}


@register
class PivotTable(WidgetBase):
    """One measure by two dimensions, rows × columns, with totals when the measure adds up
    (count, sum): totals of averages or percentiles would be wrong, so they are left out."""

    type: Literal["pivot"]
    rows: Key = Field(description="Dimension down the side")
    columns: Key = Field(description="Dimension across the top")
    value: Key = Field(description="The measure in the cells")

    def references(self) -> list[tuple[str, str, str]]:
        return [("rows", self.rows, "dimension"), ("columns", self.columns, "dimension"),
                ("value", self.value, "measure")]

    def additive(self) -> bool:
        measure = next((m for m in self.dataset.measures if m.key == self.value), None) if self.dataset else None
        return measure is not None and measure.agg in _ADDITIVE and not measure.compare

    def matrix(self, result: DatasetResult) -> tuple[list[Any], list[Any], list[list[Any]]]:
        down, across = series_of(result, self.rows), series_of(result, self.columns)
        cells = {(r[self.rows], r[self.columns]): r[self.value] for r in result.records()}
        return down, across, [[cells.get((d, a)) for a in across] for d in down]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        down, across, grid = self.matrix(result)
        r_col, c_col = result.column(self.rows), result.column(self.columns)
        header = [r_col.title(ctx.locale)] + [c_col.value_label(a, ctx.locale) for a in across]
        body = [[r_col.value_label(d, ctx.locale) for d in down]]
        body += [[grid[i][j] for i in range(len(down))] for j in range(len(across))]
        if self.additive():
            total = i18n.message("reports.total", ctx.locale)
            header.append(total)
            body.append([sum(v or 0 for v in row) for row in grid])
            body[0].append(total)
            for j in range(len(across)):
                body[j + 1].append(sum(grid[i][j] or 0 for i in range(len(down))))
            body[-1].append(sum(sum(v or 0 for v in row) for row in grid))
        trace = {"type": "table", "header": {"values": header, "fill": {"color": "#eceff1"}},
                 "cells": {"values": [["" if v is None else v for v in col] for col in body]}}
        return {"data": [trace], "layout": self.base_layout(ctx)}


i18n.register_messages(
    {
        "reports.total": {"zh-CN": "合计", "en": "Total"},
        "reports.calendar_needs_days": {"zh-CN": "日历热力图的维度“{key}”需要按天分组（bucket: day）",
                                        "en": "The calendar's dimension “{key}” must be bucketed by day"},
        **{f"reports.weekday.{i}": {"zh-CN": zh, "en": en} for i, (zh, en) in enumerate(
            [("周一", "Mon"), ("周二", "Tue"), ("周三", "Wed"), ("周四", "Thu"), ("周五", "Fri"), ("周六", "Sat"),
             ("周日", "Sun")])},
    }
)
