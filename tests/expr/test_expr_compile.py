"""compile_expr and CompiledExpr: the contract other engines build on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine.expr import CompiledExpr, EvalContext, ExprError, Schema, compile_expr, evaluate, parse
from engine.expr.types import BOOLEAN, NUMBER
from tests.expr.expr_support import HAZARD, fixed_context


def test_compiled_expression_exposes_text_ast_type_references_and_aggregates() -> None:
    compiled = compile_expr("L * E * C", HAZARD)
    assert isinstance(compiled, CompiledExpr)
    assert compiled.text == "L * E * C"
    assert compiled.ast == parse("L * E * C")
    assert compiled.type == NUMBER
    assert compiled.references == {"L", "E", "C"}
    assert compiled.aggregates == ()
    assert compiled.evaluate({"L": 3, "E": 6, "C": 7}) == 126


def test_compiling_is_cached_by_text_and_schema_fingerprint() -> None:
    first = compile_expr("score > 1", HAZARD)
    assert compile_expr("score > 1", HAZARD) is first
    assert compile_expr("score > 1", Schema.of({"score": "number"})) is not first
    assert compile_expr("score > 1", HAZARD, expected=BOOLEAN) is not first


def test_an_ast_can_be_compiled_directly() -> None:
    compiled = compile_expr(parse("1 + 2"))
    assert compiled.evaluate({}) == 3 and compiled.text == "1 + 2"


def test_expected_type_is_enforced_at_compile_time() -> None:
    with pytest.raises(ExprError):
        compile_expr("score", HAZARD, expected=BOOLEAN)


def test_evaluate_is_the_generated_function_itself() -> None:
    compiled = compile_expr('level == "major"', HAZARD)
    assert compiled.evaluate.__name__ == "_expr"
    assert compiled.evaluate({"level": "major"}) is True


def test_context_defaults_to_the_real_clock_in_shanghai() -> None:
    ctx = EvalContext()
    assert ctx.tz.key == "Asia/Shanghai"
    assert abs((ctx.current_time() - datetime.now(UTC)).total_seconds()) < 5
    with pytest.raises(ValueError):
        EvalContext(now=datetime(2026, 1, 1))


def test_variables_are_named_scopes_from_the_context() -> None:
    schema = HAZARD.with_variables(h={"area": "text", "level": "text"})
    compiled = compile_expr('h.level == "major" and h.area == area.name', schema)
    ctx = EvalContext().with_variables(h={"area": "A", "level": "major"})
    assert compiled.evaluate({"area": {"name": "A"}}, ctx) is True
    assert compiled.references == {"h.level", "h.area", "area.name"}


def test_record_is_the_whole_current_record() -> None:
    assert compile_expr("record.score + score", HAZARD).evaluate({"score": 2}) == 4
    assert evaluate("count(record.xs)", {"xs": [1, 2]}) == 2


def test_explain_gives_every_evaluated_value_with_its_span() -> None:
    compiled = compile_expr('level == "major" and age_hours(created_at) > 24 or score >= 100', HAZARD)
    data = {"level": "major", "created_at": "2026-03-14T00:00:00Z", "score": 5}
    explanation = compiled.explain(data, fixed_context())
    assert explanation.value is True
    payload = explanation.to_dict()
    json.dumps(payload)  # JSON-serialisable
    first = payload["children"][0]
    assert first["text"] == 'level == "major" and age_hours(created_at) > 24'
    assert first["value"] is True
    age = first["children"][1]["children"][0]
    assert age["text"] == "age_hours(created_at)" and age["value"] == pytest.approx(50.0)
    assert (age["line"], age["column"], age["span"]) == (1, 22, [21, 42])
    created = age["children"][0]
    assert created["value"] == "2026-03-14T00:00:00Z"
    skipped = payload["children"][1]
    assert skipped["evaluated"] is False and skipped["value"] is None


def test_explain_lines_read_as_a_trace() -> None:
    compiled = compile_expr('score > 10 and level == "major"', HAZARD)
    lines = compiled.explain({"score": 3, "level": "major"}).lines()
    assert lines[0] == 'score > 10 and level == "major" → false'
    assert "  score > 10 → false" in lines
    assert '  level == "major" (not evaluated)' in lines


def test_explain_matches_evaluate() -> None:
    compiled = compile_expr('if(score >= 320, "red", score >= 160, "orange", "blue")', HAZARD)
    for score in (400, 200, 1, None):
        assert compiled.explain({"score": score}).value == compiled.evaluate({"score": score})


def test_explain_dict_is_explain_to_dict() -> None:
    from engine.expr import Schema, compile_expr

    compiled = compile_expr('level == "major" and (score > 10 or if(done, 1, 2) == 2)',
                            Schema.of({"level": "text", "score": "number", "done": "boolean"}))
    for data in ({"level": "major", "score": 3, "done": False}, {"level": "minor"}, {}):
        value, as_dict = compiled.explain_dict(data)
        explained = compiled.explain(data)
        assert value == explained.value and as_dict == explained.to_dict()


@pytest.mark.parametrize("text", ['x == "l1"', '"l1" == x', 'x != "l1"', 'x == ""', 'x == "2026-01-01"',
                                  'x == "2026-01-01 08:00"', 'x != "2026-01-01T08:00:00+08:00"'])
def test_untyped_equality_with_text_gives_what_the_generic_comparison_gives(text: str) -> None:
    """`x == "l1"` on an untyped field compiles to a text comparison that needs no context; a text
    that reads as a date keeps the generic comparison. Both answer alike for every kind of value."""
    from datetime import date, timedelta

    from engine.expr import runtime

    compiled = compile_expr(text)
    literal = text.split('"')[1]
    op = runtime.eq if "==" in text else runtime.ne
    values = [None, "l1", "L1", "", literal, 1, 1.0, True, False, [literal], {"a": literal}, date(2026, 1, 1),
              datetime(2026, 1, 1, 8, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 0), timedelta(hours=1),
              "2026-01-01", "2026-01-01 08:00"]
    context = fixed_context()
    for value in values:
        assert compiled.evaluate({"x": value}, context) == op(value, literal, context), (text, value)
    assert ("eq_text" in compiled.source) == (literal == "l1")
