"""JSON Logic import: converted rules behave as JSON Logic documents (jsonlogic.com/operations)
and as JavaScript's coercions dictate where the documentation defers to them."""

from __future__ import annotations

from typing import Any

import pytest

from engine.expr import ExprError, compile_expr, evaluate, from_jsonlogic
from engine.expr.functions.jsonlogic import truthy

PIES = {
    "pies": [
        {"filling": "pumpkin", "temp": 110},
        {"filling": "rhubarb", "temp": 210},
        {"filling": "apple", "temp": 310},
    ]
}
INTEGERS = {"integers": [1, 2, 3, 4, 5]}
FIZZBUZZ = {
    "if": [
        {"==": [{"%": [{"var": "i"}, 15]}, 0]},
        "fizzbuzz",
        {"==": [{"%": [{"var": "i"}, 3]}, 0]},
        "fizz",
        {"==": [{"%": [{"var": "i"}, 5]}, 0]},
        "buzz",
        {"var": "i"},
    ]
}

# (rule, data, expected) — examples from the JSON Logic operations documentation.
DOCUMENTED: list[tuple[Any, Any, Any]] = [
    ({"var": ["a"]}, {"a": 1, "b": 2}, 1),
    ({"var": "a"}, {"a": 1, "b": 2}, 1),
    ({"var": ["z", 26]}, {"a": 1, "b": 2}, 26),
    ({"var": "champ.name"}, {"champ": {"name": "Fezzig", "height": 223}}, "Fezzig"),
    ({"var": 1}, ["zero", "one", "two"], "one"),
    (
        {"and": [{"<": [{"var": "temp"}, 110]}, {"==": [{"var": "pie.filling"}, "apple"]}]},
        {"temp": 100, "pie": {"filling": "apple"}},
        True,
    ),
    ({"missing": ["a", "b"]}, {"a": "apple", "c": "carrot"}, ["b"]),
    ({"missing": ["a", "b"]}, {"a": "apple", "b": "banana"}, []),
    ({"if": [{"missing": "a"}, "missed it", "found a"]}, {"a": "apple"}, "found a"),
    ({"missing_some": [1, ["a", "b", "c"]]}, {"a": "apple"}, []),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"a": "apple"}, ["b", "c"]),
    (
        {"missing": {"merge": ["vin", {"if": [{"var": "financing"}, ["apr", "term"], []]}]}},
        {"financing": True},
        ["vin", "apr", "term"],
    ),
    (
        {"missing": {"merge": ["vin", {"if": [{"var": "financing"}, ["apr", "term"], []]}]}},
        {"financing": False},
        ["vin"],
    ),
    ({"if": [True, "yes", "no"]}, None, "yes"),
    ({"if": [False, "yes", "no"]}, None, "no"),
    (
        {"if": [{"<": [{"var": "temp"}, 0]}, "freezing", {"<": [{"var": "temp"}, 100]}, "liquid", "gas"]},
        {"temp": 55},
        "liquid",
    ),
    (
        {"if": [{"<": [{"var": "temp"}, 0]}, "freezing", {"<": [{"var": "temp"}, 100]}, "liquid", "gas"]},
        {"temp": 200},
        "gas",
    ),
    ({"==": [1, 1]}, None, True),
    ({"==": [1, "1"]}, None, True),
    ({"==": [0, False]}, None, True),
    ({"===": [1, 1]}, None, True),
    ({"===": [1, "1"]}, None, False),
    ({"!=": [1, 2]}, None, True),
    ({"!=": [1, "1"]}, None, False),
    ({"!==": [1, 2]}, None, True),
    ({"!==": [1, "1"]}, None, True),
    ({"!": [True]}, None, False),
    ({"!": True}, None, False),
    ({"!!": [["0"]]}, None, True),
    ({"!!": [[]]}, None, False),
    ({"!!": ["0"]}, None, True),
    ({"or": [True, False]}, None, True),
    ({"or": [False, "a"]}, None, "a"),
    ({"or": [False, 0, "a"]}, None, "a"),
    ({"and": [True, "a", 3]}, None, 3),
    ({"and": [True, "", 3]}, None, ""),
    ({">": [2, 1]}, None, True),
    ({">=": [1, 1]}, None, True),
    ({"<": [1, 2]}, None, True),
    ({"<=": [1, 1]}, None, True),
    ({"<": [1, 2, 3]}, None, True),
    ({"<": [1, 1, 3]}, None, False),
    ({"<": [1, 4, 3]}, None, False),
    ({"<=": [1, 1, 3]}, None, True),
    ({"<=": [1, 4, 3]}, None, False),
    ({"max": [1, 2, 3]}, None, 3),
    ({"min": [1, 2, 3]}, None, 1),
    ({"+": [4, 2]}, None, 6),
    ({"-": [4, 2]}, None, 2),
    ({"*": [4, 2]}, None, 8),
    ({"/": [4, 2]}, None, 2),
    ({"+": [2, 2, 2, 2, 2]}, None, 10),
    ({"*": [2, 2, 2, 2, 2]}, None, 32),
    ({"-": [2]}, None, -2),
    ({"-": [-2]}, None, 2),
    ({"+": "3.14"}, None, 3.14),
    ({"%": [101, 2]}, None, 1),
    ({"map": [{"var": "integers"}, {"*": [{"var": ""}, 2]}]}, INTEGERS, [2, 4, 6, 8, 10]),
    ({"filter": [{"var": "integers"}, {"%": [{"var": ""}, 2]}]}, INTEGERS, [1, 3, 5]),
    ({"reduce": [{"var": "integers"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}, INTEGERS, 15),
    ({"all": [[1, 2, 3], {">": [{"var": ""}, 0]}]}, None, True),
    ({"some": [[-1, 0, 1], {">": [{"var": ""}, 0]}]}, None, True),
    ({"none": [[-3, -2, -1], {">": [{"var": ""}, 0]}]}, None, True),
    ({"some": [{"var": "pies"}, {"==": [{"var": "filling"}, "apple"]}]}, PIES, True),
    ({"all": [{"var": "pies"}, {">": [{"var": "temp"}, 200]}]}, PIES, False),
    ({"merge": [[1, 2], [3, 4]]}, None, [1, 2, 3, 4]),
    ({"merge": [1, 2, [3, 4]]}, None, [1, 2, 3, 4]),
    ({"in": ["Spring", "Springfield"]}, None, True),
    ({"in": ["Ringo", ["John", "Paul", "George", "Ringo"]]}, None, True),
    ({"cat": ["I love", " pie"]}, None, "I love pie"),
    ({"cat": ["I love ", {"var": "filling"}, " pie"]}, {"filling": "apple", "temp": 110}, "I love apple pie"),
    ({"substr": ["jsonlogic", 4]}, None, "logic"),
    ({"substr": ["jsonlogic", -5]}, None, "logic"),
    ({"substr": ["jsonlogic", 1, 3]}, None, "son"),
    ({"substr": ["jsonlogic", 4, -2]}, None, "log"),
    ({"log": "apple"}, None, "apple"),
    (FIZZBUZZ, {"i": 1}, 1),
    (FIZZBUZZ, {"i": 3}, "fizz"),
    (FIZZBUZZ, {"i": 5}, "buzz"),
    (FIZZBUZZ, {"i": 15}, "fizzbuzz"),
]

# JavaScript coercions the documentation defers to ("==" is JS loose equality, etc.).
JAVASCRIPT: list[tuple[Any, Any, Any]] = [
    ({"==": [None, 0]}, None, False),
    ({"==": ["", 0]}, None, True),
    ({"==": ["1", True]}, None, True),
    ({"==": [None, None]}, None, True),
    ({"==": [{"var": "missing"}, None]}, {}, True),
    ({"<": ["11", "2"]}, None, True),
    ({"<": ["11", 2]}, None, False),
    ({">": ["abc", 1]}, None, False),
    ({"<=": [None, 0]}, None, True),
    ({"%": [-10, 3]}, None, -1),
    ({"+": ["1", 1]}, None, 2),
    ({"-": ["5", "2"]}, None, 3),
    ({"cat": ["a", None, 1.0, True]}, None, "a1true"),
    ({"all": [[], {">": [{"var": ""}, 0]}]}, None, False),
    ({"none": [[], {">": [{"var": ""}, 0]}]}, None, True),
    ({"var": "a.b"}, {}, None),
    ({"var": "x.0"}, {"x": ["first"]}, "first"),
    ({"var": "first-name"}, {"first-name": "Li"}, "Li"),
    ({"var": "order"}, {"order": 7}, 7),
    ({"if": []}, None, None),
    ({"if": ["only"]}, None, "only"),
    ({"map": [{"var": "people"}, {"var": "name"}]}, {"people": [{"name": "A"}, {"name": "B"}]}, ["A", "B"]),
    (
        {"reduce": [{"var": "people"}, {"+": [{"var": "accumulator"}, {"var": "current.age"}]}, 0]},
        {"people": [{"age": 30}, {"age": 12}]},
        42,
    ),
    ({"filter": [{"var": "xs"}, {"var": ""}]}, {"xs": [0, 1, "", "a", None, [], [0]]}, [1, "a", [0]]),
]


@pytest.mark.parametrize(("rule", "data", "expected"), DOCUMENTED + JAVASCRIPT)
def test_converted_rules_agree_with_json_logic(rule: Any, data: Any, expected: Any) -> None:
    text = from_jsonlogic(rule)
    got = evaluate(text, data if data is not None else {})
    assert got == expected, text
    assert type(got) is type(expected) or {type(got), type(expected)} <= {int, float}, text


@pytest.mark.parametrize(("rule", "data", "expected"), DOCUMENTED)
def test_a_maintained_python_port_agrees_with_the_documented_table(
    rule: Any, data: Any, expected: Any
) -> None:
    json_logic = pytest.importorskip("json_logic", reason="panzi-json-logic (test extra) not installed")
    assert json_logic.jsonLogic(rule, data if data is not None else {}) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, False),
        (1, True),
        (-1, True),
        ([], False),
        ([1, 2], True),
        ("", False),
        ("anything", True),
        ("0", True),
        (["0"], True),
        (None, False),
        (0.0, False),
        ({}, True),
    ],
)
def test_truthiness_table_from_the_documentation(value: Any, expected: bool) -> None:
    assert truthy(value) is expected
    assert evaluate(from_jsonlogic({"!!": [{"var": "v"}]}), {"v": value}) is expected


def test_converted_text_is_readable_and_uses_our_operators_where_semantics_agree() -> None:
    assert (
        from_jsonlogic({"and": [{">": [{"var": "a"}, 1]}, {"===": [{"var": "b"}, "x"]}]})
        == 'LOOSE_LT(1, a) and b == "x"'
    )
    assert (
        from_jsonlogic({"in": [{"var": "level"}, ["major", "critical"]]}) == 'level in ["major", "critical"]'
    )
    assert from_jsonlogic({"var": ["score", 0]}) == "COALESCE(score, 0)"
    assert (
        from_jsonlogic({"some": [{"var": "pies"}, {"==": [{"var": "filling"}, "apple"]}]})
        == 'ANY(pies, LOOSE_EQ(item.filling, "apple"))'
    )


def test_converted_rules_compile_under_a_closed_schema_too() -> None:
    from engine.expr import Schema

    schema = Schema.of({"temp": "number", "pie": {"filling": "text"}})
    text = from_jsonlogic({"and": [{"<": [{"var": "temp"}, 110]}, {"==": [{"var": "pie.filling"}, "apple"]}]})
    assert compile_expr(text, schema).evaluate({"temp": 100, "pie": {"filling": "apple"}}) is True


@pytest.mark.parametrize(
    "rule",
    [{"method": ["abc", "toUpperCase"]}, {"no_such_op": [1]}, {"a": 1, "b": 2}, float("nan"), {"<": [1]}],
)
def test_unsupported_json_logic_is_refused_clearly(rule: Any) -> None:
    with pytest.raises(ExprError) as caught:
        from_jsonlogic(rule)
    assert caught.value.problems[0].code == "expr.runtime.unsupported_jsonlogic"
