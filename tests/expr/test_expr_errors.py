"""Errors a rule author understands: where (line, column, caret), what was expected, in zh-CN
and en — and nothing but ExprError, whatever the input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.expr import ExprError, Schema, check, compile_expr, evaluate, parse
from tests.expr.expr_support import HAZARD


def only_problem(text: str, schema: Schema = HAZARD) -> tuple[str, int | None, int | None, str, str]:
    problems = check(text, schema)
    assert len(problems) == 1, [p.format("en") for p in problems]
    p = problems[0]
    return p.code, p.line, p.column, p.message("en"), p.message("zh-CN")


def test_expr_error_is_the_platforms_invalid_input() -> None:
    assert issubclass(ExprError, InvalidInput)
    with pytest.raises(ExprError) as caught:
        parse("a ==")
    assert caught.value.status == 422


def test_a_doubled_keyword_is_blamed_where_it_stands() -> None:
    code, line, column, en, zh = only_problem('level == "major" and and score > 24')
    assert (code, line, column) == ("expr.syntax.unexpected_token", 1, 22)
    assert en == "Unexpected keyword 'and'; expected a value (number, text, field or function)"
    assert "关键字 “and”" in zh and "一个值" in zh


def test_an_unfinished_expression_points_after_its_end() -> None:
    code, line, column, en, zh = only_problem("score >=")
    assert (code, line, column) == ("expr.syntax.unexpected_end", 1, 9)
    assert "expected a value" in en
    assert "表达式不完整" in zh


def test_a_missing_closing_parenthesis_is_named() -> None:
    code, line, column, en, _ = only_problem("upper(title")
    assert (code, line, column) == ("expr.syntax.unexpected_end", 1, 12)
    assert "a closing parenthesis ')'" in en


def test_two_values_without_an_operator_list_the_operators() -> None:
    code, line, column, en, _ = only_problem("score 3")
    assert (code, line, column) == ("expr.syntax.unexpected_token", 1, 7)
    assert "a comparison" in en and "an operator" in en and "the end of the expression" in en


def test_errors_on_later_lines_carry_that_line() -> None:
    code, line, column, _, _ = only_problem('level == "major"\nand\n   score >> 3')
    assert (code, line, column) == ("expr.syntax.unexpected_token", 3, 11)


def test_the_caret_context_shows_the_offending_line() -> None:
    with pytest.raises(ExprError) as caught:
        parse('level == "major"\n  and score >< 3')
    rendered = caught.value.render("en")
    assert "<input>:2:14:" in rendered
    assert "  and score >< 3\n             ^" in rendered


def test_unexpected_characters_are_all_reported_at_once() -> None:
    problems = check("score @ 3 # 4", HAZARD)
    assert [(p.code, p.column, p.params["char"]) for p in problems] == [
        ("expr.syntax.unexpected_char", 7, "@"),
        ("expr.syntax.unexpected_char", 11, "#"),
    ]


def test_an_unterminated_text_is_named() -> None:
    code, line, column, en, zh = only_problem('level == "major')
    assert (code, line, column) == ("expr.syntax.unterminated_string", 1, 10)
    assert "closing quote" in en and "引号" in zh


def test_an_invalid_date_literal_is_located() -> None:
    code, line, column, en, _ = only_problem('due > d"2026-02-30"')
    assert (code, line, column) == ("expr.syntax.bad_date", 1, 7)
    assert "2026-02-30" in en


def test_unknown_field_suggests_the_closest_name() -> None:
    code, line, column, en, zh = only_problem('levle == "major"')
    assert (code, line, column) == ("expr.unknown_field", 1, 1)
    assert en == "Unknown field 'levle'; did you mean 'level'?"
    assert zh == "未知字段 “levle”，是否是 “level”？"


def test_unknown_nested_field_is_located_on_its_path() -> None:
    code, _, column, en, _ = only_problem('score > 1 and area.nmae == "A"')
    assert (code, column) == ("expr.unknown_field", 15)
    assert "did you mean 'name'" in en


def test_unknown_function_suggests_the_closest_function() -> None:
    code, _, column, en, _ = only_problem("uper(title)")
    assert (code, column) == ("expr.unknown_function", 1)
    assert "did you mean 'upper'" in en


def test_wrong_number_of_arguments() -> None:
    code, _, _, en, zh = only_problem("left()")
    assert code == "expr.arity"
    assert en == "LEFT takes 1–2 argument(s), got 0"
    assert "LEFT 需要 1–2 个参数" in zh


def test_wrong_argument_type_names_the_argument() -> None:
    code, _, column, en, _ = only_problem("round(title, 2)")
    assert (code, column) == ("expr.arg_type", 7)
    assert en == "Argument 1 of ROUND must be a number, got text"


def test_text_plus_number_is_a_type_error_at_definition_time() -> None:
    code, _, column, en, zh = only_problem('"text" + 3')
    assert (code, column) == ("expr.operand_types", 1)
    assert en == "Cannot apply '+' to text and an integer (use & or CONCAT to join text)"
    assert zh == "不能对文本和整数使用 “+”（连接文本请用 & 或 CONCAT）"


def test_adding_two_texts_hints_at_concatenation() -> None:
    _, _, _, en, _ = only_problem("title + level")
    assert "use & or CONCAT" in en


def test_text_compared_to_number() -> None:
    code, _, column, en, _ = only_problem('score > "high"')
    assert (code, column) == ("expr.compare_types", 1)
    assert en == "Cannot compare a number with text"


def test_a_condition_must_be_boolean() -> None:
    problems = check("score + 1", HAZARD, expected=Schema.of({"x": "boolean"}).fields["x"])
    assert [p.code for p in problems] == ["expr.expected_type"]
    assert problems[0].message("en") == "Expected yes/no (boolean) here, but the expression gives a number"


def test_several_problems_are_reported_at_once() -> None:
    problems = check('levle == "major" and uper(title) == 1 and score > "x"', HAZARD)
    assert [(p.code, p.column) for p in problems] == [
        ("expr.unknown_field", 1),
        ("expr.unknown_function", 22),
        ("expr.compare_types", 43),
    ]


def test_compile_raises_with_every_problem() -> None:
    with pytest.raises(ExprError) as caught:
        compile_expr("levle > 1 and scroe > 2", HAZARD)
    assert len(caught.value.problems) == 2
    assert caught.value.message("en") == "Invalid expression: 2 problem(s)"
    assert caught.value.message("zh-CN") == "表达式有误，共 2 处问题"


def test_unknown_form_in_an_aggregate() -> None:
    problems = check("count(hazzard where true) > 1", HAZARD, resolve_form={"hazard": HAZARD}.get)
    assert [(p.code, p.column) for p in problems] == [("expr.unknown_form", 1)]


def test_runtime_failures_are_expr_errors_with_a_message() -> None:
    with pytest.raises(ExprError) as caught:
        evaluate("a < b", {"a": "x", "b": 1})
    assert caught.value.problems[0].code == "expr.runtime.compare"
    assert caught.value.message("en") == "Cannot compare text with an integer"


def test_every_message_exists_in_both_locales() -> None:
    from engine import i18n

    for code in [c for c in i18n._catalog if c.startswith("expr.")]:
        assert i18n.message(code, "zh-CN") and i18n.message(code, "en")


# --- fuzzing: random text only ever yields ExprError ----------------------------------------------

ALPHABET = st.sampled_from(
    [
        *"abcxyz_019 .\"'()[],+-*/%^&=<>!:@#d\n\tandornotinwhere",
        "and ",
        "or ",
        "not ",
        " in ",
        "where ",
        "within ",
        "order by ",
        "count(",
        "sum(",
        "if(",
        "..",
        "__",
        "7d",
        "3mo",
        'd"2026-01-01"',
        "record.",
        "true",
        "null",
        "__class__",
        "filter(",
        "item",
        "((((",
        "))))",
    ]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALPHABET, max_size=25).map("".join))
def test_random_text_raises_nothing_but_expr_error(text: str) -> None:
    for schema in (HAZARD, Schema.open_schema()):
        try:
            compiled = compile_expr(text, schema)
        except ExprError:
            continue
        for data in (
            {},
            {"a": 1, "b": "x", "title": None, "score": "bad"},
            {"x": [1, {"y": 2}], "c": {"d": True}},
        ):
            with contextlib.suppress(ExprError):
                compiled.evaluate(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_raises_nothing_but_expr_error(text: str) -> None:
    with contextlib.suppress(ExprError):
        compile_expr(text).evaluate({})


def test_positions_can_be_shifted_for_expressions_embedded_in_a_rule_file() -> None:
    with pytest.raises(ExprError) as caught:
        parse('level == "major"\n  and and x')
    moved = caught.value.shifted(line=5, column=6)
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, 7)]
    assert [(p.line, p.column) for p in moved.problems] == [(6, 7)]
    with pytest.raises(ExprError) as caught:
        parse("score >< 1")
    assert [(p.line, p.column) for p in caught.value.shifted(line=5, column=6).problems] == [(5, 13)]


def test_a_duration_in_m_is_refused_as_ambiguous_not_a_crash() -> None:
    """`5m` (minutes or months?) is a located syntax error; `5min` and `5mo` are durations."""
    with pytest.raises(ExprError) as caught:
        compile_expr("5m > 1min")
    assert caught.value.problems[0].code == "expr.syntax.bad_number"
    assert compile_expr("5min > 1min").evaluate({}) is True
