"""The plant-floor map (风险热力图): areas drawn as polygons over an uploaded floor-plan image,
each filled with the colour its measure falls into (open hazards, risk level …).

Polygons are in the image's pixel coordinates (origin top-left, as a designer picks them on the
picture); the figure flips them onto Plotly's axes, whose origin is bottom-left. The image is
embedded as a data: URL so the map renders the same offline in the browser and in kaleido.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine import i18n
from engine.errors import Problem
from engine.forms.fieldtypes.base import Key, Label
from engine.reports.result import DatasetResult
from engine.reports.widgets.base import GREEN, RED, YELLOW, RenderContext, WidgetBase, register

EMPTY = "#9e9e9e"
_ZERO_WHEN_MISSING = ("count", "count_distinct", "sum")


class ImageRef(BaseModel):
    """The floor plan: an uploaded file (its id) or an inline data: URL. Never a remote URL."""

    model_config = ConfigDict(extra="forbid")
    file: int | None = Field(default=None, ge=1, description="Id of an uploaded image")
    url: str | None = Field(default=None, pattern=r"^data:image/(png|jpeg|webp|gif);base64,",
                            description="An inline data: URL")

    @model_validator(mode="after")
    def _one(self) -> ImageRef:
        if (self.file is None) == (self.url is None):
            raise ValueError("give the image as either file or url")
        return self


class MapArea(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(description="The dimension value this area stands for (an area option, a department id…)")
    polygon: list[tuple[float, float]] = Field(min_length=3, description="[[x, y], …] in image pixels")
    label: Label | None = None


class ColorStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max: float | None = Field(default=None, description="Values up to this (inclusive); omit on the last step")
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    label: Label | None = None


DEFAULT_STEPS = [ColorStep(max=0, color=GREEN), ColorStep(max=3, color=YELLOW), ColorStep(color=RED)]


@register
class FloorMap(WidgetBase):
    type: Literal["floor_map"]
    image: ImageRef
    width: int = Field(ge=1, description="Width of the image in pixels")
    height: int = Field(ge=1, description="Height of the image in pixels")
    area: Key = Field(description="The dimension whose values the areas stand for")
    value: Key = Field(description="The measure that colours the areas")
    areas: list[MapArea] = Field(min_length=1)
    colors: list[ColorStep] = Field(default_factory=lambda: list(DEFAULT_STEPS),
                                    description="Colour bands, lowest first; the last one has no max")
    opacity: float = Field(default=0.55, gt=0, le=1)

    def references(self) -> list[tuple[str, str, str]]:
        return [("area", self.area, "dimension"), ("value", self.value, "measure")]

    def check(self) -> list[Problem]:
        problems = super().check()
        for i, area in enumerate(self.areas):
            for j, (x, y) in enumerate(area.polygon):
                if not (0 <= x <= self.width and 0 <= y <= self.height):
                    problems.append(Problem("reports.map_point_outside", {"x": x, "y": y, "width": self.width,
                                                                          "height": self.height},
                                            path=f"areas[{i}].polygon[{j}]"))
        maxima = [s.max for s in self.colors[:-1]]
        if any(m is None for m in maxima) or maxima != sorted(m for m in maxima if m is not None):
            problems.append(Problem("reports.map_steps_order", path="colors"))
        return problems

    def color_of(self, value: Any) -> str:
        if not isinstance(value, int | float):
            return EMPTY
        for step in self.colors:
            if step.max is None or value <= step.max:
                return step.color
        return self.colors[-1].color

    def values(self, result: DatasetResult) -> dict[str, Any]:
        """Each area's measure (a count of a group with no rows is 0, an average is empty)."""
        found = {str(r[self.area]): r[self.value] for r in result.records()}
        measure = next((m for m in self.dataset.measures if m.key == self.value), None) if self.dataset else None
        zero = 0 if measure is not None and measure.agg in _ZERO_WHEN_MISSING else None
        return {a.value: found.get(a.value, zero) for a in self.areas}

    def summary(self, result: DatasetResult) -> dict[str, Any]:
        values = self.values(result)
        return {"areas": [{"value": a.value, "measure": values[a.value], "color": self.color_of(values[a.value])}
                          for a in self.areas]}

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        values = self.values(result)
        column = result.column(self.area)
        traces, notes = [], []
        for a in self.areas:
            xs = [p[0] for p in a.polygon] + [a.polygon[0][0]]
            ys = [self.height - p[1] for p in a.polygon] + [self.height - a.polygon[0][1]]
            name = i18n.localized(a.label, ctx.locale) if a.label else column.value_label(a.value, ctx.locale)
            value = values[a.value]
            color = self.color_of(value)
            shown = "—" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself",
                           "fillcolor": _with_alpha(color, self.opacity), "line": {"color": color, "width": 2},
                           "name": name, "text": f"{name}: {shown}", "hoverinfo": "text", "hoveron": "fills",
                           "customdata": [[a.value]] * len(xs), "showlegend": False})
            cx, cy = sum(xs[:-1]) / len(a.polygon), sum(ys[:-1]) / len(a.polygon)
            notes.append({"x": cx, "y": cy, "text": f"<b>{name}</b><br>{shown}", "showarrow": False,
                          "font": {"color": "#212121"}})
        layout = self.base_layout(
            ctx,
            xaxis={"range": [0, self.width], "visible": False, "showgrid": False},
            yaxis={"range": [0, self.height], "visible": False, "showgrid": False, "scaleanchor": "x"},
            annotations=notes, plot_bgcolor="#ffffff",
        )
        source = ctx.image(self.image.model_dump(exclude_none=True))
        if source:
            layout["images"] = [{"source": source, "xref": "x", "yref": "y", "x": 0, "y": self.height,
                                 "sizex": self.width, "sizey": self.height, "sizing": "stretch", "layer": "below"}]
        return {"data": traces, "layout": layout}


def _with_alpha(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


i18n.register_messages(
    {
        "reports.map_point_outside": {
            "zh-CN": "点 ({x}, {y}) 在平面图 {width}×{height} 之外",
            "en": "The point ({x}, {y}) lies outside the {width}×{height} floor plan"},
        "reports.map_steps_order": {"zh-CN": "颜色分段应按 max 从小到大排列，最后一段不写 max",
                                    "en": "Colour steps go from the lowest max up; only the last one has no max"},
    }
)
