"""Reading definitions: every shape problem located (path, line, column); the published schema."""

import json
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.flows import definition_json_schema, dump_definition, parse_definition

SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "schemas" / "flow.schema.json"

TEXT = """{
  "key": "permit",
  "nodes": [
    {"id": "start", "type": "start"},
    {"id": "apply", "type": "fill", "assignee": "initiator"},
    {"id": "l1", "type": "teleport"},
    {"id": "l2", "type": "approve", "mode": "sometimes", "assignee": {"user": "bob"}},
    {"id": "end", "type": "end", "colour": "red"}
  ],
  "edges": []
}
"""


def problems_of(source, **kw):
    with pytest.raises(InvalidInput) as err:
        parse_definition(source, **kw)
    return err.value.problems


def test_every_shape_problem_is_reported_at_once_with_its_location():
    found = {p.path: p for p in problems_of(TEXT, file="permit.json")}
    assert set(found) == {"nodes[2].type", "nodes[3].mode", "nodes[4].colour"}
    unknown = found["nodes[2].type"]
    assert unknown.code == "flow.node.unknown_type"
    assert (unknown.file, unknown.line, unknown.column) == ("permit.json", 6, 26)
    assert "approve" in unknown.message("en") and "teleport" in unknown.message("en")
    assert found["nodes[3].mode"].line == 7
    assert found["nodes[4].colour"].line == 8


def test_json_syntax_errors_are_located():
    (problem,) = problems_of('{"key": "x",\n  "nodes": [,]}', file="bad.json")
    assert problem.code == "flow.json_syntax" and (problem.line, problem.column) == (2, 13)


def test_problems_render_in_both_locales():
    (problem,) = problems_of({"key": "x", "nodes": [{"id": "a", "type": "nope"}]})
    assert "未知的节点类型" in problem.message("zh-CN")
    assert "Unknown node type" in problem.message("en")


def test_shorthands_expand_and_dump_is_byte_stable():
    raw = {"key": "f", "nodes": [
        {"id": "start", "type": "start"},
        {"id": "l1", "type": "approve", "assignee": {"role": "x"}, "deadline": "4h", "on_timeout": "remind",
         "reject_to": "terminate"},
        {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "l1"}, {"from": "l1", "to": "end"}]}
    definition = parse_definition(raw)
    node = definition.node("l1")
    assert node.deadline.after == "4h" and node.reject.to == "terminate"
    text = dump_definition(definition)
    assert dump_definition(parse_definition(text)) == text


def test_the_published_json_schema_is_current():
    current = json.dumps(definition_json_schema(), ensure_ascii=False, indent=2) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == current, (
        "docs/schemas/flow.schema.json is stale: run python -m engine.flows.schema_file")


def test_the_json_schema_validates_a_definition_and_rejects_an_unknown_node_type():
    import jsonschema

    schema = definition_json_schema()
    good = {"key": "f", "nodes": [{"id": "s", "type": "start"}, {"id": "e", "type": "end"}],
            "edges": [{"from": "s", "to": "e"}]}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "nodes": [{"id": "s", "type": "teleport"}]}, schema)
