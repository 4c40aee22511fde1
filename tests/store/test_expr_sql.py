"""Bound expressions pushed down to SQL answer exactly what the Python evaluation answers.

Runs on SQLite always, and on PostgreSQL when SAFEFLOW_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, Engine, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects.postgresql import JSONB

from engine.expr import EvalContext, ExprError, Schema, bind, compile_expr, evaluate, parse
from engine.store.expr_sql import column_map, to_sql

METADATA = MetaData()
RECORDS = Table(
    "expr_sql_records",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("form", String(40)),
    Column("data", JSON().with_variant(JSONB(), "postgresql")),
)
FIELDS = {
    "area": "text",
    "level": "text",
    "score": "number",
    "n": "integer",
    "done": "boolean",
    "due": "date",
    "created_at": "datetime",
    "title": "text",
}
SCHEMA = Schema.of(FIELDS)

ROWS: list[dict[str, Any]] = [
    {
        "area": "A",
        "level": "major",
        "score": 3.5,
        "n": 3,
        "done": True,
        "due": "2026-03-01",
        "created_at": "2026-03-10T08:00:00Z",
        "title": "Gas leak near tank",
    },
    {
        "area": "B",
        "level": "general",
        "score": 10,
        "n": -2,
        "done": False,
        "due": "2026-04-15",
        "created_at": "2026-03-15T23:30:00Z",
        "title": "fire exit blocked",
    },
    {
        "area": "A",
        "level": None,
        "score": None,
        "n": 0,
        "done": None,
        "due": None,
        "created_at": None,
        "title": "",
    },
    {
        "area": "a",
        "level": "major",
        "score": 0,
        "n": 7,
        "done": False,
        "due": "2026-03-16",
        "created_at": "2026-01-01T00:00:00Z",
        "title": "   ",
    },
    {},
    {
        "area": "Zed",
        "level": "minor",
        "score": -1.25,
        "n": 1,
        "done": True,
        "due": "2025-12-31",
        "created_at": "2026-03-16T02:00:00Z",
        "title": "Ladder, broken",
    },
]


ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not os.environ.get("SAFEFLOW_TEST_DATABASE_URL"),
                reason="set SAFEFLOW_TEST_DATABASE_URL=postgresql+psycopg://… to run on PostgreSQL",
            ),
        ],
    ),
]


@pytest.fixture(scope="module", params=ENGINES)
def db(request: pytest.FixtureRequest) -> Iterator[Engine]:
    name = request.param
    # PostgreSQL: this xdist worker's own database (conftest's pg_worker_url), never the shared one.
    engine = (
        create_engine("sqlite://")
        if name == "sqlite"
        else create_engine(request.getfixturevalue("pg_worker_url"))
    )
    METADATA.drop_all(engine)
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            RECORDS.insert(), [{"id": i, "form": "hazard", "data": row} for i, row in enumerate(ROWS)]
        )
    yield engine
    METADATA.drop_all(engine)
    engine.dispose()


def column_for(path: str) -> Any:
    return RECORDS.c.data[path]


def sql_ids(db: Engine, text: str, schema: Schema | None = SCHEMA) -> list[int]:
    clause = to_sql(parse(text), column_for, dialect_name=db.dialect.name, schema=schema)
    with db.connect() as conn:
        return [r[0] for r in conn.execute(select(RECORDS.c.id).where(clause).order_by(RECORDS.c.id))]


def python_ids(text: str) -> list[int]:
    compiled = compile_expr(text, SCHEMA)
    return [i for i, row in enumerate(ROWS) if compiled.evaluate(row) is True]


CONDITIONS = [
    'area == "A"',
    'area != "A"',
    'not (area == "A")',
    "area == null",
    "area != null",
    "score > 3",
    "score <= 3",
    "not (score > 3)",
    "score >= 0 and score < 5",
    'score > 3 or level == "major"',
    'not (score > 3 or level == "major")',
    'not (score > 3 and level == "major")',
    'level in ["major", "minor"]',
    'level not in ["major"]',
    'level in ["major", null]',
    'level not in ["major", null]',
    "n in 0..3",
    "n not in 0..3",
    "score in -2..3.5",
    "done",
    "not done",
    "done == false",
    "isblank(title)",
    "not isblank(title)",
    'contains(title, "fire")',
    'not contains(title, "fire")',
    '"leak" in title',
    'startswith(title, "Gas")',
    'not startswith(title, "Gas")',
    'lower(area) == "a"',
    'upper(level) == "MAJOR"',
    "len(title) > 3",
    "len(title) == 0",
    'due < d"2026-03-16"',
    'due >= d"2026-03-16"',
    'not (due >= d"2026-03-16")',
    'due in d"2026-03-01"..d"2026-03-31"',
    'created_at > d"2026-03-15T00:00:00Z"',
    'created_at <= d"2026-03-16 10:00"',
    "score * 2 > 5",
    "score / 2 >= 1.75",
    "score + n > 5",
    "n - 1 < 0",
    "-score > 0",
    "score / 0 > 1",
    'area < "B"',
    'area > "Z"',
    "true",
    "false",
    "null == null",
    'level == level and area != "B"',
]


@pytest.mark.parametrize("text", CONDITIONS)
def test_sql_selects_exactly_the_rows_python_selects(db: Engine, text: str) -> None:
    assert sql_ids(db, text) == python_ids(text)


def test_without_a_schema_literals_decide_the_column_types(db: Engine) -> None:
    for text in ['area == "A"', "score > 3", 'not (level == "major")', 'due < d"2026-03-16"']:
        assert sql_ids(db, text, schema=None) == python_ids(text)


def test_a_bound_aggregate_condition_runs_as_sql(db: Engine) -> None:
    hazard = Schema.of({**FIELDS})
    compiled = compile_expr(
        "count(hazard where area == record.area and now() - created_at < 7d) > 0",
        hazard,
        resolve_form={"hazard": hazard}.get,
    )
    now = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
    bound = bind(compiled.aggregates[0], {"area": "A"}, EvalContext(now=now))
    clause = to_sql(bound.where, column_for, dialect_name=db.dialect.name, schema=hazard)  # type: ignore[arg-type]
    with db.connect() as conn:
        ids = [r[0] for r in conn.execute(select(RECORDS.c.id).where(clause).order_by(RECORDS.c.id))]
    assert ids == [0]


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ('regexmatch(title, "a+")', "REGEXMATCH"),
        ("score % 2 == 1", "%"),
        ("created_at + 1d > now()", "duration"),
        ('title & "x" == "a"', "&"),
        ("tags in [[1]]", "'in'"),
    ],
)
def test_constructs_without_a_faithful_sql_form_are_refused_by_name(text: str, construct: str) -> None:
    with pytest.raises(ExprError) as caught:
        to_sql(parse(text), column_for, dialect_name="sqlite")
    assert caught.value.problems[0].code == "expr.runtime.not_pushable"
    assert construct in caught.value.message("en")


def test_column_map_refuses_unknown_fields() -> None:
    columns = column_map({"area": RECORDS.c.data["area"]})
    with pytest.raises(ExprError):
        to_sql(parse('level == "x"'), columns)


def test_date_literals_use_the_canonical_stored_formats() -> None:
    clause = to_sql(parse('due < d"2026-03-16" and created_at < d"2026-03-16 08:00"'), column_for)
    values = set(clause.compile().params.values())
    assert {"2026-03-16", "2026-03-16T00:00:00Z"} <= values  # naive literals mean site time


# --- generated conditions: SQL and Python agree --------------------------------------------------

ATOMS = st.sampled_from(
    [
        'area == "A"',
        "area == null",
        "score > 1",
        "score <= 0",
        "n >= 1",
        "n in -1..3",
        'level in ["major", "minor"]',
        "done",
        'due < d"2026-03-10"',
        'created_at >= d"2026-03-10T00:00:00Z"',
        "isblank(title)",
        'contains(title, "e")',
        "score + n > 3",
        "level != null",
        'startswith(area, "Z")',
    ]
)


def conditions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda t: f"({t[0]} and {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} or {t[1]})"),
            inner.map(lambda t: f"not ({t})"),
        )

    return st.recursive(ATOMS, extend, max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conditions())
def test_generated_conditions_agree_between_sql_and_python(db: Engine, text: str) -> None:
    assert sql_ids(db, text) == python_ids(text), text


def test_python_reference_rows_cover_nulls_and_missing_keys() -> None:
    assert evaluate("count(rows)", {"rows": ROWS}) == len(ROWS)
    assert any(not row for row in ROWS) and any(v is None for row in ROWS for v in row.values())
    assert date(2026, 3, 16)  # the clock-free conditions above use fixed literals only


def test_a_datetime_literal_against_a_real_timestamp_column_compares_as_time(site: Any) -> None:
    """created_at is a real column whose stored text differs per backend ("… 08:00:00" on SQLite):
    literals are bound through its type, so the comparison is by time, not by text."""
    from datetime import timedelta

    from engine.store.models import Record

    morning = datetime(2026, 3, 16, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    with site.session() as session:
        for i, at in enumerate((morning, morning + timedelta(hours=1))):
            session.add(Record(form="t", form_version=1, data={"n": i}, created_at=at, updated_at=at))
    columns = column_map({"created_at": Record.created_at})
    with site.session() as session:
        def count(text: str) -> int:
            clause = to_sql(parse(text), columns, dialect_name=site.db.dialect)
            return len(session.execute(select(Record.id).where(Record.form == "t", clause)).all())

        assert count('created_at >= d"2026-03-16 09:00"') == 1  # site time: 01:00 UTC
        assert count('created_at >= d"2026-03-16T00:30:00Z"') == 2
        assert count('created_at > d"2026-03-16T00:30:00Z"') == 1
        assert count('created_at >= d"2026-03-16"') == 2  # midnight in Shanghai
        assert count('created_at < d"2026-03-16"') == 0
