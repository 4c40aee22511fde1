"""The form definition format: a pydantic model, so the JSON Schema that `safeflow check`, the
designer and docs/schemas/form.schema.json use is generated from the same classes that load
definitions.

A form is a key, a title and an ordered list of items: value fields, and layout items
(`section`, `divider`). A section groups the items after it up to the next section, optionally
on one of the form's `tabs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from engine import i18n
from engine.forms.fieldtypes import FieldBase, ItemBase, field_union
from engine.forms.fieldtypes.base import Key, Label
from engine.forms.fieldtypes.computed import FormulaField, SerialField
from engine.forms.fieldtypes.layout import SectionItem
from engine.forms.fieldtypes.subtable import SubtableField

AnyField = field_union()

# Columns every record has; column_for answers them from real columns, so no field may take
# their names.
SYSTEM_KEYS = ("id", "created_at", "updated_at", "owner_id", "department_id", "status", "form_version")


class Tab(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Key
    label: Label


class FormDefinition(BaseModel):
    """One version of a form."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        serialize_by_alias=True,
        ignored_types=(cached_property,),
        json_schema_extra={"$id": "https://safeflow.dev/schemas/form.schema.json"},
    )

    schema_ref: str | None = Field(default=None, alias="$schema", description="Path or URL of this JSON Schema")
    key: Key = Field(description="The form's stable key; records are filed under it")
    version: int | None = Field(default=None, ge=1, description="Informative; the store numbers versions")
    title: Label
    description: Label | None = None
    fields: list[AnyField] = Field(min_length=1, description="Fields and layout items, in order")  # type: ignore[valid-type]
    tabs: list[Tab] = Field(default_factory=list, description="Tabs sections can be placed on")
    title_field: Key | None = Field(default=None, description="The field that names a record in lists and pickers")
    search_fields: list[Key] | None = Field(
        default=None, description="Fields text search looks in (default: every text-like field)")
    # Set when the form is compiled: how SQL compares formulas whose result type was inferred.
    _inferred_sql: dict[str, str | None] = PrivateAttr(default_factory=dict)

    # --- navigation ---------------------------------------------------------------------------

    @cached_property
    def _by_key(self) -> dict[str, ItemBase]:
        return {item.key: item for item in self.fields}

    def item(self, key: str) -> ItemBase | None:
        return self._by_key.get(key)

    def field(self, key: str) -> FieldBase | None:
        found = self._by_key.get(key)
        return found if isinstance(found, FieldBase) else None

    @cached_property
    def _values(self) -> list[FieldBase]:
        return [f for f in self.fields if isinstance(f, FieldBase)]

    def value_fields(self) -> list[FieldBase]:
        return list(self._values)

    @cached_property
    def referring_fields(self) -> list[FieldBase]:
        """The fields (sub-tables included) whose values may refer to users, departments,
        records or files: the only ones a write looks up."""
        return [f for f in self._values if f.may_refer]

    @cached_property
    def checked_fields(self) -> list[FieldBase]:
        """The fields (sub-tables included) whose type adds checks of its own."""
        return [f for f in self._values if f.may_check]

    def subtables(self) -> list[SubtableField]:
        return [f for f in self.fields if isinstance(f, SubtableField)]

    def formulas(self) -> list[FormulaField]:
        return [f for f in self.fields if isinstance(f, FormulaField)]

    def serials(self) -> list[SerialField]:
        return [f for f in self.fields if isinstance(f, SerialField)]

    @cached_property
    def section_of(self) -> dict[str, SectionItem]:
        """Each item's enclosing section (items before the first section have none)."""
        out: dict[str, SectionItem] = {}
        current: SectionItem | None = None
        for item in self.fields:
            if isinstance(item, SectionItem):
                current = item
            elif current is not None:
                out[item.key] = current
        return out

    def indexed_fields(self) -> list[FieldBase]:
        return [f for f in self.value_fields() if f.indexed]

    def walk(self) -> Iterator[tuple[tuple[str | int, ...], ItemBase]]:
        """Every item with its path in the definition (for located problems)."""
        for i, item in enumerate(self.fields):
            yield ("fields", i), item
            if isinstance(item, SubtableField):
                for j, row_field in enumerate(item.fields):
                    yield ("fields", i, "fields", j), row_field

    def sql_kinds(self) -> dict[str, str | None]:
        """{key: how SQL compares it} for column_for; formulas use their inferred type once the
        form is compiled."""
        return {f.key: self._inferred_sql.get(f.key) or f.sql_kind() for f in self.value_fields()}

    def label(self, locale: str | None = None) -> str:
        return i18n.localized(self.title, locale) or self.key

    @cached_property
    def searchers(self) -> list[tuple[str, Callable[[Any], str | None]]]:
        """Each searchable field's key and its `searcher`: a record's search text on every write."""
        return [(f.key, f.searcher()) for f in self.searchable_fields()]

    def searchable_fields(self) -> list[FieldBase]:
        if self.search_fields is not None:
            return [f for f in self.value_fields() if f.key in self.search_fields]
        return [f for f in self.value_fields() if f.searchable or isinstance(f, SubtableField)]

    def body(self) -> dict[str, Any]:
        """The definition as stored and exported: canonical JSON data, defaults left out."""
        return self.model_dump(mode="json", exclude_defaults=True, by_alias=True)

    # --- the expression language's view -------------------------------------------------------

    def expr_schema(self, resolve_form: Any = None, *, formula_types: dict[str, Any] | None = None) -> Any:
        """The engine.expr Schema of a record of this form: its value fields with their types,
        a sub-table as a list of records of its row fields, plus the system columns. Flows type
        check branch conditions with it; rules and reports check field references."""
        from engine.expr.types import Schema, parse_type

        spec: dict[str, Any] = {"id": "integer", "created_at": "datetime", "updated_at": "datetime",
                                "owner_id": "integer", "department_id": "integer", "status": "text"}
        for field in self.value_fields():
            kind = (formula_types or {}).get(field.key) or field.expr_type_spec()
            if isinstance(field, SubtableField):
                rows = {f.key: (formula_types or {}).get(f"{field.key}.{f.key}") or f.expr_type_spec()
                        for f in field.value_fields()}
                kind = [rows]
            spec[field.key] = kind
        return Schema(fields={k: parse_type(v) for k, v in spec.items()}, name=self.key, version=self.version)


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the form definition format."""
    schema = FormDefinition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
