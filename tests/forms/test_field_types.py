"""Every field type: what it accepts (and stores), what it refuses (and says why)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.forms import load_form
from engine.forms.compiled import compile_form
from engine.forms.fieldtypes import ValueContext, type_names
from engine.forms.validation import prepare

CASCADE = [{"value": "p1", "label": {"zh": "一厂", "en": "Plant 1"}, "children": [
    {"value": "w1", "label": {"zh": "一车间", "en": "Workshop 1"}, "children": [{"value": "l1"}, {"value": "l2"}]}]}]
OPTIONS = [{"value": "a", "label": {"zh": "甲", "en": "Alpha"}}, {"value": "b", "label": {"zh": "乙", "en": "Beta"}}]

# (field definition, [(input, stored)], [(bad input, problem code)])
CASES: list[tuple[dict[str, Any], list[tuple[Any, Any]], list[tuple[Any, str]]]] = [
    ({"type": "text", "max_length": 5}, [(" hi ", "hi"), (12, "12")], [("toolong", "field.too_long"),
                                                                       ({"x": 1}, "field.type")]),
    ({"type": "textarea"}, [("a\r\nb", "a\nb")], [([1], "field.type")]),
    ({"type": "richtext"}, [('<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:x">l</a></p>',
                             '<p>Hi <a rel="noopener noreferrer">l</a></p>')], [(5, "field.type")]),
    ({"type": "number", "min": 0, "decimals": 2}, [("1,200.456", 1200.46), (3, 3)], [("x", "field.type"),
                                                                                    (-1, "field.below_min")]),
    ({"type": "integer"}, [("42", 42), (7.0, 7)], [(1.5, "field.type"), (True, "field.type")]),
    ({"type": "money"}, [("¥1,234.567", 1234.57)], [(-5, "field.below_min"), ("abc", "field.type")]),
    ({"type": "percent"}, [("25%", 0.25), (0.5, 0.5)], [("lots", "field.type")]),
    ({"type": "rating", "max": 5}, [(4, 4)], [(6, "field.above_max"), (2.5, "field.type")]),
    ({"type": "boolean"}, [("是", True), ("no", False), (1, True)], [("maybe", "field.type")]),
    ({"type": "date", "min": "2020-01-01"}, [("2026/11/3", "2026-11-03"), (date(2026, 1, 2), "2026-01-02"),
                                             ("2026年11月22日", "2026-11-22")],
     [("2026-02-30", "field.type"), ("2019-12-31", "field.below_min")]),
    ({"type": "datetime"}, [("2026-11-22 08:30", "2026-11-22T00:30:00Z"),
                            ("2026-11-22T08:30:00Z", "2026-11-22T08:30:00Z"),
                            (datetime(2026, 11, 22, 8, 30), "2026-11-22T00:30:00Z")], [("noon", "field.type")]),
    ({"type": "time"}, [("8:05", "08:05"), (time(17, 30), "17:30")], [("25:00", "field.type")]),
    ({"type": "duration"}, [("1h 30min", 5400), ("2天", 172800), ("01:30", 5400), ("PT2H", 7200),
                            (timedelta(minutes=5), 300)], [("soon", "field.type"), (-5, "field.below_min")]),
    ({"type": "select", "options": OPTIONS}, [("a", "a"), ("Beta", "b"), ("乙", "b")], [("z", "field.not_option")]),
    ({"type": "radio", "options": OPTIONS}, [("甲", "a")], [("c", "field.not_option")]),
    ({"type": "multiselect", "options": OPTIONS, "max_items": 1}, [("Alpha", ["a"]), (["a"], ["a"])],
     [("a, b", "field.too_many"), (["a", "a"], "field.duplicate_item")]),
    ({"type": "checkboxes", "options": OPTIONS}, [("甲、乙", ["a", "b"])], [(["q"], "field.not_option")]),
    ({"type": "cascade", "options": CASCADE},
     [("一厂/一车间/l2", ["p1", "w1", "l2"]), (["p1", "w1", "l1"], ["p1", "w1", "l1"])],
     [(["p1", "w1"], "field.cascade_leaf"), (["p1", "w9", "l1"], "field.cascade_path"),
      ("一厂/二车间", "field.not_option")]),
    ({"type": "email"}, [("Ann@Example.COM", "Ann@example.com")], [("ann@", "field.email")]),
    ({"type": "phone"}, [("138 1234 5678", "13812345678"), ("+86 13812345678", "13812345678"),
                         ("0571-88886666", "0571-88886666")], [("12345", "field.phone")]),
    ({"type": "idcard"}, [("11010519491231002x", "11010519491231002X")],
     [("110105194912310021", "field.idcard_checksum"), ("11010519491331002X", "field.idcard_birth"),
      ("12345", "field.idcard_shape")]),
    ({"type": "url"}, [("https://safeflow.dev/a", "https://safeflow.dev/a")], [("javascript:alert(1)", "field.url")]),
    ({"type": "barcode", "format": "ean13"}, [("4006381333931", "4006381333931")], [("4006381333932", "field.ean13")]),
    ({"type": "user"}, [("7", 7), (3, 3)], [("bob", "field.type"), (0, "field.type")]),
    ({"type": "users"}, [([1, "2", 2], [1, 2])], [("x", "field.type")]),
    ({"type": "department"}, [(5, 5)], [(-1, "field.type")]),
    ({"type": "relation", "form": "area"}, [("#12", 12)], [("north", "field.type")]),
    ({"type": "image", "multiple": True, "max_items": 2}, [([1, 2], [1, 2])], [([1, 2, 3], "field.too_many")]),
    ({"type": "file"}, [(9, 9)], [("a.pdf", "field.type")]),
    ({"type": "signature"}, [(4, 4)], [([1, 2], "field.type")]),
    ({"type": "geo", "max_accuracy": 50}, [("31.2304, 121.4737, 8", {"lat": 31.2304, "lng": 121.4737, "accuracy": 8.0}),
                                           ({"lat": 1, "lng": 2}, {"lat": 1.0, "lng": 2.0})],
     [({"lat": 91, "lng": 0}, "field.above_max"), ({"lat": 1, "lng": 1, "accuracy": 500}, "field.geo_vague"),
      ({"lat": 1, "lng": 1, "x": 1}, "field.geo_extra"), ("here", "field.type")]),
]


def _form(field: dict[str, Any]) -> Any:
    body = {"key": "t", "title": {"zh": "测", "en": "T"}, "fields": [{"key": "v", "label": {"zh": "值", "en": "V"},
                                                                     **field}]}
    return compile_form(load_form(body), 1)


@pytest.mark.parametrize(("field", "good", "bad"), CASES, ids=[c[0]["type"] for c in CASES])
def test_each_field_type_stores_valid_input_in_its_canonical_form(field: dict, good: list, bad: list) -> None:
    compiled = _form(field)
    for raw, stored in good:
        prepared = prepare(compiled, {"v": raw}, value_ctx=ValueContext(tz=ZoneInfo("Asia/Shanghai")))
        assert prepared.problems == [], (raw, prepared.problems)
        assert prepared.data["v"] == stored, raw


@pytest.mark.parametrize(("field", "good", "bad"), CASES, ids=[c[0]["type"] for c in CASES])
def test_each_field_type_refuses_invalid_input_with_a_located_reason(field: dict, good: list, bad: list) -> None:
    compiled = _form(field)
    for raw, code in bad:
        prepared = prepare(compiled, {"v": raw})
        codes = [((p.path or "").split(".")[0], p.code) for p in prepared.problems]
        assert ("v", code) in codes, (raw, codes)
        for p in prepared.problems:
            assert p.message("zh-CN") and p.message("en") and p.message("en") != p.code


def test_the_registry_has_more_than_thirty_types_and_every_one_is_covered() -> None:
    covered = {c[0]["type"] for c in CASES} | {"serial", "formula", "subtable", "section", "divider"}
    assert len(type_names()) >= 30
    assert covered == set(type_names())


def test_empty_values_are_stored_as_absent_not_as_empty_strings() -> None:
    prepared = prepare(_form({"type": "text"}), {"v": "   "})
    assert prepared.data["v"] is None and prepared.problems == []


def test_every_field_types_fast_coercer_gives_what_its_coerce_gives() -> None:
    """`coercer()` answers the usual input directly (the validator's hot loop): for the same
    input it must store the same value, or refuse with the same problem."""
    from engine.forms.fieldtypes import FieldError
    from engine.forms.model import FormDefinition

    fields = [{"type": "number", "key": "n"}, {"type": "number", "key": "d0", "decimals": 0},
              {"type": "money", "key": "m"}, {"type": "number", "key": "d3", "decimals": 3},
              {"type": "integer", "key": "i"}, {"type": "percent", "key": "p"},
              {"type": "text", "key": "t"}, {"type": "select", "key": "s", "options": ["a", "b"]}]
    title = {"zh": "转换", "en": "Coerce"}
    definition = FormDefinition.model_validate({"key": "coerce", "title": title, "fields": fields})
    inputs = [0, 3, -7, 3.0, 2.5, 12.345, 12.355, 1.005, 0.1 + 0.2, 1e20, float("inf"), float("nan"), True,
              "4", " 4.50 ", "", "  ", "a", " b ", "x", None, [1], {"a": 1}]

    def outcome(fn: Any, raw: Any) -> Any:
        try:
            value = fn(raw, ValueContext())
        except FieldError as exc:
            return ("error", exc.code)
        return (type(value).__name__, value)

    for item in definition.value_fields():
        fast = item.coercer()
        for raw in inputs:
            assert outcome(fast, raw) == outcome(item.coerce, raw), (item.key, raw)
