"""Every problem of a record with a sub-table, in order, with its cell path and its message in
both languages: the validator's fast paths (columns required in every row, row formulas sharing
one state) must report exactly what the cell-by-cell walk reports."""

from __future__ import annotations

import copy
from typing import Any

from engine.forms import load_form
from engine.forms.compiled import compile_form
from engine.forms.validation import prepare


def L(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


FORM: dict[str, Any] = {
    "key": "rows_check", "title": L("明细检查", "Rows check"), "fields": [
        {"type": "text", "key": "title", "label": L("标题", "Title"), "required": True},
        {"type": "number", "key": "rate", "label": L("税率", "Rate")},
        {"type": "subtable", "key": "items", "label": L("明细", "Items"), "max_rows": 10, "fields": [
            {"type": "text", "key": "what", "label": L("内容", "What"), "required": True, "max_length": 5},
            {"type": "number", "key": "qty", "label": L("数量", "Qty"), "min": 0},
            {"type": "money", "key": "price", "label": L("单价", "Price"), "visible_if": "qty > 0",
             "required_if": "qty > 0"},
            {"type": "formula", "key": "cost", "label": L("金额", "Cost"), "expr": "qty * price"},
            {"type": "formula", "key": "share", "label": L("每单位", "Per unit"), "expr": "price / (qty - 1)",
             "decimals": 2},
            {"type": "formula", "key": "taxed", "label": L("含税", "Taxed"), "expr": "cost * (1 + record.rate)"}]},
        {"type": "formula", "key": "total", "label": L("合计", "Total"), "expr": "sum(items.cost)"},
    ]}


def _prepared(rows: list[dict[str, Any]], **top: Any) -> Any:
    return prepare(compile_form(load_form(FORM), 1), {"rate": 0.1, "items": rows, **top})


def test_every_problem_is_reported_at_its_cell_in_order() -> None:
    prepared = _prepared([
        {"what": "ok", "qty": 2, "price": 3},
        {"qty": 1},                                   # no what, no price although qty > 0
        {"what": "far too long", "qty": "many"},      # too long; qty not a number
        {"what": "", "qty": 0, "price": 9, "nope": 1},  # empty what; price hidden; unknown column
        {"what": "x", "qty": 3, "price": 0},
    ])
    assert [(p.path, p.code) for p in prepared.problems] == [
        ("items[2].qty", "field.type"),
        ("items[3].nope", "record.unknown_field"),
        ("title", "field.required"),
        ("items[1].what", "field.required"),
        ("items[3].what", "field.required"),
        ("items[1].price", "field.required"),
        ("items[2].what", "field.too_long"),
    ]
    messages = {p.path: (p.message("zh-CN"), p.message("en")) for p in prepared.problems}
    assert messages["items[1].what"] == ("必填", "Required")
    assert messages["items[2].qty"][1].startswith("Expected a number")
    assert messages["items[3].nope"] == ("表单中没有字段“nope”", "The form has no field “nope”")
    rows = prepared.data["items"]
    assert [row.get("cost") for row in rows] == [6, None, None, None, 0]
    assert [row.get("share") for row in rows] == [3, None, None, None, 0]
    assert rows[0]["taxed"] == 6.6000000000000005 and prepared.data["total"] == 6
    assert "price" not in rows[3]


def test_row_states_are_shared_by_plain_columns_and_set_per_cell_where_conditional() -> None:
    prepared = _prepared([{"what": "a", "qty": 1, "price": 2}, {"what": "b", "qty": 0}], title="t")
    states = prepared.evaluation.states
    assert prepared.problems == []
    assert states["items[0].cost"] is states["items[1].cost"]
    assert states["items[0].cost"].readonly and not states["items[0].cost"].required
    assert states["items[0].what"].required and states["items[1].what"].visible
    assert (states["items[0].price"].visible, states["items[0].price"].required) == (True, True)
    assert (states["items[1].price"].visible, states["items[1].price"].required) == (False, False)
    assert [k for k in states if k.startswith("items[0]")] == [
        "items[0].what", "items[0].qty", "items[0].price", "items[0].cost", "items[0].share", "items[0].taxed"]


def test_a_formula_failing_in_a_row_is_named_at_that_cell_in_both_languages() -> None:
    body = copy.deepcopy(FORM)
    body["fields"][2]["fields"] += [
        {"type": "integer", "key": "month", "label": L("月", "Month")},
        {"type": "formula", "key": "when", "label": L("日期", "When"), "expr": "date(2025 + month, 1, 1)"}]
    rows = [{"what": "a", "qty": 1, "price": 3, "month": 1}, {"what": "b", "qty": 2, "price": 4, "month": 99999},
            {"what": "c", "qty": 5, "month": 99999}]
    prepared = prepare(compile_form(load_form(body), 1), {"title": "t", "rate": 0, "items": rows})
    assert [(p.path, p.code) for p in prepared.problems] == [
        ("items[1].when", "record.expr_failed"), ("items[2].when", "record.expr_failed"),
        ("items[2].price", "field.required")]
    detail = prepared.problems[0].params["detail"]
    assert detail["en"] and detail["zh-CN"] and detail["en"] != detail["zh-CN"]
    assert [row.get("when") for row in prepared.data["items"]] == ["2026-01-01", None, None]


def test_a_row_formula_column_stores_what_the_row_by_row_walk_stores() -> None:
    """Columns of plain results are stored at once; a column with an infinite number or a date
    goes row by row, converting (inf → empty, date → ISO text); a failing row: the test above."""
    body = copy.deepcopy(FORM)
    body["fields"][2]["fields"] += [
        {"type": "formula", "key": "huge", "label": L("极大", "Huge"), "expr": "qty * 1e308 * 10"},
        {"type": "formula", "key": "day", "label": L("日", "Day"), "expr": "date(2026, 1, 1) + 1d"},
        {"type": "formula", "key": "half", "label": L("半", "Half"), "expr": "qty / 2"},
        {"type": "formula", "key": "named", "label": L("名", "Named"), "expr": 'what & "!"'}]
    rows = [{"what": "a", "qty": 1, "price": 1}, {"what": "b", "qty": 0}, {"what": "c", "qty": 40, "price": 2}]
    prepared = prepare(compile_form(load_form(body), 1), {"title": "t", "rate": 0, "items": rows})
    out = prepared.data["items"]
    assert [r["huge"] for r in out] == [None, 0.0, None]
    assert [r["day"] for r in out] == ["2026-01-02"] * 3
    assert [r["half"] for r in out] == [0.5, 0.0, 20.0]
    assert [r["named"] for r in out] == ["a!", "b!", "c!"]
    assert prepared.problems == []
