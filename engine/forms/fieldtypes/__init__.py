"""The field-type registry. Importing this package registers every built-in type; `subtable`
comes last because its rows may hold any type registered before it (hence an explicit list,
not import statements an import sorter would reorder)."""

import importlib

from engine.forms.fieldtypes.base import (
    DEFAULT_CONTEXT,
    FieldBase,
    FieldError,
    ItemBase,
    ValueContext,
    field_union,
    registry,
    type_names,
)

BUILT_IN = ("text", "numbers", "temporal", "choice", "people", "media", "computed", "layout", "subtable")
for _module in BUILT_IN:
    importlib.import_module(f"engine.forms.fieldtypes.{_module}")

__all__ = [
    "DEFAULT_CONTEXT",
    "FieldBase",
    "FieldError",
    "ItemBase",
    "ValueContext",
    "field_union",
    "registry",
    "type_names",
]
