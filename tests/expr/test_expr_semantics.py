"""Null-safe, timezone-aware semantics, checked against a Python reference on generated inputs.

Every property runs twice: through the typed, inlined code path (a closed schema) and through
the generic runtime helpers (an open schema), so the two code paths cannot drift apart."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.expr import EvalContext, ExprError, Schema, compile_expr, evaluate
from tests.expr.expr_support import HAZARD, NOW, SHANGHAI

NUMBERS = Schema.of({"a": "number", "b": "number"})
INTEGERS = Schema.of({"a": "integer", "b": "integer"})
DATES = Schema.of({"a": "date", "b": "date", "t": "datetime", "u": "datetime", "n": "integer"})
OPEN = Schema.open_schema()
CTX = EvalContext(now=NOW)


def both_paths(text: str, data: dict[str, Any], typed: Schema) -> Any:
    """Evaluate through the typed and the generic code path; they must agree."""
    results = []
    for schema in (typed, OPEN):
        try:
            results.append(("ok", compile_expr(text, schema).evaluate(data, CTX)))
        except ExprError as error:
            results.append(("error", error.problems[0].code))
    assert results[0] == results[1] or _close(results[0][1], results[1][1]), (text, data, results)
    kind, value = results[0]
    if kind == "error":
        raise ExprError(problems=[])
    return value


def _close(x: Any, y: Any) -> bool:
    return isinstance(x, float) and isinstance(y, float) and math.isclose(x, y)


# --- nulls ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("score + 1", None),
        ("score * 2 - 1", None),
        ("-score", None),
        ("score > 1", False),
        ("score < 1", False),
        ("score <= 1", False),
        ("not (score > 1)", True),
        ("score == null", True),
        ("score != null", False),
        ("score == 1", False),
        ('level != "major"', True),
        ("closed", None),
        ("closed and true", False),
        ("closed or true", True),
        ("not closed", True),
        ("score in [1, 2]", False),
        ("score not in [1, 2]", True),
        ("score in 1..3", False),
        ('"x" in title', False),
        ('title & "!"', "!"),
        ("upper(title)", None),
        ("len(title)", 0),
        ("sum(measures.cost)", 0),
        ("count(measures)", 0),
        ("coalesce(score, 0) + 1", 1),
        ("area.name", None),
        ("due + 7d", None),
        ("due < today()", False),
    ],
)
def test_missing_fields_are_null_and_null_is_safe(text: str, expected: Any) -> None:
    assert compile_expr(text, HAZARD).evaluate({}, CTX) == expected


def test_division_by_zero_is_null_not_an_exception() -> None:
    assert evaluate("1 / 0") is None
    assert evaluate("a / b", {"a": 1, "b": 0}) is None
    assert evaluate("5 % 0") is None


def test_equality_never_mixes_booleans_numbers_or_text() -> None:
    assert evaluate("a == b", {"a": True, "b": 1}) is False
    assert evaluate("a == b", {"a": "1", "b": 1}) is False
    assert evaluate("a == b", {"a": 1, "b": 1.0}) is True
    assert evaluate("a == b", {"a": None, "b": None}) is True


def test_ordering_different_kinds_is_an_error_not_a_guess() -> None:
    with pytest.raises(ExprError) as caught:
        evaluate("a < b", {"a": "10", "b": 9})
    assert caught.value.problems[0].code == "expr.runtime.compare"


def test_conditions_refuse_non_boolean_values_instead_of_guessing() -> None:
    with pytest.raises(ExprError) as caught:
        evaluate("a and true", {"a": "yes"})
    assert caught.value.problems[0].code == "expr.runtime.type"


# --- arithmetic and comparison against Python -----------------------------------------------------


def reference_arith(op: str, a: float, b: float) -> Any:
    if op in ("/", "%") and b == 0:
        return None
    if op == "^":
        try:
            result = a**b
        except (OverflowError, ZeroDivisionError):
            return "error"
        return None if isinstance(result, complex) else result
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None, "%": a % b if b else None}[op]


FINITE = st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["+", "-", "*", "/", "%"]), FINITE, FINITE)
def test_arithmetic_agrees_with_python(op: str, a: float, b: float) -> None:
    expected = reference_arith(op, a, b)
    schema = INTEGERS if isinstance(a, int) and isinstance(b, int) else NUMBERS
    got = both_paths(f"a {op} b", {"a": a, "b": b}, schema)
    assert got == expected or _close(got, expected)


@settings(max_examples=200, deadline=None)
@given(st.integers(-50, 50), st.integers(-5, 12))
def test_powers_agree_with_python(a: int, b: int) -> None:
    expected = reference_arith("^", a, b)
    assume(expected != "error")
    got = both_paths("a ^ b", {"a": a, "b": b}, INTEGERS)
    assert got == expected or _close(got, float(expected))


COMPARABLE = st.one_of(st.none(), st.integers(-5, 5), st.floats(-5, 5, allow_nan=False), st.text(max_size=3))


def reference_compare(op: str, a: Any, b: Any) -> Any:
    """Documented semantics: == treats null as a value; ordering with null is false; ordering
    text against a number is an error."""
    if op in ("==", "!="):
        same = (
            a == b
            if type(a) is type(b) or (isinstance(a, int | float) and isinstance(b, int | float))
            else False
        )
        if a is None or b is None:
            same = a is None and b is None
        return same if op == "==" else not same
    if a is None or b is None:
        return False
    if isinstance(a, str) != isinstance(b, str):
        return "error"
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), COMPARABLE, COMPARABLE)
def test_comparisons_agree_with_the_reference(op: str, a: Any, b: Any) -> None:
    expected = reference_compare(op, a, b)
    try:
        got = evaluate(f"a {op} b", {"a": a, "b": b})
    except ExprError:
        got = "error"
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    st.one_of(st.none(), FINITE),
    st.one_of(st.none(), FINITE),
)
def test_typed_numeric_comparisons_agree_with_the_reference(op: str, a: Any, b: Any) -> None:
    assert both_paths(f"a {op} b", {"a": a, "b": b}, NUMBERS) == reference_compare(op, a, b)


# --- dates, times and timezones -------------------------------------------------------------------

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC))


@settings(max_examples=200, deadline=None)
@given(DAYS, st.integers(-1000, 1000))
def test_date_plus_days_agrees_with_python(a: date, n: int) -> None:
    assert both_paths("a + days(n)", {"a": a.isoformat(), "n": n}, DATES) == a + timedelta(days=n)
    assert both_paths("a - n * 1d", {"a": a, "n": n}, DATES) == a - timedelta(days=n)


@settings(max_examples=200, deadline=None)
@given(DAYS, DAYS)
def test_date_difference_and_order_agree_with_python(a: date, b: date) -> None:
    assert both_paths("a - b", {"a": a, "b": b.isoformat()}, DATES) == a - b
    assert both_paths("a < b", {"a": a, "b": b}, DATES) == (a < b)
    assert both_paths("days_between(b, a)", {"a": a, "b": b}, DATES) == (a - b).days


@settings(max_examples=200, deadline=None)
@given(MOMENTS, MOMENTS)
def test_datetime_difference_and_order_agree_with_python(t: datetime, u: datetime) -> None:
    stored_t = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    t = t.replace(microsecond=0)
    assert both_paths("t - u", {"t": stored_t, "u": u}, DATES) == t - u
    assert both_paths("t >= u", {"t": stored_t, "u": u}, DATES) == (t >= u)


@settings(max_examples=200, deadline=None)
@given(DAYS, MOMENTS)
def test_a_date_meets_a_datetime_at_site_midnight(a: date, t: datetime) -> None:
    midnight = datetime.combine(a, time(0), SHANGHAI)
    assert both_paths("a < t", {"a": a, "t": t}, DATES) == (midnight < t)
    assert both_paths("t - a", {"a": a, "t": t}, DATES) == t - midnight


def test_months_are_calendar_months_clamped_to_the_month_end() -> None:
    assert evaluate('d"2026-01-31" + 1mo') == date(2026, 2, 28)
    assert evaluate('d"2024-02-29" + 1y') == date(2025, 2, 28)
    assert evaluate('d"2026-03-31" - 1mo') == date(2026, 2, 28)


def test_dates_are_taken_in_the_site_timezone() -> None:
    late_utc = EvalContext(now=datetime(2026, 3, 15, 17, 0, tzinfo=UTC))  # 01:00 on the 16th in Shanghai
    assert evaluate("today()", {}, late_utc) == date(2026, 3, 16)
    assert evaluate('hour(d"2026-03-15T20:00:00Z")', {}, late_utc) == 4
    assert evaluate('todate(d"2026-03-15T20:00:00Z")', {}, late_utc) == date(2026, 3, 16)


def test_naive_datetimes_mean_site_time_and_never_meet_aware_ones_unconverted() -> None:
    data = {"naive": datetime(2026, 3, 16, 8, 0), "aware": datetime(2026, 3, 16, 0, 0, tzinfo=UTC)}
    assert evaluate("naive == aware", data) is True
    assert evaluate('d"2026-03-16 08:00" == d"2026-03-16T00:00:00Z"') is True


def test_stored_json_dates_are_read_as_dates(ctx: EvalContext) -> None:
    compiled = compile_expr("today() - due > 30d and created_at < now()", HAZARD)
    assert compiled.evaluate({"due": "2026-01-01", "created_at": "2026-03-01T00:00:00Z"}, ctx) is True


def test_durations_compare_with_each_other() -> None:
    assert evaluate("90min == 1.5h") is True
    assert evaluate("3mo > 80d") is True
    assert evaluate('in_hours(d"2026-03-02" - d"2026-03-01")') == 24


def test_age_hours_uses_the_context_clock(ctx: EvalContext) -> None:
    compiled = compile_expr('level == "major" and age_hours(created_at) > 24', HAZARD)
    assert compiled.evaluate({"level": "major", "created_at": "2026-03-14T00:00:00Z"}, ctx) is True
    assert compiled.evaluate({"level": "major", "created_at": "2026-03-16T00:00:00Z"}, ctx) is False


# --- membership, ranges, lists, text --------------------------------------------------------------


def test_membership_in_lists_text_and_ranges() -> None:
    assert evaluate('level in ["major", "critical"]', {"level": "major"}) is True
    assert evaluate('"fire" in title', {"title": "wildfire"}) is True
    assert evaluate("x in 1..5", {"x": 5}) is True
    assert evaluate("x in 1..5", {"x": 5.5}) is False
    assert evaluate('due in d"2026-01-01"..d"2026-03-31"', {"due": date(2026, 3, 31)}) is True
    assert evaluate("x in tags", {"x": "a", "tags": None}) is False


def test_subtable_columns_project_and_list_functions_see_element_fields() -> None:
    data = {"measures": [{"cost": 10, "done": True}, {"cost": 5, "done": False}, {"done": False}]}
    assert compile_expr("sum(measures.cost)", HAZARD).evaluate(data) == 15
    assert compile_expr("countif(measures, not done)", HAZARD).evaluate(data) == 2
    assert compile_expr("sumif(measures, done, cost)", HAZARD).evaluate(data) == 10
    assert compile_expr("all(measures, done or cost == null)", HAZARD).evaluate(data) is False
    assert compile_expr("map(filter(measures, cost > 1), cost * 2)", HAZARD).evaluate(data) == [20, 10]


def test_outer_fields_stay_reachable_inside_list_functions() -> None:
    data = {"score": 6, "measures": [{"cost": 10}, {"cost": 5}]}
    assert compile_expr("countif(measures, cost > record.score)", HAZARD).evaluate(data) == 1
    assert compile_expr("countif(measures, cost > score)", HAZARD).evaluate(data) == 1


def test_concatenation_formats_values_like_people_write_them() -> None:
    assert (
        evaluate('"score: " & 3.0 & " / " & true & " / " & d"2026-03-01"') == "score: 3 / true / 2026-03-01"
    )


def test_if_evaluates_only_the_branch_taken() -> None:
    assert evaluate('if(b == 0, "none", a / b > 1)', {"a": 1, "b": 0}) == "none"
    assert evaluate("coalesce(a, 1 / 0)", {"a": 3}) == 3
