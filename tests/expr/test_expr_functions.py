"""The function library: registry contents, documented examples, and individual behaviours."""

from __future__ import annotations

from datetime import date

import pytest

from engine.expr import ExprError, compile_expr, evaluate
from engine.expr.functions import CATEGORIES, all_functions, find_function, names
from tests.expr.expr_support import fixed_context

EXAMPLES = [(spec.name, expr, result) for spec in all_functions() for expr, result in spec.examples]


def test_the_registry_has_at_least_sixty_functions_in_every_category() -> None:
    specs = all_functions()
    assert len(specs) >= 60
    assert {s.category for s in specs} == set(CATEGORIES)


@pytest.mark.parametrize(
    "name",
    [
        "concat",
        "left",
        "right",
        "mid",
        "len",
        "upper",
        "lower",
        "trim",
        "replace",
        "contains",
        "startswith",
        "regexmatch",
        "text",
        "round",
        "roundup",
        "floor",
        "abs",
        "mod",
        "power",
        "sqrt",
        "min",
        "max",
        "sum",
        "average",
        "if",
        "ifs",
        "and",
        "or",
        "not",
        "switch",
        "isblank",
        "coalesce",
        "today",
        "now",
        "date",
        "year",
        "month",
        "day",
        "weekday",
        "datedif",
        "days",
        "hours",
        "workdays",
        "edate",
        "eomonth",
        "count",
        "countif",
        "sumif",
        "unique",
        "join",
        "lookup",
        "any",
        "all",
        "filter",
        "map",
        "reduce",
    ],
)
def test_the_issue_lists_these_functions(name: str) -> None:
    assert find_function(name) is not None


def test_every_function_is_described_in_both_languages_and_typed() -> None:
    for spec in all_functions():
        assert spec.description["en"] and spec.description["zh-CN"], spec.name
        assert spec.result is not None, spec.name
        assert all(p.types for p in spec.params), spec.name


def test_function_names_are_case_insensitive() -> None:
    assert evaluate('UPPER("a")') == evaluate('upper("a")') == evaluate('Upper("a")') == "A"
    assert find_function("CountIf") is find_function("countif")
    assert "networkdays" in names()


@pytest.mark.parametrize(
    ("function", "expression", "expected"), EXAMPLES, ids=[f"{n}:{e}" for n, e, _ in EXAMPLES]
)
def test_documented_examples_hold(function: str, expression: str, expected: str) -> None:
    ctx = fixed_context()
    got = compile_expr(expression).evaluate({}, ctx)
    want = compile_expr(expected).evaluate({}, ctx)
    if isinstance(want, float) or isinstance(got, float):
        assert got == pytest.approx(want), expression
    else:
        assert got == want, expression


def test_most_functions_have_examples() -> None:
    without = [s.name for s in all_functions() if not s.examples]
    assert len(without) <= 3, without


def test_round_rounds_halves_away_from_zero_like_excel() -> None:
    assert evaluate("round(0.5)") == 1
    assert evaluate("round(2.5)") == 3
    assert evaluate("round(1.005, 2)") == 1.01
    assert evaluate("round(-1.5)") == -2


def test_text_formats() -> None:
    assert evaluate('text(1234.5, "#,##0.00")') == "1,234.50"
    assert (
        evaluate('text(d"2026-03-15T20:00:00Z", "YYYY-MM-DD HH:mm")', {}, fixed_context())
        == "2026-03-16 04:00"
    )
    assert evaluate("text(null)") == ""


def test_regex_patterns_that_could_backtrack_forever_are_refused() -> None:
    with pytest.raises(ExprError) as caught:
        evaluate('regexmatch(t, "(a+)+$")', {"t": "a" * 40 + "!"})
    assert caught.value.problems[0].code == "expr.runtime.bad_regex"
    with pytest.raises(ExprError):
        evaluate('regexmatch("a", "[")')


def test_lookup_needs_a_lookup_source() -> None:
    with pytest.raises(ExprError) as caught:
        evaluate('lookup("hazard_level", "major")')
    assert caught.value.problems[0].code == "expr.runtime.no_lookup_source"
    assert (
        evaluate('lookup("hazard_level", level, "label")', {"level": "general"}, fixed_context())
        == "一般隐患"
    )


def test_workdays_use_the_business_calendar() -> None:
    from engine.expr import BusinessCalendar, EvalContext

    # National Day 2025: Oct 1–8 off, Sunday Sep 28 and Saturday Oct 11 worked (调休).
    calendar = BusinessCalendar.from_config(
        {
            "holidays": [f"2025-10-0{d}" for d in range(1, 9)],
            "extra_workdays": ["2025-09-28", "2025-10-11"],
        }
    )
    ctx = EvalContext(calendar=calendar)
    assert evaluate('workday(d"2025-09-30", 1)', {}, ctx) == date(2025, 10, 9)
    assert evaluate('workday(d"2025-09-26", 1)', {}, ctx) == date(2025, 9, 28)
    assert evaluate('workdays(d"2025-09-27", d"2025-10-12")', {}, ctx) == 6
    assert evaluate('isworkday(d"2025-10-11")', {}, ctx) is True


def test_list_functions_on_null_lists_behave_like_empty_lists() -> None:
    assert evaluate("count(x)") == 0
    assert evaluate("any(x, item > 1)") is False
    assert evaluate("all(x, item > 1)") is True
    assert evaluate("filter(x, item > 1)") == []
    assert evaluate("join(x)") == ""


def test_sort_unique_index_and_merge() -> None:
    assert evaluate("sort([3, null, 1], true)") == [3, 1, None]
    assert evaluate("unique([1, 1.0, 2])") == [1, 2]
    assert evaluate("index([7, 8, 9], -1)") == 9
    assert evaluate("index([7, 8, 9], 4)") is None
    assert evaluate("merge([1], [[2]], 3)") == [1, [2], 3]


def test_datedif_units() -> None:
    assert evaluate('datedif(d"2026-01-01", d"2026-03-15", "D")') == 73
    assert evaluate('datedif(d"2026-03-15", d"2026-01-01", "M")') == -2
    assert evaluate('datedif(d"2026-03-01 08:00", d"2026-03-01 10:30", "MIN")') == 150
    with pytest.raises(ExprError):
        evaluate('datedif(d"2026-01-01", d"2026-03-15", "Q")')


def test_date_parts_roll_over_like_excel() -> None:
    assert evaluate("date(2026, 2, 30)") == date(2026, 3, 2)
    assert evaluate("date(2026, 0, 1)") == date(2025, 12, 1)
    assert evaluate('eomonth(d"2024-01-31", 1)') == date(2024, 2, 29)


def test_distance_m_is_the_great_circle_distance_and_null_without_a_position() -> None:
    # Shanghai (People's Square) to Beijing (Tiananmen): about 1,068 km.
    assert evaluate("DISTANCE_M(31.2304, 121.4737, 39.9087, 116.3975)") == pytest.approx(1_067_900, rel=0.005)
    assert evaluate("ROUND(DISTANCE_M(31.23, 121.47, 31.2309, 121.47))") == 100
    assert evaluate("DISTANCE_M(p.lat, p.lng, 31.23, 121.47)", {"p": None}) is None
    with pytest.raises(ExprError) as caught:
        evaluate("DISTANCE_M(91, 121.47, 31.23, 121.47)")
    assert caught.value.problems[0].code == "expr.runtime.bad_value"


def test_holidays_are_the_calendars_not_weekends() -> None:
    from engine.expr import BusinessCalendar, EvalContext

    calendar = BusinessCalendar.from_config({"holidays": ["2026-10-01", "2026-10-02", "2027-01-01"],
                                             "extra_workdays": ["2026-10-10"]})
    ctx = EvalContext(calendar=calendar)
    assert evaluate('isholiday(d"2026-10-01")', {}, ctx) is True
    assert evaluate('isholiday(d"2026-10-03")', {}, ctx) is False  # a Saturday, not a holiday
    assert evaluate('next_holiday(d"2026-10-01")', {}, ctx) == date(2026, 10, 2)
    assert evaluate('workday(next_holiday(d"2026-10-02"), -1)', {}, ctx) == date(2026, 12, 31)
    assert evaluate('next_holiday(d"2027-01-01")', {}, ctx) is None


def test_sum_and_friends_over_a_column_skip_nulls_splice_lists_and_name_the_first_non_number() -> None:
    """The aggregates check a column of plain numbers in one pass and fall back to the value by
    value check otherwise: same results, same errors."""
    from engine.expr.functions.number import average, median, product, sum_
    from engine.expr.listops import get_path

    rows = [{"cost": 2}, {"cost": None}, {}, {"cost": 1.5}, {"cost": [1, None, 2]}]
    column = get_path(rows, ("cost",))
    assert column == [2, None, None, 1.5, 1, None, 2]
    assert sum_(column) == 6.5 and sum_(column, 1, None) == 7.5 and sum_([]) == 0
    assert average(column) == 1.625 and product(column) == 6.0 and median(column) == 1.75
    assert get_path([{"cost": 1}, {"cost": 2}], ("cost",)) == [1, 2]
    for bad, shown in (([1, "2", True], "text"), ([1, True], "(True)"), ([1.0, {"a": 1}], "a")):
        with pytest.raises(ExprError) as caught:
            sum_(bad)
        assert caught.value.problems[0].code == "expr.runtime.type"
        assert shown in caught.value.message("en") and caught.value.message("zh-CN") != caught.value.message("en")
        with pytest.raises(ExprError):
            average(bad)
