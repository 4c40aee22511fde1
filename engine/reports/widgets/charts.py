"""Charts over a category or time axis: line, area, bar (grouped, stacked, horizontal), pie and
donut, radar, scatter, funnel and Pareto.

They share one shape — `x` a dimension, `y` measures, optional `series` a second dimension that
splits the traces — so a designer can switch a bar to a line without touching the dataset.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import Key
from engine.reports.result import DatasetResult
from engine.reports.widgets.base import (
    RED,
    RenderContext,
    WidgetBase,
    axis_format,
    color_for,
    customdata,
    measure_title,
    register,
    series_of,
)


class _Axes(WidgetBase):
    x: Key = Field(description="The dimension along the axis")
    y: list[Key] = Field(min_length=1, description="The measures drawn")
    series: Key | None = Field(default=None, description="A second dimension: one trace per value")

    def references(self) -> list[tuple[str, str, str]]:
        refs = [("x", self.x, "dimension")] + [(f"y[{i}]", key, "measure") for i, key in enumerate(self.y)]
        if self.series:
            refs.append(("series", self.series, "dimension"))
        return refs

    def dims(self) -> list[str]:
        return [self.x] + ([self.series] if self.series else [])

    def traces(self, result: DatasetResult, ctx: RenderContext, trace: dict[str, Any],
               horizontal: bool = False) -> list[dict[str, Any]]:
        out = []
        x_col = result.column(self.x)
        s_col = result.column(self.series) if self.series else None
        for si, value in enumerate(series_of(result, self.series)):
            rows = [r for r in result.records() if self.series is None or r[self.series] == value]
            for yi, key in enumerate(self.y):
                name = measure_title(result, key, ctx.locale)
                if s_col is not None:
                    label = s_col.value_label(value, ctx.locale)
                    name = label if len(self.y) == 1 else f"{label} · {name}"
                xs = [x_col.value_label(r[self.x], ctx.locale) for r in rows]
                ys = [r[key] for r in rows]
                one = {**trace, "name": name, "x": ys if horizontal else xs, "y": xs if horizontal else ys,
                       "customdata": customdata(rows, self.dims())}
                color = color_for(s_col, value, si * len(self.y) + yi) if s_col else color_for(None, None, yi)
                one.setdefault("marker", {})["color"] = color
                if trace.get("type") == "scatter":
                    one["line"] = {"color": color}
                out.append(one)
        return out

    def axis_layout(self, result: DatasetResult, ctx: RenderContext, horizontal: bool = False) -> dict[str, Any]:
        value_axis = {"title": {"text": measure_title(result, self.y[0], ctx.locale)},
                      **axis_format(result.column(self.y[0]))}
        category_axis = {"title": {"text": result.column(self.x).title(ctx.locale)}, "type": "category"}
        if horizontal:
            return {"xaxis": value_axis, "yaxis": {**category_axis, "autorange": "reversed"}}
        return {"xaxis": category_axis, "yaxis": value_axis}


@register
class LineChart(_Axes):
    """Trends: one line per measure (or per value of `series`)."""

    type: Literal["line"]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        traces = self.traces(result, ctx, {"type": "scatter", "mode": "lines+markers"})
        return {"data": traces, "layout": self.base_layout(ctx, **self.axis_layout(result, ctx))}


@register
class AreaChart(_Axes):
    """Stacked areas: how the parts make up a total over time."""

    type: Literal["area"]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        traces = self.traces(result, ctx, {"type": "scatter", "mode": "lines", "stackgroup": "one"})
        return {"data": traces, "layout": self.base_layout(ctx, **self.axis_layout(result, ctx))}


@register
class BarChart(_Axes):
    """Bars, grouped or stacked, vertical or horizontal."""

    type: Literal["bar"]
    mode: Literal["group", "stack"] = "group"
    orientation: Literal["v", "h"] = "v"

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        horizontal = self.orientation == "h"
        traces = self.traces(result, ctx, {"type": "bar", "orientation": self.orientation}, horizontal)
        layout = self.base_layout(ctx, barmode=self.mode, **self.axis_layout(result, ctx, horizontal))
        return {"data": traces, "layout": layout}


@register
class PieChart(_Axes):
    """Shares of a whole; `hole` > 0 makes it a donut."""

    type: Literal["pie"]
    y: list[Key] = Field(min_length=1, max_length=1, description="The measure (one)")
    hole: float = Field(default=0, ge=0, lt=1, description="0 for a pie, e.g. 0.5 for a donut")

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        rows = result.records()
        col = result.column(self.x)
        trace = {"type": "pie", "labels": [col.value_label(r[self.x], ctx.locale) for r in rows],
                 "values": [r[self.y[0]] for r in rows], "hole": self.hole, "sort": False,
                 "marker": {"colors": [color_for(col, r[self.x], i) for i, r in enumerate(rows)]},
                 "customdata": customdata(rows, [self.x]), "textinfo": "label+percent"}
        return {"data": [trace], "layout": self.base_layout(ctx)}


@register
class RadarChart(_Axes):
    """Several measures (or series) around a circle of categories — e.g. scores by 专业类别."""

    type: Literal["radar"]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        traces = []
        for t in self.traces(result, ctx, {"type": "scatterpolar", "fill": "toself"}):
            theta, r = t.pop("x"), t.pop("y")
            traces.append({**t, "theta": [*theta, theta[0]] if theta else theta, "r": [*r, r[0]] if r else r,
                           "customdata": [*t["customdata"], t["customdata"][0]] if theta else []})
        return {"data": traces, "layout": self.base_layout(ctx, polar={"radialaxis": {"visible": True}})}


@register
class ScatterChart(WidgetBase):
    """One point per group, placed by two measures (e.g. open hazards against average age)."""

    type: Literal["scatter"]
    label: Key = Field(description="The dimension each point stands for")
    x: Key = Field(description="Measure on the horizontal axis")
    y: Key = Field(description="Measure on the vertical axis")
    size: Key | None = Field(default=None, description="Measure setting the marker size")

    def references(self) -> list[tuple[str, str, str]]:
        refs = [("label", self.label, "dimension"), ("x", self.x, "measure"), ("y", self.y, "measure")]
        return refs + ([("size", self.size, "measure")] if self.size else [])

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        rows = result.records()
        col = result.column(self.label)
        marker: dict[str, Any] = {"color": [color_for(col, r[self.label], i) for i, r in enumerate(rows)]}
        if self.size:
            sizes = [r[self.size] or 0 for r in rows]
            biggest = max(sizes, default=0) or 1
            marker["size"] = [8 + 32 * s / biggest for s in sizes]
        trace = {"type": "scatter", "mode": "markers+text", "x": [r[self.x] for r in rows],
                 "y": [r[self.y] for r in rows], "text": [col.value_label(r[self.label], ctx.locale) for r in rows],
                 "textposition": "top center", "marker": marker, "customdata": customdata(rows, [self.label])}
        layout = self.base_layout(ctx, xaxis={"title": {"text": measure_title(result, self.x, ctx.locale)}},
                                  yaxis={"title": {"text": measure_title(result, self.y, ctx.locale)}})
        return {"data": [trace], "layout": layout}


@register
class FunnelChart(WidgetBase):
    """Stages of a process: either measures of one row (`stages`, e.g. reported → assigned →
    rectified → verified) or one measure over a dimension (`x` and `value`)."""

    type: Literal["funnel"]
    stages: list[Key] = Field(default_factory=list, description="Measures, in order, each a stage")
    x: Key | None = Field(default=None, description="Or: the dimension whose values are the stages")
    value: Key | None = Field(default=None, description="…and the measure")

    def references(self) -> list[tuple[str, str, str]]:
        refs = [(f"stages[{i}]", key, "measure") for i, key in enumerate(self.stages)]
        if self.x:
            refs.append(("x", self.x, "dimension"))
        if self.value:
            refs.append(("value", self.value, "measure"))
        return refs

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        if self.stages:
            row = result.records()[0] if result.rows else {}
            names = [measure_title(result, key, ctx.locale) for key in self.stages]
            values = [row.get(key) for key in self.stages]
            extra: dict[str, Any] = {}
        else:
            rows = result.records()
            col = result.column(self.x or "")
            names = [col.value_label(r[self.x or ""], ctx.locale) for r in rows]
            values = [r[self.value or ""] for r in rows]
            extra = {"customdata": customdata(rows, [self.x or ""])}
        trace = {"type": "funnel", "y": names, "x": values, "textinfo": "value+percent initial", **extra}
        return {"data": [trace], "layout": self.base_layout(ctx)}


@register
class ParetoChart(WidgetBase):
    """Bars sorted from the largest, with the cumulative share on a second axis and the 80 %
    line: the few areas or categories that account for most hazards."""

    type: Literal["pareto"]
    x: Key = Field(description="The dimension (category, area …)")
    value: Key = Field(description="The measure (usually a count)")

    def references(self) -> list[tuple[str, str, str]]:
        return [("x", self.x, "dimension"), ("value", self.value, "measure")]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        rows = sorted(result.records(), key=lambda r: -(r[self.value] or 0))
        col = result.column(self.x)
        total = sum(r[self.value] or 0 for r in rows) or 1
        running, cumulative = 0.0, []
        for r in rows:
            running += r[self.value] or 0
            cumulative.append(running / total)
        names = [col.value_label(r[self.x], ctx.locale) for r in rows]
        bars = {"type": "bar", "name": measure_title(result, self.value, ctx.locale), "x": names,
                "y": [r[self.value] for r in rows], "customdata": customdata(rows, [self.x])}
        line = {"type": "scatter", "mode": "lines+markers", "name": i18n.message("reports.cumulative", ctx.locale),
                "x": names, "y": cumulative, "yaxis": "y2", "line": {"color": RED}}
        layout = self.base_layout(
            ctx, xaxis={"type": "category"}, yaxis={"title": {"text": measure_title(result, self.value, ctx.locale)}},
            yaxis2={"overlaying": "y", "side": "right", "range": [0, 1.05], "tickformat": ".0%"},
            shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2", "y0": 0.8, "y1": 0.8,
                     "line": {"dash": "dash", "color": "#888888"}}])
        return {"data": [bars, line], "layout": layout}


i18n.register_messages({"reports.cumulative": {"zh-CN": "累计占比", "en": "Cumulative share"}})
