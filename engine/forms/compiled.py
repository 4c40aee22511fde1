"""A form version made ready to validate records: its logic compiled, the JSON Schema
(draft 2020-12) of its records built and its validator prepared — once per version, cached.

Records are checked against that schema with jsonschema-rs, a draft 2020-12 implementation that
reports every error and validates a 2,000-row sub-table in well under a millisecond (the pure
Python `jsonschema` takes ~0.2 s for the same record, the whole budget); a test checks both
libraries agree on the schemas forms generate."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

import jsonschema_rs

from engine.errors import InvalidInput
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.fieldtypes.temporal import DurationField
from engine.forms.logic import FormResolver, Logic, compile_logic, sql_kind_of
from engine.forms.model import FormDefinition
from engine.store.definitions import checksum


@dataclass
class CompiledForm:
    definition: FormDefinition
    version: int
    logic: Logic
    json_schema: dict[str, Any]
    validator: Any  # jsonschema_rs validator (draft 2020-12)
    durations: tuple[set[str], dict[str, set[str]]]
    # What other modules derive from this version once and reuse for every write (the
    # validator's intake plan), by name: built on first use, dropped with the version.
    plans: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return self.definition.key


def record_json_schema(definition: FormDefinition, *, with_required: bool = True) -> dict[str, Any]:
    """The JSON Schema a record's data satisfies. Fields required unconditionally are listed in
    `required` (fields required only under a condition, or hidden by one, cannot be)."""
    properties = {f.key: f.json_schema() for f in definition.value_fields()}
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": definition.key,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if with_required:
        required = [f.key for f in definition.value_fields()
                    if f.required and not f.computed and not f.visible_if
                    and not (definition.section_of.get(f.key) and definition.section_of[f.key].visible_if)]
        if required:
            schema["required"] = required
    return schema


_CACHE: OrderedDict[tuple[str, int, str], CompiledForm] = OrderedDict()
_LOCK = Lock()


def compile_form(definition: FormDefinition, version: int | None = None,
                 resolve_form: FormResolver | None = None) -> CompiledForm:
    """Compile (or fetch from the cache) a definition; InvalidInput if its expressions are bad."""
    version = version or definition.version or 0
    key = (definition.key, version, checksum(definition.body()))
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    logic = compile_logic(definition, resolve_form)
    errors = [p for p in logic.problems if p.severity == "error"]
    if errors:
        raise InvalidInput("form.invalid", problems=errors)
    definition._inferred_sql = {name: sql_kind_of(kind) for name, kind in logic.formula_types.items()
                                if "." not in name}
    schema = record_json_schema(definition, with_required=False)
    top = {f.key for f in definition.value_fields() if isinstance(f, DurationField) or
           logic.formula_types.get(f.key) == "duration" or getattr(f, "result", None) == "duration"}
    rows = {}
    for sub in definition.subtables():
        keys = {f.key for f in sub.value_fields() if isinstance(f, DurationField) or
                logic.formula_types.get(f"{sub.key}.{f.key}") == "duration" or getattr(f, "result", None) == "duration"}
        if keys:
            rows[sub.key] = keys
    compiled = CompiledForm(definition=definition, version=version, logic=logic, json_schema=schema,
                            validator=jsonschema_rs.validator_for(schema), durations=(top, rows))
    with _LOCK:
        _CACHE[key] = compiled
        if len(_CACHE) > 256:
            _CACHE.popitem(last=False)
    return compiled


def is_subtable(definition: FormDefinition, key: str) -> bool:
    return isinstance(definition.field(key), SubtableField)
