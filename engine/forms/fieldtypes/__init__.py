"""The field-type registry. Importing this package registers every built-in type; `subtable`
comes last because its rows may hold any type registered before it."""

from engine.forms.fieldtypes import (  # noqa: F401
    choice,
    computed,
    layout,
    media,
    numbers,
    people,
    subtable,
    temporal,
    text,
)
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
