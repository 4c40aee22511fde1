"""The type checker: types of expressions, name resolution, and what the compiler learns."""

from __future__ import annotations

import pytest

from engine.expr import Schema, check, compile_expr
from engine.expr.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    INTEGER,
    NUMBER,
    TEXT,
    ListType,
    parse_type,
)
from tests.expr.expr_support import HAZARD


def type_of(text: str, schema: Schema = HAZARD) -> object:
    return compile_expr(text, schema).type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2", INTEGER),
        ("1 + 2.5", NUMBER),
        ("7 / 2", NUMBER),
        ("7 % 2", INTEGER),
        ("L * E * C", NUMBER),
        ("count * 2", INTEGER),
        ('"a" & 1', TEXT),
        ("score > 3", BOOLEAN),
        ("due + 7d", DATE),
        ("created_at - 24h", DATETIME),
        ("created_at - due", DURATION),
        ("due - due", DURATION),
        ("2 * 1h", DURATION),
        ("1h / 30min", NUMBER),
        ('if(score > 1, "a", "b")', TEXT),
        ("if(score > 1, 1, 2.5)", NUMBER),
        ("coalesce(score, 0)", NUMBER),
        ("measures.cost", ListType(NUMBER)),
        ("sum(measures.cost)", NUMBER),
        ("sum([1, 2])", INTEGER),
        (
            "filter(measures, cost > 1)",
            parse_type([{"action": "text", "cost": "number", "done": "boolean", "due": "date"}]),
        ),
        ("map(measures, cost * 2)", ListType(NUMBER)),
        ("first(tags)", TEXT),
        ("area.name", TEXT),
        ("record.area.name", TEXT),
        ("today()", DATE),
        ('max(due, d"2026-01-01")', DATE),
        ("1..3", ListType(INTEGER)),
        ('lookup("hazard_level", level)', ANY),
    ],
)
def test_expression_types(text: str, expected: object) -> None:
    assert type_of(text) == expected


def test_unknown_name_inside_list_function_is_reported_with_element_fields_suggested() -> None:
    problems = check("any(measures, cots > 1)", HAZARD)
    assert [p.code for p in problems] == ["expr.unknown_field"]
    assert "did you mean 'cost'" in problems[0].message("en")


def test_item_outside_a_list_function_is_explained() -> None:
    problems = check("item > 1", HAZARD)
    assert [p.code for p in problems] == ["expr.lambda_outside"]


def test_list_function_over_a_non_list_is_reported() -> None:
    problems = check("any(score, item > 1)", HAZARD)
    assert [p.code for p in problems] == ["expr.arg_type"]
    assert problems[0].message("en") == "Argument 1 of ANY must be a list of any value, got a number"


def test_list_function_condition_must_be_boolean() -> None:
    assert [p.code for p in check("filter(measures, cost)", HAZARD)] == ["expr.arg_type"]


def test_member_of_a_text_field_is_reported() -> None:
    problems = check("title.length", HAZARD)
    assert [p.code for p in problems] == ["expr.no_member"]
    assert problems[0].message("en") == "Cannot read field 'length' of text"


def test_if_conditions_must_be_boolean() -> None:
    problems = check('if(score, "a", "b")', HAZARD)
    assert [(p.code, p.column) for p in problems] == [("expr.arg_type", 4)]


def test_switch_cases_must_be_comparable_with_the_subject() -> None:
    assert [p.code for p in check('switch(level, 1, "a", "b")', HAZARD)] == ["expr.compare_types"]


def test_decimal_ranges_are_only_for_membership() -> None:
    assert check("score in 0.5..2.5", HAZARD) == []
    assert [p.code for p in check("sum(0.5..2.5)", HAZARD)] == ["expr.range_context"]


def test_variables_come_from_the_context_and_are_typed() -> None:
    schema = HAZARD.with_variables(h={"area": "text"})
    assert compile_expr('h.area == "A"', schema).type == BOOLEAN
    assert [p.code for p in check("h.area > 3", schema)] == ["expr.compare_types"]


def test_open_schemas_accept_any_name_as_any() -> None:
    assert compile_expr("anything.at.all").type == ANY
    assert check("x + 1 > y", Schema.open_schema()) == []


def test_references_list_every_field_path_read() -> None:
    compiled = compile_expr(
        "L * E * C + sum(measures.cost) + countif(measures, done) + len(record.title)", HAZARD
    )
    assert compiled.references == {"L", "E", "C", "measures", "measures.cost", "measures.done", "title"}


def test_references_inside_aggregates_are_the_outer_values_only() -> None:
    forms = {"hazard": HAZARD}.get
    compiled = compile_expr(
        "count(hazard where area.name == record.area.name and score > 3) > 1", HAZARD, resolve_form=forms
    )
    assert compiled.references == {"area.name"}
    assert len(compiled.aggregates) == 1


def test_aggregate_where_names_are_checked_against_the_other_form() -> None:
    inspection = Schema.of({"area": "text", "status": "text", "due_at": "datetime"}, name="inspection")
    forms = {"inspection": inspection}.get
    assert (
        check(
            'exists(inspection where area == record.title and status == "missed")', HAZARD, resolve_form=forms
        )
        == []
    )
    problems = check("exists(inspection where level == 1)", HAZARD, resolve_form=forms)
    assert [p.code for p in problems] == ["expr.unknown_field"]


def test_aggregate_field_must_be_numeric_for_sums() -> None:
    forms = {"hazard": HAZARD}.get
    assert check("sum(hazard.score where true) > 1", HAZARD, resolve_form=forms) == []
    assert [p.code for p in check("sum(hazard.title where true) > 1", HAZARD, resolve_form=forms)] == [
        "expr.arg_type"
    ]


def test_within_must_be_a_duration_and_order_by_a_field() -> None:
    forms = {"hazard": HAZARD}.get
    assert [p.code for p in check("count(hazard where true, within 7) > 1", HAZARD, resolve_form=forms)] == [
        "expr.arg_type"
    ]
    problems = check(
        "consecutive(2, hazard where true, score > 1, order by craeted_at)", HAZARD, resolve_form=forms
    )
    assert [p.code for p in problems] == ["expr.unknown_field"]


def test_expected_boolean_accepts_nullable_conditions() -> None:
    assert check("closed", HAZARD, expected=BOOLEAN) == []
    assert [p.code for p in check("title", HAZARD, expected=BOOLEAN)] == ["expr.expected_type"]


def test_schema_fingerprint_changes_with_fields() -> None:
    a = Schema.of({"x": "number"})
    b = Schema.of({"x": "text"})
    assert a.fingerprint != b.fingerprint
    assert a.fingerprint == Schema.of({"x": "number"}).fingerprint
    assert Schema.of({"x": "number"}, version=2).fingerprint != a.fingerprint
