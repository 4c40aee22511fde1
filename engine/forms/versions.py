"""What changed between two versions of a form: items added, removed, moved, and each
property that changed (labels, options, expressions …), for the designer's diff view and for
deciding whether old records need a migration."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.forms.fieldtypes import ItemBase
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.model import FormDefinition


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed | moved | form
    key: str  # item key ("level", "measures.cost"), or the form property for kind "form"
    property: str | None = None
    before: Any = None
    after: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _items(definition: FormDefinition) -> dict[str, tuple[int, dict[str, Any]]]:
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, item in enumerate(definition.fields):
        out[item.key] = (index, _dump(item))
        if isinstance(item, SubtableField):
            for j, column in enumerate(item.fields):
                out[f"{item.key}.{column.key}"] = (j, _dump(column))
    return out


def _dump(item: ItemBase) -> dict[str, Any]:
    body = item.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    body.pop("fields", None)  # sub-table columns are compared as items of their own
    return body


def diff(old: FormDefinition, new: FormDefinition) -> list[Change]:
    changes: list[Change] = []
    old_form = old.body()
    new_form = new.body()
    for prop in sorted((set(old_form) | set(new_form)) - {"fields", "version", "$schema"}):
        if old_form.get(prop) != new_form.get(prop):
            changes.append(Change("form", prop, prop, old_form.get(prop), new_form.get(prop)))
    before, after = _items(old), _items(new)
    for key, (_, body) in after.items():
        if key not in before:
            changes.append(Change("added", key, after=body))
    for key, (_, body) in before.items():
        if key not in after:
            changes.append(Change("removed", key, before=body))
    for key in [k for k in after if k in before]:
        (_, a), (_, b) = before[key], after[key]
        for prop in sorted(set(a) | set(b)):
            if a.get(prop) != b.get(prop):
                changes.append(Change("changed", key, prop, a.get(prop), b.get(prop)))
    old_order = [k for k in before if k in after and "." not in k]
    new_order = [k for k in after if k in before and "." not in k]
    if old_order != new_order:
        for key in new_order:
            if old_order.index(key) != new_order.index(key):
                changes.append(Change("moved", key, None, old_order.index(key), new_order.index(key)))
    return changes
