"""What a widget is: its definition (a pydantic model, so the dashboard JSON Schema is generated
from it), the dataset columns it reads, and how it turns a dataset result into a Plotly figure.

Each widget type is one small class registered with `@register`; the dashboard model builds its
discriminated union from the registry, so adding a chart type touches one file plus its test.
Figures are plain Plotly JSON (`{"data": [...], "layout": {...}}`) — the browser draws them with
the plotly.js served from the plotly package, kaleido draws them for exports. Every point that
stands for a group carries its dimension values in `customdata`, which is what a click sends to
the drill-down endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field

from engine import i18n
from engine.errors import Problem
from engine.forms.fieldtypes.base import Key, Label
from engine.reports.dataset import Dataset
from engine.reports.result import DatasetResult, ResultColumn

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]
GREEN, YELLOW, RED = "#2e7d32", "#f9a825", "#c62828"


class Layout(BaseModel):
    """Place on the dashboard grid (12 columns by default; rows of ~80 px)."""

    model_config = ConfigDict(extra="forbid")
    x: int = Field(default=0, ge=0)
    y: int = Field(default=0, ge=0)
    w: int = Field(default=6, ge=1, le=24)
    h: int = Field(default=4, ge=1, le=24)


@dataclass
class RenderContext:
    """What a figure may need besides its data: the locale, and image look-ups (floor plans)
    that return a data: URL, so a figure renders the same in the browser and in kaleido."""

    locale: str = "zh-CN"
    image: Callable[[Mapping[str, Any]], str | None] = lambda _ref: None
    extra: dict[str, Any] = field(default_factory=dict)


class WidgetBase(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    # Whether clicking a point opens the records behind it.
    drillable: ClassVar[bool] = True
    needs_dataset: ClassVar[bool] = True

    type: str = Field(description="The widget type (see docs/reports.md)")
    id: Key = Field(description="Stable id within the dashboard (API paths, drill-down, exports)")
    title: Label | None = None
    dataset: Dataset | None = None
    layout: Layout = Field(default_factory=Layout)
    ignore_filters: list[Key] = Field(default_factory=list,
                                      description="Dashboard filters that do not apply to this widget")
    drill: bool = Field(default=True, description="Clicking a point lists the records behind it")

    # --- what the widget reads -----------------------------------------------------------------

    def references(self) -> list[tuple[str, str, str]]:
        """(property, column key, expected role) of every dataset column the widget names."""
        return []

    def check(self) -> list[Problem]:
        """Problems of the widget against its own dataset (no database needed)."""
        problems: list[Problem] = []
        if self.dataset is None:
            if self.needs_dataset:
                problems.append(Problem("reports.widget_needs_dataset", {"type": self.type}, path="dataset"))
            return problems
        dims = {d.name for d in self.dataset.dimensions}
        measures = {m.key for m in self.dataset.measures}
        compared = {m.key for m in self.dataset.measures if m.compare}
        for prop, key, role in self.references():
            pool = {"dimension": dims, "measure": measures, "compared": compared, "any": dims | measures}[role]
            if key not in pool:
                problems.append(Problem("reports.widget_column", {
                    "key": key, "role": i18n.both(f"reports.role.{role}"), "known": ", ".join(sorted(pool)) or "—"},
                    path=prop))
        return problems

    # --- rendering ----------------------------------------------------------------------------

    def figure(self, result: DatasetResult, ctx: RenderContext) -> dict[str, Any]:
        raise NotImplementedError

    def heading(self, locale: str) -> str:
        return i18n.localized(self.title, locale) if self.title else self.id

    def base_layout(self, ctx: RenderContext, **extra: Any) -> dict[str, Any]:
        layout: dict[str, Any] = {
            "title": {"text": self.heading(ctx.locale)},
            "margin": {"l": 48, "r": 24, "t": 48, "b": 40},
            "font": {"family": "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif", "size": 12},
            "colorway": PALETTE,
            "autosize": True,
        }
        layout.update(extra)
        return layout


# --- helpers every widget type uses -------------------------------------------------------------


def series_of(result: DatasetResult, key: str | None) -> list[Any]:
    """Distinct values of a dimension in result order."""
    if key is None:
        return [None]
    seen: dict[Any, None] = {}
    for value in result.values(key):
        seen.setdefault(value, None)
    return list(seen)


def color_for(column: ResultColumn | None, value: Any, index: int) -> str:
    if column is not None and value is not None and str(value) in column.colors:
        return column.colors[str(value)]
    return PALETTE[index % len(PALETTE)]


def axis_format(column: ResultColumn) -> dict[str, Any]:
    return {"tickformat": ".0%"} if column.format == "percent" else {}


def measure_title(result: DatasetResult, key: str, locale: str) -> str:
    column = result.column(key)
    title = column.title(locale)
    if column.unit:
        title += f" ({i18n.localized(column.unit, locale)})"
    return title


def points(result: DatasetResult, dims: Sequence[str], where: Callable[[dict[str, Any]], bool] = lambda _r: True
           ) -> list[dict[str, Any]]:
    """The result's rows as dicts, filtered, in order."""
    return [r for r in result.records() if where(r)]


def customdata(rows: Sequence[Mapping[str, Any]], dims: Sequence[str]) -> list[list[Any]]:
    return [[row.get(d) for d in dims] for row in rows]


_REGISTRY: dict[str, type[WidgetBase]] = {}


def register(cls: type[WidgetBase]) -> type[WidgetBase]:
    """Class decorator: make a widget type available under its `type` literal."""
    args = get_args(cls.model_fields["type"].annotation)
    if len(args) != 1 or not isinstance(args[0], str):
        raise TypeError(f"{cls.__name__} needs `type: Literal['its-name']`")
    if args[0] in _REGISTRY and _REGISTRY[args[0]] is not cls:
        raise ValueError(f"widget type {args[0]!r} is registered twice")
    _REGISTRY[args[0]] = cls
    return cls


def widget_types() -> dict[str, type[WidgetBase]]:
    return dict(_REGISTRY)


def widget_union() -> Any:
    from typing import Union

    members = tuple(_REGISTRY.values())
    return Annotated[Union[members], Field(discriminator="type")]  # noqa: UP007 (runtime-built union)


i18n.register_messages(
    {
        "reports.widget_needs_dataset": {"zh-CN": "{type} 组件需要数据集（dataset）",
                                         "en": "A {type} widget needs a dataset"},
        "reports.widget_column": {"zh-CN": "数据集中没有{role}“{key}”（可用：{known}）",
                                  "en": "The dataset has no {role} “{key}” (known: {known})"},
        "reports.role.dimension": {"zh-CN": "维度", "en": "dimension"},
        "reports.role.measure": {"zh-CN": "指标", "en": "measure"},
        "reports.role.compared": {"zh-CN": "带环比的指标", "en": "measure compared with the previous period"},
        "reports.role.any": {"zh-CN": "列", "en": "column"},
    }
)
