"""The dashboard format: a grid of widgets, global filters applied to every widget, auto-refresh.

A pydantic model, so docs/schemas/dashboard.schema.json (what `safeflow check` and the dashboard
designer validate against) is generated from the classes that load dashboards.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.forms.fieldtypes.base import Key, Label
from engine.reports.dataset import FieldPath, RangeSpec
from engine.reports.widgets import WidgetBase, widget_union

AnyWidget = widget_union()


class GlobalFilter(BaseModel):
    """A filter shown above the dashboard and applied to every widget whose source has its
    field: `date_range` (the dataset's date, or `field`), `department` (the department column,
    or a department `field`, with everything below the chosen department), `select` (one or
    more values of `field`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    key: Key
    type: Literal["date_range", "department", "select"]
    field: FieldPath | None = Field(default=None, description="The field filtered (select: required)")
    label: Label | None = None
    default: Any = Field(default=None, description="date_range: a range such as \"this_year\"; select: value(s)")
    form: Key | None = Field(default=None, description="select: the form whose option labels are offered")

    @model_validator(mode="after")
    def _field_for_select(self) -> GlobalFilter:
        if self.type == "select" and not self.field:
            raise ValueError("a select filter names its field")
        if self.type == "date_range" and self.default is not None:
            from pydantic import TypeAdapter

            TypeAdapter(RangeSpec).validate_python(self.default)
        return self


class Dashboard(BaseModel):
    """One version of a dashboard."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, serialize_by_alias=True, ignored_types=(cached_property,),
        json_schema_extra={"$id": "https://safeflow.dev/schemas/dashboard.schema.json"})

    schema_ref: str | None = Field(default=None, alias="$schema", description="Path or URL of this JSON Schema")
    key: Key = Field(description="The dashboard's stable key (API path /api/v1/dashboards/{key})")
    version: int | None = Field(default=None, ge=1, description="Informative; the store numbers versions")
    title: Label
    description: Label | None = None
    columns: int = Field(default=12, ge=1, le=24, description="Width of the grid in columns")
    refresh_seconds: int | None = Field(default=None, ge=10, description="Reload the data this often")
    filters: list[GlobalFilter] = Field(default_factory=list)
    widgets: list[AnyWidget] = Field(min_length=1)  # type: ignore[valid-type]

    @cached_property
    def _by_id(self) -> dict[str, WidgetBase]:
        return {w.id: w for w in self.widgets}

    def widget(self, widget_id: str) -> WidgetBase | None:
        return self._by_id.get(widget_id)

    def filter(self, key: str) -> GlobalFilter | None:
        return next((f for f in self.filters if f.key == key), None)

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True, by_alias=True)


def dashboard_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the dashboard definition format."""
    schema = Dashboard.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
