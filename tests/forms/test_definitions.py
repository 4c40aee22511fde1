"""Loading form definitions: every problem, located in the file, in both languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.errors import InvalidInput
from engine.forms import FormDefinition, check_form, load_form
from engine.forms.schema_file import render
from tests.forms.support import HAZARD, hazard, label

ROOT = Path(__file__).resolve().parents[2]


def _problems(body: dict) -> list:
    text = json.dumps(body, indent=2, ensure_ascii=False)
    return check_form(text, "hazard.json")[1]


def test_the_sample_hazard_form_loads() -> None:
    definition = load_form(HAZARD)
    assert definition.field("score").type == "formula"
    assert [f.key for f in definition.subtables()] == ["measures"]


def test_a_shape_error_names_file_line_column_and_property() -> None:
    body = hazard()
    body["fields"][1]["max_lenght"] = 5
    text = json.dumps(body, indent=2, ensure_ascii=False)
    (problem,) = check_form(text, "hazard.json")[1]
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "max_lenght" in ln)
    assert (problem.file, problem.line, problem.path) == ("hazard.json", line, "fields[1].max_lenght")
    assert "max_length" in problem.message("en")
    assert problem.format("zh-CN").startswith(f"hazard.json:{line}:")


def test_every_shape_problem_is_reported_not_just_the_first() -> None:
    body = hazard()
    body["fields"][1]["type"] = "txet"
    body["fields"][4]["min"] = "low"
    body["fields"][2]["key"] = "Level"
    codes = {(p.path, p.code) for p in _problems(body)}
    assert ("fields[1].type", "form.unknown_type") in codes
    assert ("fields[4].min", "form.invalid_value") in codes
    assert ("fields[2].key", "form.bad_key") in codes


def test_an_unknown_field_type_suggests_the_closest_one() -> None:
    body = hazard()
    body["fields"][1]["type"] = "txet"
    problem = next(p for p in _problems(body) if p.code == "form.unknown_type")
    assert "text" in problem.params["hint"]


def test_meaning_errors_are_collected() -> None:
    body = hazard()
    body["fields"].append({"type": "text", "key": "title", "label": label("重复")})
    body["fields"].append({"type": "number", "key": "id", "label": label("编号")})
    body["fields"].append({"type": "number", "key": "n", "label": label("数"), "min": 5, "max": 1})
    body["fields"].append({"type": "checkboxes", "key": "k", "label": label("选"), "options": ["a", "a"],
                           "indexed": True})
    codes = {p.code for p in _problems(body)}
    assert {"form.duplicate_key", "form.reserved_key", "form.min_above_max", "form.duplicate_option",
            "form.not_indexable"} <= codes


def test_an_expression_typo_is_located_inside_the_file() -> None:
    body = hazard()
    body["fields"][3]["visible_if"] = 'levle == "major"'
    text = json.dumps(body, indent=2, ensure_ascii=False)
    (problem,) = [p for p in check_form(text, "hazard.json")[1] if p.severity == "error"]
    line_no, line = next((i, ln) for i, ln in enumerate(text.splitlines(), 1) if "levle" in ln)
    assert problem.path == "fields[3].visible_if"
    assert (problem.line, problem.column) == (line_no, line.index("levle") + 1)
    assert "level" in problem.message("en")


def test_a_type_error_in_a_formula_is_refused() -> None:
    body = hazard()
    body["fields"][7]["expr"] = 'l * "high"'
    (problem,) = [p for p in _problems(body) if p.severity == "error"]
    assert problem.path == "fields[7].expr" and problem.code.startswith("expr.")


def test_a_formula_cycle_is_refused_naming_every_field_in_it() -> None:
    body = hazard()
    body["fields"] += [
        {"type": "formula", "key": "a", "label": label("甲"), "expr": "b + 1"},
        {"type": "formula", "key": "b", "label": label("乙"), "expr": "c2 * 2"},
        {"type": "formula", "key": "c2", "label": label("丙"), "expr": "a - 1"},
    ]
    with pytest.raises(InvalidInput) as caught:
        load_form(body)
    (problem,) = caught.value.problems
    assert problem.code == "form.cycle"
    assert all(name in problem.message("en") for name in ("a", "b", "c2"))


def test_a_cycle_through_visibility_is_a_cycle_too() -> None:
    body = hazard()
    body["fields"] += [
        {"type": "number", "key": "x", "label": label("x"), "visible_if": "y > 0"},
        {"type": "number", "key": "y", "label": label("y"), "visible_if": "x > 0"},
    ]
    assert any(p.code == "form.cycle" for p in _problems(body))


def test_missing_translations_are_warnings() -> None:
    body = hazard()
    body["fields"][1]["label"] = {"zh": "描述"}
    definition, problems = check_form(body)
    assert definition is not None
    assert [(p.code, p.severity) for p in problems] == [("form.label_locale", "warning")]


def test_malformed_json_is_located() -> None:
    definition, (problem,) = check_form('{"key": "x",\n  "title": }', "bad.json")
    assert definition is None and (problem.line, problem.code) == (2, "form.json_syntax")


def test_the_published_definition_schema_is_current_and_valid_draft_2020_12() -> None:
    committed = (ROOT / "docs/schemas/form.schema.json").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m engine.forms.schema_file"
    Draft202012Validator.check_schema(json.loads(committed))


def test_the_published_schema_accepts_the_sample_form() -> None:
    schema = json.loads(render())
    Draft202012Validator(schema).validate(load_form(HAZARD).body())


def test_expr_schema_types_fields_rows_and_inferred_formulas() -> None:
    from engine.forms.compiled import compile_form

    compiled = compile_form(load_form(HAZARD), 1)
    schema = compiled.logic.schema
    assert str(schema.fields["score"]) == "integer"
    assert str(schema.fields["due"]) == "date"
    assert str(schema.fields["total"]) == "number"
    assert str(load_form(HAZARD).expr_schema().fields["measures"]).startswith("list[record")


def test_body_round_trips_through_the_model() -> None:
    definition = load_form(HAZARD)
    assert FormDefinition.model_validate(definition.body()).body() == definition.body()
