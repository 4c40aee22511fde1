"""Sub-tables: repeating rows with their own fields (corrective measures, checklist items,
people on a permit). Row fields may carry their own linkage and formulas, where bare names are
the row's fields and `record.x` is a field of the form; the form may aggregate over the rows
(`sum(measures.cost)`).

Imported after every other field type: its rows may hold any registered value type except
another sub-table, layout items and serial numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any, ClassVar, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import (
    DEFAULT_CONTEXT,
    FieldBase,
    FieldError,
    ValueContext,
    field_union,
    nullable,
    register,
)

NOT_IN_ROWS = ("subtable", "section", "divider", "serial")
RowField = field_union(exclude=NOT_IN_ROWS)


@register
class SubtableField(FieldBase):
    type: Literal["subtable"]
    widget: ClassVar[str] = "subtable"
    value_type: ClassVar[str | None] = "list"
    sql_type: ClassVar[str | None] = None
    fields: list[RowField] = Field(min_length=1, description="The fields of each row")  # type: ignore[valid-type]
    min_rows: int | None = Field(default=None, ge=0)
    max_rows: int | None = Field(default=None, ge=1, le=100000)

    @cached_property
    def columns(self) -> dict[str, FieldBase]:
        """The row's value fields by key."""
        return {f.key: f for f in self.fields if f.holds_value}

    def value_fields(self) -> list[FieldBase]:
        return list(self.columns.values())

    @cached_property
    def coercers(self) -> dict[str, Callable[[Any, ValueContext], Any] | None]:
        """Each column's coercer (None for computed columns, which clients do not write)."""
        return {key: None if f.computed else f.coercer() for key, f in self.columns.items()}

    def expr_type_spec(self) -> Any:
        return [{f.key: f.expr_type_spec() for f in self.value_fields()}]

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        # Rows are coerced cell by cell by the record validator, so every bad cell is reported.
        if not isinstance(raw, list | tuple) or not all(isinstance(row, dict) for row in raw):
            raise FieldError("field.type", expected=i18n.both("field.kind.rows"))
        return list(raw)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {f.key: f.json_schema() for f in self.value_fields()},
                "additionalProperties": False,
            },
        }
        if self.min_rows is not None:
            schema["minItems"] = self.min_rows
        if self.max_rows is not None:
            schema["maxItems"] = self.max_rows
        return nullable(schema)

    def display(self, value: Any, locale: str | None = None) -> str:
        return i18n.message("field.rows", locale, count=len(value or []))

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return None  # rows go to their own sheet

    @cached_property
    def _searched(self) -> list[FieldBase]:
        return [f for f in self.value_fields() if f.may_search]

    @cached_property
    def _referring(self) -> list[FieldBase]:
        return [f for f in self.value_fields() if f.may_refer]

    @property
    def may_refer(self) -> bool:
        return bool(self._referring)

    @cached_property
    def checked_columns(self) -> list[FieldBase]:
        """The columns whose type adds checks of its own."""
        return [f for f in self.value_fields() if f.may_check]

    @property
    def may_check(self) -> bool:
        return bool(self.checked_columns)

    @cached_property
    def _searchers(self) -> list[tuple[str, Callable[[Any], str | None]]]:
        return [(f.key, f.searcher()) for f in self._searched]

    def search_text(self, value: Any) -> str | None:
        columns = self._searchers
        parts = [text for row in value or () for key, search in columns
                 if (cell := row.get(key)) is not None and (text := search(cell))]
        return " ".join(parts) or None

    def references(self, value: Any) -> Iterable[tuple[str, int]]:
        columns = self._referring
        for row in value or () if columns else ():
            for field in columns:
                yield from field.references(row.get(field.key))


i18n.register_messages(
    {
        "field.kind.rows": {"zh-CN": "行的列表", "en": "a list of rows"},
        "field.rows": {"zh-CN": "{count} 行", "en": "{count} row(s)"},
    }
)
