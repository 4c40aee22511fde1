"""Aggregates: binding outer values, the in-memory data source, and clear errors without one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import (
    BoundAggregate,
    EvalContext,
    ExprError,
    MemoryDataSource,
    Schema,
    bind,
    compile_expr,
    parse,
    unparse,
)
from engine.expr.values import CalendarDuration
from tests.expr.expr_support import HAZARD, NOW

READING = Schema.of({"sensor": "text", "value": "number", "ts": "datetime"}, name="reading")
FORMS = {"hazard": HAZARD, "reading": READING}.get


def rows() -> dict[str, list[dict[str, object]]]:
    def hazard(
        area: str, category: str, days_ago: float, status: str = "open", score: float = 1
    ) -> dict[str, object]:
        created = (NOW - timedelta(days=days_ago)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "area": {"name": area},
            "category": category,
            "status": status,
            "score": score,
            "created_at": created,
            "reported_at": created,
        }

    readings = [
        {"sensor": "S1", "value": v, "ts": f"2026-03-16T0{i}:00:00Z"} for i, v in enumerate([5, 9, 12, 13])
    ]
    return {
        "hazard": [
            hazard("A", "fire", 1),
            hazard("A", "fire", 3, score=4),
            hazard("A", "gas", 2),
            hazard("A", "fire", 20),
            hazard("B", "fire", 1, status="closed"),
        ],
        "reading": readings,
    }


def ctx(source: MemoryDataSource | None = None) -> EvalContext:
    return EvalContext(now=NOW, data_source=source or MemoryDataSource(rows()))


def test_count_within_a_window_over_the_same_area() -> None:
    compiled = compile_expr(
        "count(hazard where area.name == record.area.name and category == record.category, within 7d) > 1",
        HAZARD,
        resolve_form=FORMS,
    )
    assert compiled.evaluate({"area": {"name": "A"}, "category": "fire"}, ctx()) is True
    assert compiled.evaluate({"area": {"name": "B"}, "category": "fire"}, ctx()) is False


def test_bound_aggregate_has_literals_instead_of_outer_references() -> None:
    compiled = compile_expr(
        "count(hazard where area.name == record.area.name and score > 2, within 7d) > 0",
        HAZARD,
        resolve_form=FORMS,
    )
    bound = bind(compiled.aggregates[0], {"area": {"name": "A"}}, EvalContext(now=NOW))
    assert isinstance(bound, BoundAggregate)
    assert unparse(bound.where) == 'area.name == "A" and score > 2'
    assert bound.within == timedelta(days=7)
    assert bound.since == NOW - timedelta(days=7)
    assert (bound.function, bound.form, bound.field) == ("count", "hazard", None)
    assert bound.to_dict()["where"] == 'area.name == "A" and score > 2'


def test_sum_avg_min_max_exists() -> None:
    c = ctx()
    assert (
        compile_expr('sum(hazard.score where category == "fire")', HAZARD, resolve_form=FORMS).evaluate({}, c)
        == 7
    )
    assert compile_expr('avg(hazard.score where category == "fire")', HAZARD, resolve_form=FORMS).evaluate(
        {}, c
    ) == pytest.approx(7 / 4)
    assert compile_expr("max(hazard.score where true)", HAZARD, resolve_form=FORMS).evaluate({}, c) == 4
    assert (
        compile_expr('exists(hazard where status == "closed")', HAZARD, resolve_form=FORMS).evaluate({}, c)
        is True
    )
    assert (
        compile_expr('min(hazard.score where status == "none")', HAZARD, resolve_form=FORMS).evaluate({}, c)
        is None
    )


def test_consecutive_readings_over_the_threshold() -> None:
    schema = READING.with_variables(r={"sensor": "text", "threshold": "number"})
    text = "consecutive(n, reading where sensor == r.sensor, value > r.threshold, order by ts)"
    for n, threshold, expected in [(2, 10, True), (3, 10, False), (3, 8, True), (5, 0, False)]:
        compiled = compile_expr(text.replace("n,", f"{n},"), schema, resolve_form=FORMS)
        c = ctx().with_variables(r={"sensor": "S1", "threshold": threshold})
        assert compiled.evaluate({}, c) is expected, (n, threshold)


def test_a_formula_without_a_data_source_gets_a_clear_error() -> None:
    compiled = compile_expr("count(hazard where true) > 1", HAZARD, resolve_form=FORMS)
    with pytest.raises(ExprError) as caught:
        compiled.evaluate({}, EvalContext(now=NOW))
    assert caught.value.problems[0].code == "expr.runtime.no_data_source"
    assert "never touches the database" in caught.value.message("en")


def test_row_column_is_isolated_for_index_friendly_queries() -> None:
    text = 'exists(hazard where status == "open" and now() - reported_at > 24h)'
    compiled = compile_expr(text, HAZARD.with_variables(), resolve_form={"hazard": HAZARD}.get)
    bound = bind(compiled.aggregates[0], {}, EvalContext(now=NOW))
    assert unparse(bound.where) == 'status == "open" and reported_at < d"2026-03-15T10:00:00+08:00"'


@pytest.mark.parametrize(
    ("where", "bound"),
    [
        ("score + 2 > 5", "score > 3"),
        ("score - 2 >= 5", "score >= 7"),
        ("10 - score < 4", "score > 6"),
        ("5 < score + 1", "score > 4"),
        ('due + 7d <= d"2026-03-20"', 'due <= d"2026-03-13"'),
    ],
)
def test_isolating_rewrites(where: str, bound: str) -> None:
    aggregate = parse(f"count(hazard where {where})")
    assert unparse(bind(aggregate, {}, EvalContext(now=NOW)).where) == bound  # type: ignore[arg-type]


def test_month_windows_stay_calendar_months() -> None:
    aggregate = parse("count(hazard where true, within 3mo)")
    bound = bind(aggregate, {}, EvalContext(now=NOW))  # type: ignore[arg-type]
    assert bound.within == CalendarDuration(3)
    assert bound.since == datetime(2025, 12, 16, 10, 0, tzinfo=NOW.tzinfo)


def test_aggregates_inside_list_functions_see_the_element() -> None:
    schema = Schema.of({"areas": "list[text]"})
    text = "filter(areas, count(hazard where area.name == item) > 2)"
    compiled = compile_expr(text, schema, resolve_form=FORMS)
    assert compiled.evaluate({"areas": ["A", "B"]}, ctx()) == ["A"]


def test_nested_aggregates_over_outer_values_are_folded_first() -> None:
    source = MemoryDataSource(rows())
    text = 'count(hazard where score >= max(hazard.score where category == "fire"))'
    assert compile_expr(text, HAZARD, resolve_form=FORMS).evaluate({}, ctx(source)) == 1
    assert [b.function for b in source.asked] == ["max", "count"]


def test_explanations_include_the_bound_question() -> None:
    compiled = compile_expr(
        "count(hazard where category == record.category) >= 3", HAZARD, resolve_form=FORMS
    )
    explanation = compiled.explain({"category": "fire"}, ctx()).to_dict()
    aggregate = explanation["children"][0]
    assert aggregate["value"] == 4
    assert aggregate["detail"]["where"] == 'category == "fire"'


def test_bind_works_on_a_bare_aggregate_node() -> None:
    aggregate = parse("count(hazard where area == record.area, within 1w)")
    bound = bind(aggregate, {"area": "A"}, EvalContext(now=NOW))  # type: ignore[arg-type]
    assert unparse(bound.where) == 'area == "A"'


@pytest.mark.parametrize(
    "where",
    [
        'due + 36h <= d"2026-03-20"',
        "score + 0.1 > 0.3",
        'due + 1mo > d"2026-03-31"',
        'd"2026-03-20" - due > 36h',
    ],
)
def test_inexact_rewrites_are_left_alone(where: str) -> None:
    aggregate = parse(f"count(hazard where {where})")
    assert unparse(bind(aggregate, {}, EvalContext(now=NOW)).where) == where  # type: ignore[arg-type]


SHAPES = [
    "n + {k} {op} {r}",
    "n - {k} {op} {r}",
    "{k} - n {op} {r}",
    "{k} + n {op} {r}",
    'day + {kd}d {op} d"2026-03-{dd:02d}"',
    'd"2026-03-{dd:02d}" - day {op} {kd}d',
    'at - {kh}h {op} d"2026-03-16T{hh:02d}:00:00Z"',
    "now() - at {op} {kh}h",
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SHAPES),
    st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    st.integers(-5, 5),
    st.integers(-5, 5),
    st.integers(0, 10),
    st.integers(1, 28),
    st.integers(0, 48),
    st.integers(0, 23),
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-10, 10)),
            st.one_of(st.none(), st.integers(1, 28)),
            st.one_of(st.none(), st.integers(0, 72)),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_isolating_never_changes_which_rows_match(
    shape: str,
    op: str,
    k: int,
    r: int,
    kd: int,
    dd: int,
    kh: int,
    hh: int,
    raw_rows: list[tuple[int | None, int | None, int | None]],
) -> None:
    where = shape.format(op=op, k=k, r=r, kd=kd, dd=dd, kh=kh, hh=hh)
    rows = [
        {
            "n": n,
            "day": None if d is None else f"2026-03-{d:02d}",
            "at": None
            if h is None
            else (NOW - timedelta(hours=h)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for n, d, h in raw_rows
    ]
    schema = Schema.of({"n": "integer", "day": "date", "at": "datetime"})
    ctx = EvalContext(now=NOW)
    direct = compile_expr(where, schema)
    bound = bind(parse(f"count(hazard where {where})"), {}, ctx)  # type: ignore[arg-type]
    rewritten = compile_expr(bound.where)  # type: ignore[arg-type]
    for row in rows:
        assert (direct.evaluate(row, ctx) is True) == (rewritten.evaluate(row, ctx) is True), (
            where,
            row,
            unparse(bound.where),
        )
