"""Single-number widgets: the KPI card (value, change against the previous period, target,
traffic light) and the gauge.

The traffic light is data, not styling: `status` ("green" | "yellow" | "red") is part of the
widget's summary, so a weekly e-mail or a wallboard can use it without reading colours.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import Key
from engine.reports.result import DatasetResult
from engine.reports.widgets.base import GREEN, RED, YELLOW, RenderContext, WidgetBase, register

COLORS = {"green": GREEN, "yellow": YELLOW, "red": RED}


class _Single(WidgetBase):
    value: Key = Field(description="The measure shown")
    target: float | None = Field(default=None, description="The goal (drawn as a marker; green when met)")
    better: Literal["higher", "lower"] = Field(default="higher", description="Which direction is good")
    green: float | None = Field(default=None, description="Green from this value on (towards `better`)")
    yellow: float | None = Field(default=None, description="Yellow from this value on; red beyond it")

    def references(self) -> list[tuple[str, str, str]]:
        return [("value", self.value, "measure")]

    def row(self, result: DatasetResult) -> dict[str, Any]:
        rows = result.records()
        return rows[0] if rows else {}

    def status(self, value: Any) -> str | None:
        if not isinstance(value, int | float):
            return None
        green = self.green if self.green is not None else self.target
        if green is None:
            return None
        good = (lambda limit: value >= limit) if self.better == "higher" else (lambda limit: value <= limit)
        if good(green):
            return "green"
        if self.yellow is not None and good(self.yellow):
            return "yellow"
        return "red"

    def summary(self, result: DatasetResult) -> dict[str, Any]:
        row = self.row(result)
        value = row.get(self.value)
        return {"value": value, "previous": row.get(f"{self.value}__previous"),
                "change": row.get(f"{self.value}__change"), "target": self.target, "status": self.status(value)}

    def _number(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        column = result.column(self.value)
        number: dict[str, Any] = {}
        if column.format == "percent":
            number["valueformat"] = ".1%"
        elif column.kind == "integer":
            number["valueformat"] = ",d"
        else:
            number["valueformat"] = ",.2f"
        if column.unit and column.format != "percent":
            number["suffix"] = " " + i18n.localized(column.unit, ctx.locale)
        return number


@register
class KpiCard(_Single):
    """A number with its change against the previous period and a traffic light."""

    type: Literal["kpi"]

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        info = self.summary(result)
        number = self._number(result, ctx)
        if info["status"]:
            number["font"] = {"color": COLORS[info["status"]]}
        trace: dict[str, Any] = {"type": "indicator", "mode": "number", "value": info["value"], "number": number,
                                 "domain": {"x": [0, 1], "y": [0, 1]}}
        if info["previous"] is not None:
            up, down = (GREEN, RED) if self.better == "higher" else (RED, GREEN)
            trace["mode"] = "number+delta"
            trace["delta"] = {"reference": info["previous"], "relative": True, "valueformat": ".1%",
                              "increasing": {"color": up}, "decreasing": {"color": down}}
        title = self.heading(ctx.locale)
        if self.target is not None:
            title += "<br><span style='font-size:0.8em'>" + i18n.message(
                "reports.target", ctx.locale, target=_fmt(self.target, result.column(self.value).format)) + "</span>"
        trace["title"] = {"text": title}
        layout = self.base_layout(ctx)
        layout.pop("title")
        return {"data": [trace], "layout": layout}


@register
class Gauge(_Single):
    """A dial from `min` to `max` with green/yellow/red bands and the target as a line."""

    type: Literal["gauge"]
    min: float = 0
    max: float | None = Field(default=None, description="End of the dial (default: 1 for percentages)")

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        info = self.summary(result)
        column = result.column(self.value)
        top = self.max
        if top is None:
            marks = (info["value"], self.target, self.green, self.yellow)
            candidates = [v for v in marks if isinstance(v, int | float)]
            top = 1.0 if column.format == "percent" else max([*candidates, 1]) * 1.25
        gauge: dict[str, Any] = {"axis": {"range": [self.min, top]},
                                 "bar": {"color": COLORS.get(info["status"] or "", "#1f77b4")}}
        bands = self.bands(top)
        if bands:
            gauge["steps"] = bands
        if self.target is not None:
            gauge["threshold"] = {"line": {"color": "#333333", "width": 3}, "thickness": 0.8, "value": self.target}
        trace = {"type": "indicator", "mode": "gauge+number", "value": info["value"], "gauge": gauge,
                 "number": self._number(result, ctx), "title": {"text": self.heading(ctx.locale)},
                 "domain": {"x": [0, 1], "y": [0, 1]}}
        layout = self.base_layout(ctx)
        layout.pop("title")
        return {"data": [trace], "layout": layout}

    def bands(self, top: float) -> list[dict[str, Any]]:
        if self.green is None or self.yellow is None:
            return []
        light = {"green": "#c8e6c9", "yellow": "#fff9c4", "red": "#ffcdd2"}
        if self.better == "higher":
            cuts = [(self.min, self.yellow, "red"), (self.yellow, self.green, "yellow"), (self.green, top, "green")]
        else:
            cuts = [(self.min, self.green, "green"), (self.green, self.yellow, "yellow"), (self.yellow, top, "red")]
        return [{"range": [lo, hi], "color": light[name]} for lo, hi, name in cuts]


def _fmt(value: float, format: str | None) -> str:
    return f"{value:.0%}" if format == "percent" else f"{value:g}"


i18n.register_messages({"reports.target": {"zh-CN": "目标 {target}", "en": "Target {target}"}})
