"""The JSON Schema (draft 2020-12) generated for a form's records: valid, published per form,
and read the same way by jsonschema-rs (used on every write, for speed) and the reference
Python `jsonschema` implementation."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from engine.forms import load_form
from engine.forms.compiled import compile_form, record_json_schema
from tests.forms.support import HAZARD
from tests.forms.test_field_types import CASES

RECORDS: list[dict[str, Any]] = [
    {"title": "ok", "level": "general", "l": 1, "measures": [{"action": "a", "qty": 2, "price": 3.0}]},
    {"title": "x" * 101, "level": "other", "l": 11, "due": "tomorrow"},
    {"title": 5, "measures": [{"action": None, "qty": -1, "price": "3", "extra": 1}], "unknown": True},
    {"measures": "rows", "score": "high"},
]


def _paths_python(schema: dict, data: dict) -> set[tuple[str, ...]]:
    return {tuple(str(p) for p in e.absolute_path) for e in Draft202012Validator(schema).iter_errors(data)}


def _paths_rust(schema: dict, data: dict) -> set[tuple[str, ...]]:
    return {tuple(str(p) for p in e.instance_path) for e in jsonschema_rs.validator_for(schema).iter_errors(data)}


def test_a_forms_record_schema_is_valid_draft_2020_12() -> None:
    schema = record_json_schema(load_form(HAZARD))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["title"]


@pytest.mark.parametrize("data", RECORDS)
def test_both_validators_find_the_same_problems(data: dict) -> None:
    schema = compile_form(load_form(HAZARD), 1).json_schema
    assert _paths_rust(schema, data) == _paths_python(schema, data)


@pytest.mark.parametrize(("field", "good", "bad"), CASES, ids=[c[0]["type"] for c in CASES])
def test_every_field_types_fragment_accepts_its_stored_values_in_both(field: dict, good: list, bad: list) -> None:
    body = {"key": "t", "title": {"zh": "测", "en": "T"}, "fields": [{"key": "v", "label": {"zh": "值", "en": "V"},
                                                                     **field}]}
    compiled = compile_form(load_form(body), 1)
    Draft202012Validator.check_schema(compiled.json_schema)
    for _, stored in good:
        assert _paths_python(compiled.json_schema, {"v": stored}) == set()
        assert _paths_rust(compiled.json_schema, {"v": stored}) == set()
