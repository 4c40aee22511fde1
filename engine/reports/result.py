"""What a dataset query returns: typed columns and rows, ready for widgets, the API and xlsx.

Dimension columns carry the labels of their values (an option's label, a department's or a
person's name) so a chart shows 重大 rather than `major`; the raw value stays in the row for
drill-down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine import i18n


@dataclass
class ResultColumn:
    key: str
    role: str  # dimension | measure
    kind: str  # text | number | integer | boolean | date | datetime
    label: Mapping[str, str] | None = None
    # Dimension values -> their display labels (per locale), when they have any.
    labels: dict[Any, Mapping[str, str] | str] = field(default_factory=dict)
    colors: Mapping[str, str] = field(default_factory=dict)
    format: str | None = None
    unit: Mapping[str, str] | None = None
    bucket: str | None = None
    source_field: str | None = None

    def title(self, locale: str | None) -> str:
        return i18n.localized(self.label, locale) or self.key

    def value_label(self, value: Any, locale: str | None) -> str:
        if value is None:
            return i18n.message("reports.empty_value", locale)
        found = self.labels.get(value if not isinstance(value, bool) else str(value).lower())
        if found is None:
            return str(value)
        return found if isinstance(found, str) else (i18n.localized(found, locale) or str(value))

    def to_dict(self, locale: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "role": self.role, "type": self.kind, "label": self.title(locale)}
        if self.labels:
            out["labels"] = {str(k): self.value_label(k, locale) for k in self.labels}
        for name in ("format", "bucket"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.unit:
            out["unit"] = i18n.localized(self.unit, locale)
        if self.source_field:
            out["field"] = self.source_field
        return out


@dataclass
class DatasetResult:
    columns: list[ResultColumn]
    rows: list[list[Any]]
    period: dict[str, str] | None = None
    sql: str | None = None
    # "records", or "rollup" when a pre-aggregated rollup answered (engine.reports.rollups).
    served_by: str = "records"

    def column(self, key: str) -> ResultColumn:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def index(self, key: str) -> int:
        for i, col in enumerate(self.columns):
            if col.key == key:
                return i
        raise KeyError(key)

    def values(self, key: str) -> list[Any]:
        i = self.index(key)
        return [row[i] for row in self.rows]

    def labels(self, key: str, locale: str | None) -> list[str]:
        col = self.column(key)
        return [col.value_label(v, locale) for v in self.values(key)]

    def dimensions(self) -> list[ResultColumn]:
        return [c for c in self.columns if c.role == "dimension"]

    def measures(self) -> list[ResultColumn]:
        return [c for c in self.columns if c.role == "measure"]

    def records(self) -> list[dict[str, Any]]:
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    def to_dict(self, locale: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"columns": [c.to_dict(locale) for c in self.columns],
                               "rows": [[json_value(v) for v in row] for row in self.rows]}
        if self.period:
            out["period"] = self.period
        return out


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def plain_number(value: Any) -> Any:
    """Decimals (PostgreSQL's numeric) as floats; whole floats of counts stay as they are."""
    return float(value) if isinstance(value, Decimal) else value


i18n.register_messages({"reports.empty_value": {"zh-CN": "（空）", "en": "(empty)"}})
