"""The dataset format: what a widget asks of the database.

A dataset names a source (a form's records, flow tasks or instances, rule firings, sensor
readings, the audit log), narrows it with a filter in the expression language and a date range,
groups it by dimensions (a field, a date bucket, a department at a tree level) and computes
measures (count, count distinct, sum, avg, min, max, rate, percentile, each optionally compared
with the previous period). `engine.reports.query` compiles it to one SQL query.

These are pydantic models so that docs/schemas/dashboard.schema.json is generated from the same
classes that load definitions.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.forms.fieldtypes.base import Expression, Key, Label

SOURCE_KINDS = ("records", "flow_tasks", "flow_instances", "rule_firings", "sensor_readings", "audit_log")
BUCKETS = ("day", "week", "month", "quarter", "year")
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max", "rate", "percentile")
RELATIVE_RANGES = (
    "today", "yesterday", "this_week", "last_week", "this_month", "last_month", "this_quarter",
    "last_quarter", "this_year", "last_year", "last_7d", "last_30d", "last_90d", "last_12_months",
)  # fmt: skip

FieldPath = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="A field of the source")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class SourceSpec(_Strict):
    """Where the rows come from. `records` needs `form`; the others may narrow by flow, rule or
    metric (omitted: every flow, rule or metric the viewer may read)."""

    kind: Literal["records", "flow_tasks", "flow_instances", "rule_firings", "sensor_readings", "audit_log"] = Field(
        default="records", description="The table the rows come from")
    form: Key | None = Field(default=None, description="records: the form whose records are counted")
    flow: Key | None = Field(default=None, description="flow_tasks / flow_instances: one flow")
    rule: str | None = Field(default=None, description="rule_firings: one rule")
    metric: str | None = Field(default=None, description="sensor_readings: one metric")

    @model_validator(mode="after")
    def _form_for_records(self) -> SourceSpec:
        if self.kind == "records" and not self.form:
            raise ValueError("a records source names its form")
        return self

    def resource(self) -> tuple[str, str]:
        """The (kind, key) a viewer needs `read` on."""
        if self.kind == "records":
            return "form", self.form or "*"
        if self.kind in ("flow_tasks", "flow_instances"):
            return "flow", self.flow or "*"
        if self.kind == "rule_firings":
            return "rule", self.rule or "*"
        if self.kind == "sensor_readings":
            return "system", "sensors"
        return "system", "audit"


class DateRange(_Strict):
    """An explicit range of local dates, `to` included."""

    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self


RangeSpec = Annotated[
    Literal[
        "today", "yesterday", "this_week", "last_week", "this_month", "last_month", "this_quarter",
        "last_quarter", "this_year", "last_year", "last_7d", "last_30d", "last_90d", "last_12_months",
    ] | DateRange,
    Field(description="A relative range (this_month, last_30d, …) or {\"from\", \"to\"} dates"),
]  # fmt: skip


class DurationSpec(_Strict):
    """The time between two date/datetime fields (`to` may be "now": the age of open items),
    e.g. rectification time = closed_at − created_at in days."""

    from_: FieldPath = Field(alias="from", description="Start field")
    to: str = Field(pattern=r"^([a-z][a-z0-9_]{0,62}|now)$", description="End field, or \"now\"")
    unit: Literal["seconds", "minutes", "hours", "days"] = "hours"


class Dimension(_Strict):
    """A grouping: a field's values, a date field by bucket, or a department at a tree level."""

    field: FieldPath
    bucket: Literal["day", "week", "month", "quarter", "year"] | None = Field(
        default=None, description="Date fields: group by day, ISO week (its Monday), month, quarter or year")
    level: int | None = Field(default=None, ge=1, le=12,
                              description="Department fields: roll up to the ancestor at this depth (1 = top)")
    key: Key | None = Field(default=None, description="Name of the result column (default: the field)")
    label: Label | None = None

    @property
    def name(self) -> str:
        if self.key:
            return self.key
        return f"{self.field}_{self.bucket}" if self.bucket else self.field


class Measure(_Strict):
    """One number per group."""

    key: Key = Field(description="Name of the result column")
    agg: Literal["count", "count_distinct", "sum", "avg", "min", "max", "rate", "percentile"]
    field: FieldPath | None = Field(
        default=None, description="The field aggregated (not for count; for rate: count its distinct values)")
    duration: DurationSpec | None = Field(default=None, description="Aggregate a duration instead of a field")
    where: Expression | None = Field(
        default=None, description="Only rows where this is true count (for rate: the numerator)")
    of: Expression | None = Field(default=None, description="rate: the denominator's rows (default: all)")
    p: float | None = Field(default=None, gt=0, lt=1, description="percentile: 0.5 = median, 0.9 = p90")
    scale: float = Field(default=1, gt=0, description="Multiply the result (100 for percent, 1000 per thousand)")
    compare: Literal["previous"] | None = Field(
        default=None,
        description="Also compute the previous period (previous date bucket, or the period before the range)")
    label: Label | None = None
    format: Literal["number", "integer", "percent", "duration"] | None = None
    unit: Label | None = Field(default=None, description="Shown after the value (天, h, 起)")

    @model_validator(mode="after")
    def _arguments(self) -> Measure:
        valued = self.field is not None or self.duration is not None
        if self.field is not None and self.duration is not None:
            raise ValueError("give either field or duration, not both")
        if self.agg == "count" and valued:
            raise ValueError("count counts rows; it takes no field (count_distinct counts a field's values)")
        if self.agg == "rate" and self.duration is not None:
            raise ValueError("a rate counts rows, or distinct values of a field; not durations")
        if self.agg not in ("count", "rate") and not valued:
            raise ValueError(f"{self.agg} needs a field or a duration")
        if self.agg == "count_distinct" and self.duration is not None:
            raise ValueError("count_distinct counts a field's values, not durations")
        if (self.p is None) != (self.agg != "percentile"):
            raise ValueError("p is given for percentile, and only for it")
        if self.of is not None and self.agg != "rate":
            raise ValueError("'of' is the denominator of a rate")
        if self.agg == "rate" and self.where is None:
            raise ValueError("a rate needs 'where' (the rows it is the share of)")
        return self


class SortKey(_Strict):
    by: Key = Field(description="A dimension or measure key")
    desc: bool = False


class Dataset(_Strict):
    source: SourceSpec
    filter: Expression | None = Field(default=None, description="Rows where this expression is true")
    date_field: FieldPath | None = Field(
        default=None, description="The date the range and the dashboard's date filter apply to (default: created_at)")
    range: RangeSpec | None = None
    dimensions: list[Dimension] = Field(default_factory=list, max_length=3)
    measures: list[Measure] = Field(min_length=1, max_length=12)
    sort: list[SortKey] = Field(default_factory=list)
    limit: int | None = Field(default=None, ge=1, le=10000)

    @model_validator(mode="after")
    def _unique_keys(self) -> Dataset:
        names = [d.name for d in self.dimensions] + [m.key for m in self.measures]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"column names are used twice: {', '.join(dupes)}")
        for key in self.sort:
            if key.by not in names:
                raise ValueError(f"sort by '{key.by}', which is not a dimension or measure")
        return self

    def columns(self) -> list[str]:
        return [d.name for d in self.dimensions] + [m.key for m in self.measures]

    def bucketed(self) -> Dimension | None:
        return next((d for d in self.dimensions if d.bucket), None)


def dataset_from(raw: Any) -> Dataset:
    return raw if isinstance(raw, Dataset) else Dataset.model_validate(raw)
