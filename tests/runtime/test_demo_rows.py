"""The demo format's `rows` generator (a sub-table's rows), `moment` times and `by` choices, run
directly against a small schema and a stand-in site: what the rows look like, and the checks
that locate a bad row spec."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from engine.expr.types import Schema
from engine.runtime.demo.values import Draw, check_value, generate

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SCHEMA = Schema.of({
    "kind": "text", "planned_start": "datetime", "measures_done": "boolean",
    "gas": [{"sampled_at": "datetime", "point": "text", "flammable_pct": "number", "analyst": "integer"}],
    "measures": [{"key": "text", "involved": "text", "confirmed_by": "integer"}],
    "workers": [{"worker": "integer", "cert_no": "text"}],
}, name="permit")
PEOPLE = {"huang.kai": 9, "xu.jun": 10, "qian.bo": 8}


class FakeWorld:
    """People by username; nothing else is looked up by these generators."""

    def users_with_role(self, role: str) -> list[int]:
        return list(PEOPLE.values())

    def user(self, username: str) -> int | None:
        return PEOPLE.get(username)

    def department(self, path: str) -> int | None:
        return None

    def department_of(self, user_id: int | None) -> int | None:
        return 3 if user_id is not None else None

    def records(self, form: str) -> list[int]:
        return []

    def values(self, form: str, field: str) -> dict[int, Any]:
        return {}

    def image(self, rng: random.Random, owner: int | None, form: str) -> int:
        return 1

    def lookup(self) -> Any:
        return None


def _resolve(key: str, value: Any) -> Any:
    """Row fields of type user take usernames, as in run.DemoRun._resolve."""
    return PEOPLE.get(value, value) if key in ("workers.worker", "gas.analyst") else value


def _draw(data: dict[str, Any] | None = None, seed: int = 7) -> Draw:
    return Draw(random.Random(seed), NOW, UTC, "permit", SCHEMA, FakeWorld(), 8, dict(data or {}),
                resolve=_resolve)


GAS = {
    "rows": {1: 1, 2: 2, 3: 3},
    "sort": "sampled_at",
    "fields": {
        "sampled_at": {"moment": "-20min..-10min",
                       "from": "if(previous == null, now() + MINUTES(8), previous.sampled_at)"},
        "point": {"by": "index", "text": {"0": ["管口"], "*": ["作业点"]}},
        "flammable_pct": {"range": [0.02, 0.15], "decimals": 3},
        "analyst": {"user": "owner"},
    },
}


def test_rows_are_spaced_from_the_row_before_and_sorted() -> None:
    counts = set()
    for seed in range(12):
        given, rows = generate(GAS, _draw(seed=seed), "gas")
        assert given and 1 <= len(rows) <= 3
        counts.add(len(rows))
        times = [row["sampled_at"] for row in rows]
        assert times == sorted(times)
        assert timedelta(minutes=2) <= NOW - times[-1] <= timedelta(minutes=12)  # the newest: shortly before now
        assert all(timedelta(minutes=10) <= b - a <= timedelta(minutes=20) for a, b in pairwise(times))
        assert all(t.second == 0 for t in times)  # to the minute, like a written log
        assert rows[-1]["point"] == "管口" and {r["point"] for r in rows[:-1]} <= {"作业点"}  # index 0 is newest
        assert all(0.02 <= r["flammable_pct"] <= 0.15 and r["analyst"] == 8 for r in rows)
    assert counts == {1, 2, 3}


def test_each_changes_every_row_already_there_and_reads_the_row() -> None:
    measures = [{"key": f"hot_work.{i:02}"} for i in range(1, 9)]
    spec = {"rows": "each", "fields": {"involved": {"choice": {"yes": 3, "no": 1}},
                                       "confirmed_by": {"when": 'involved == "yes"', "user": "owner"}}}
    _given, rows = generate(spec, _draw({"measures": measures}, seed=3), "measures")
    assert [r["key"] for r in rows] == [m["key"] for m in measures]  # the same rows, in order
    assert {r["involved"] for r in rows} == {"yes", "no"}
    assert all((r.get("confirmed_by") == 8) == (r["involved"] == "yes") for r in rows)
    assert measures[0] == {"key": "hot_work.01"}  # the record's own rows are not changed in place


def test_append_keeps_the_rows_there_and_continues_from_the_last() -> None:
    first = {"sampled_at": "2026-11-20T07:00:00+00:00", "point": "管口", "flammable_pct": 0.05, "analyst": 8}
    spec = {"rows": 2, "append": True, "fields": {
        "sampled_at": {"moment": "30min", "from": "previous.sampled_at"},
        "point": {"expr": "previous.point"}, "flammable_pct": 0.04, "analyst": {"user": "owner"}}}
    _given, rows = generate(spec, _draw({"gas": [first]}), "gas")
    assert rows[0] == first and len(rows) == 3
    assert [r["sampled_at"] for r in rows[1:]] == [datetime(2026, 11, 20, 7, 30, tzinfo=UTC),
                                                   datetime(2026, 11, 20, 8, 0, tzinfo=UTC)]
    assert {r["point"] for r in rows} == {"管口"}


def test_rows_pick_by_the_record_resolve_people_and_drop_repeats() -> None:
    spec = {"rows": 6, "unique": "worker", "fields": {
        "worker": {"by": "record.kind", "choice": {"hot_work": ["huang.kai", "xu.jun"], "*": ["qian.bo"]}},
        "cert_no": {"when": 'record.kind == "hot_work"', "expr": '"HG-" & PADLEFT(TEXT(worker), 5, "0")'}}}
    _given, rows = generate(spec, _draw({"kind": "hot_work"}), "workers")
    assert sorted((r["worker"], r["cert_no"]) for r in rows) == [(9, "HG-00009"), (10, "HG-00010")]
    _given, other = generate(spec, _draw({"kind": "height"}), "workers")
    assert other == [{"worker": 8}]


def test_moment_by_an_expression_and_department_of_the_writer() -> None:
    spec = {"by": "kind", "from": "planned_start", "moment": {"hot_work": "4h..8h", "*": {"1d..3d": 1}}}
    start = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    _given, end = generate(spec, _draw({"kind": "hot_work", "planned_start": start}), "planned_end")
    assert timedelta(hours=4) <= end - start <= timedelta(hours=8)
    _given, end = generate(spec, _draw({"kind": "height", "planned_start": start}), "planned_end")
    assert timedelta(days=1) <= end - start <= timedelta(days=3)
    assert generate({"department": "owner"}, _draw(), "applicant_dept") == (True, 3)


def test_bad_row_specs_are_located() -> None:
    def problems(spec: Any, key: str) -> dict[str, str]:
        return dict(check_value(spec, SCHEMA, key))

    assert "rows" in problems({"rows": 2, "fields": {"x": 1}}, "kind")  # not a sub-table
    found = problems({"rows": "two", "sort": "when", "unique": "worker", "append": "yes", "fields": {
        "sampled_at": {"moment": "-5min..-20min"}, "colour": 1, "point": {"expr": "nope + 1"},
        "analyst": {"user": "owner", "speed": 3}}}, "gas")
    assert set(found) == {"rows", "sort", "unique", "append", "fields.sampled_at.moment", "fields.colour",
                          "fields.point.expr", "fields.analyst.speed"}, found
    assert "nope" in found["fields.point.expr"] and "colour" in found["fields.colour"]
    assert problems({"rows": {"1": 2, "x": 1}, "fields": {"point": "a"}}, "gas").keys() == {"rows"}
    assert problems({"rows": 2}, "gas").keys() == {"rows"}  # no fields
    assert problems({"rows": "each", "fields": {"involved": {"when": "previous.involved == 1", "choice": ["yes"]}}},
                    "measures").keys() == {"fields.involved.when"}  # text compared with a number
    assert problems({"choice": ["a"], "by": "kind"}, "kind").keys() == {"choice"}  # by needs value: list
    assert problems({"moment": "1h", "from": "kind"}, "planned_end").keys() == {"from"}  # not a time
    assert problems({"rows": "each", "fields": {"involved": {"choice": ["yes"]}}}, "measures") == {}


def test_a_packs_bad_rows_and_steps_are_located(tmp_path: Any) -> None:
    """`safeflow check` (check_demo) on a copy of the permits pack with mistakes in its demo."""
    import shutil

    from engine.runtime.demo import check_demo
    from engine.runtime.packs.installer import find_pack
    from engine.runtime.packs.source import load_pack

    pack = tmp_path / "permits"
    shutil.copytree(find_pack("permits"), pack)
    spec = pack / "demo" / "permit.yaml"
    text = spec.read_text(encoding="utf-8")
    for old, new in (("      cert_no:\n", "      cert_number:\n"),
                     ("  jsa:\n    rows: \"2..4\"", "  jsa:\n    rows: lots"),
                     ("        - &apply {node: apply,", "        - &apply {node: aply,"),
                     ("point: {text: [作业点,", "point: {expr: \"pointe\", text: [作业点,"),
                     ("          when: certs_ok and now()", "          when: certs_okay and now()")):
        assert old in text, old
        text = text.replace(old, new, 1)
    spec.write_text(text, encoding="utf-8")
    found = {(p.code, p.path): p for p in check_demo(load_pack(pack))}
    assert set(found) >= {
        ("demo.bad_value", "fields.workers.fields.cert_number"),
        ("demo.bad_value", "fields.jsa.rows"),
        ("demo.unknown_node", "flow.paths.0.steps.0.node.0"),
        ("demo.bad_value", "flow.paths.0.steps.2.data.gas.fields.point"),  # two generators on one row field
        ("demo.bad_value", "flow.paths.0.steps.7.when"),
    }, sorted(found)
    assert all(p.file == "permits/demo/permit.yaml" and p.line for p in found.values())
    assert found[("demo.bad_value", "fields.jsa.rows")].line == text[:text.index("rows: lots")].count("\n") + 1
