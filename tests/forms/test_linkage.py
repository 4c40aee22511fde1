"""Linkage and formulas: visibility, conditional requirements, read-only states, defaults,
validation rules, option filters — at form level and inside sub-table rows."""

from __future__ import annotations

from typing import Any

from engine.forms import load_form
from engine.forms.compiled import CompiledForm, compile_form
from engine.forms.validation import prepare
from tests.forms.support import HAZARD, hazard, label, with_row_defaults


def _compiled(body: dict[str, Any] = HAZARD) -> CompiledForm:
    return compile_form(load_form(body), 1)


def _codes(prepared: Any) -> set[tuple[str, str]]:
    return {(p.path, p.code) for p in prepared.problems}


def test_a_hidden_field_is_not_required_and_keeps_no_value() -> None:
    prepared = prepare(_compiled(), {"title": "a", "level": "general", "due": "2026-01-01"})
    assert prepared.problems == []
    assert "due" not in prepared.data
    assert prepared.evaluation.states["due"].visible is False


def test_a_shown_required_field_is_required() -> None:
    prepared = prepare(_compiled(), {"title": "a", "level": "major", "due": None})
    assert ("due", "field.required") in _codes(prepared)


def test_an_expression_default_fills_a_new_record() -> None:
    prepared = prepare(_compiled(), {"title": "a", "level": "major"})
    assert prepared.problems == [] and prepared.data["due"] > "2000-01-01"


def test_required_if_and_visible_if_work_inside_each_sub_table_row() -> None:
    prepared = prepare(_compiled(), {"title": "a", "measures": [
        {"action": "x", "qty": 0, "price": 5},
        {"action": "y", "qty": 2},
        {"action": "z", "qty": 1, "price": 3}]})
    assert _codes(prepared) == {("measures[1].price", "field.required")}
    rows = prepared.data["measures"]
    assert "price" not in rows[0]  # hidden in that row only
    assert rows[2]["cost"] == 3
    assert prepared.evaluation.states["measures[0].price"].visible is False
    assert prepared.evaluation.states["measures[2].price"].required is True


def test_row_conditions_can_read_the_form_through_record() -> None:
    body = hazard()
    body["fields"][8]["fields"].append({"type": "text", "key": "approver", "label": label("审批人"),
                                        "visible_if": 'record.level == "major"', "required": True})
    compiled = _compiled(body)
    general = prepare(compiled, {"title": "a", "measures": [{"action": "x"}]})
    major = prepare(compiled, {"title": "a", "level": "major", "measures": [{"action": "x"}]})
    assert general.problems == []
    assert ("measures[0].approver", "field.required") in _codes(major)


def test_a_form_formula_aggregates_row_formulas() -> None:
    prepared = prepare(_compiled(), {"title": "a", "measures": [{"action": "x", "qty": 2, "price": 3},
                                                                 {"action": "y", "qty": 1, "price": 4.5}]})
    assert prepared.data["total"] == 10.5


def test_formulas_run_in_dependency_order_not_definition_order() -> None:
    body = hazard(title_field=None)
    body["fields"] = [
        {"type": "formula", "key": "doubled", "label": label("二倍"), "expr": "base * 2"},
        {"type": "formula", "key": "base", "label": label("基数"), "expr": "n + 1"},
        {"type": "number", "key": "n", "label": label("数")},
    ]
    assert prepare(_compiled(body), {"n": 4}).data == {"n": 4, "base": 5, "doubled": 10}


def test_validation_rules_refuse_with_their_own_message_in_both_languages() -> None:
    body = hazard()
    body["fields"][4]["validate"] = [{"expr": "l <= e", "message": label("可能性不能大于暴露", "L cannot exceed E")}]
    prepared = prepare(_compiled(body), {"title": "a", "l": 5, "e": 2})
    (problem,) = prepared.problems
    assert problem.path == "l"
    assert (problem.message("en"), problem.message("zh-CN")) == ("L cannot exceed E", "可能性不能大于暴露")


def test_readonly_if_locks_a_field_on_update_once_its_condition_holds() -> None:
    body = hazard()
    body["fields"][1]["readonly_if"] = 'level == "major"'
    compiled = _compiled(body)
    before = prepare(compiled, {"title": "a", "level": "major"}).data
    prepared = prepare(compiled, {"title": "changed"}, before=before)
    assert ("title", "record.field_readonly") in _codes(prepared)
    assert prepare(compiled, {"title": before["title"], "l": 1}, before=before).problems == []


def test_an_options_filter_narrows_the_choices_by_the_record() -> None:
    body = hazard()
    body["fields"] += [
        {"type": "select", "key": "area", "label": label("区域"), "options": ["north", "south"]},
        {"type": "select", "key": "workshop", "label": label("车间"), "options_filter": "option.parent == area",
         "options": [{"value": "n1", "parent": "north"}, {"value": "n2", "parent": "north"},
                     {"value": "s1", "parent": "south"}]},
    ]
    compiled = _compiled(body)
    good = prepare(compiled, {"title": "a", "area": "north", "workshop": "n2"})
    bad = prepare(compiled, {"title": "a", "area": "south", "workshop": "n2"})
    assert good.problems == [] and good.evaluation.states["workshop"].options == ["n1", "n2"]
    assert ("workshop", "field.option_filtered") in _codes(bad)


def test_a_section_condition_hides_every_field_in_the_section() -> None:
    body = hazard()
    body["fields"][4:4] = [{"type": "section", "key": "lec", "label": label("风险评价"),
                            "visible_if": 'level == "major"'}]
    compiled = _compiled(body)
    prepared = prepare(compiled, {"title": "a", "l": 3, "e": 3, "c": 3})
    assert all(k not in prepared.data for k in ("l", "e", "c"))
    assert prepared.data.get("score") is None


def test_a_division_by_zero_in_a_formula_gives_an_empty_value_not_an_error() -> None:
    body = hazard()
    body["fields"].append({"type": "formula", "key": "ratio", "label": label("比"), "expr": "l / e"})
    prepared = prepare(_compiled(body), {"title": "a", "l": 1, "e": 0})
    assert prepared.problems == [] and prepared.data["ratio"] is None


def test_a_formula_that_fails_at_run_time_is_a_located_problem() -> None:
    body = hazard()
    body["fields"].append({"type": "formula", "key": "bad", "label": label("坏"), "expr": "date(l * 100000, 1, 1)"})
    prepared = prepare(_compiled(body), {"title": "a", "l": 1})
    assert ("bad", "record.expr_failed") in _codes(prepared)


def test_a_duration_field_reads_as_a_duration_in_formulas() -> None:
    body = hazard()
    body["fields"] += [
        {"type": "duration", "key": "spent", "label": label("耗时")},
        {"type": "formula", "key": "over", "label": label("超时"), "expr": "spent > 2h"},
        {"type": "formula", "key": "twice", "label": label("两倍"), "expr": "spent * 2"},
    ]
    prepared = prepare(_compiled(body), {"title": "a", "spent": "3h"})
    assert prepared.problems == []
    assert (prepared.data["spent"], prepared.data["over"], prepared.data["twice"]) == (10800, True, 21600)


def test_rows_an_update_adds_get_their_defaults_and_row_formulas() -> None:
    compiled = _compiled(with_row_defaults())
    created = prepare(compiled, {"title": "a", "l": 2, "measures": [{"action": "x"}, {"action": "y", "state": None}]})
    assert created.problems == []
    stored = created.data
    assert [row.get("state") for row in stored["measures"]] == ["open", None]
    rows = [*stored["measures"], {"action": "z"}]
    updated = prepare(compiled, {"measures": rows}, before=stored)
    assert updated.problems == []
    added = updated.data["measures"][2]
    assert (added["state"], added["weight"], added["open_cost"]) == ("open", 3, 30)
    assert updated.data["measures"][:2] == stored["measures"]  # the emptied state stays empty


def test_a_stored_row_sent_back_in_another_place_is_not_new() -> None:
    compiled = _compiled(with_row_defaults())
    stored = prepare(compiled, {"title": "a", "measures": [{"action": "x", "state": None},
                                                           {"action": "y"}]}).data
    rows = [{"action": "new"}, stored["measures"][1], stored["measures"][0]]
    updated = prepare(compiled, {"measures": rows}, before=stored)
    assert [row.get("state") for row in updated.data["measures"]] == ["open", "open", None]


def test_an_update_leaves_row_defaults_alone_when_the_rows_are_not_sent() -> None:
    compiled = _compiled(with_row_defaults())
    stored = prepare(compiled, {"title": "a", "measures": [{"action": "x", "state": None}]}).data
    updated = prepare(compiled, {"title": "b"}, before=stored)
    assert updated.data["measures"] == stored["measures"]
    assert updated.changed == ["title"]
