"""The widget registry: importing this package registers every built-in widget type."""

from engine.reports.widgets import cards, charts, floor_map, grids  # noqa: F401  (registration)
from engine.reports.widgets.base import Layout, RenderContext, WidgetBase, register, widget_types, widget_union

__all__ = ["Layout", "RenderContext", "WidgetBase", "register", "widget_types", "widget_union"]
