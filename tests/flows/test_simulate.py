"""`safeflow flow simulate`: one JSON line per step, exit 0 unless the input is invalid."""

import json

from typer.testing import CliRunner

from engine.commands.flow import app
from tests.flows.helpers import ORG, apply_node, linear

FLOW = linear(apply_node(), {"id": "l1", "type": "approve", "mode": "countersign",
                             "assignees": [{"user": "bob"}, {"user": "carol"}], "deadline": "4h",
                             "on_timeout": "auto_approve"},
              {"id": "final", "type": "approve", "assignee": {"role": "safety_director"}}, key="permit")
SCRIPT = [
    {"task": "apply", "action": "submit", "by": "alice", "data": {"title": "weld tank 3"}},
    {"task": "l1", "action": "approve", "by": "bob"},
    {"advance": "5h"},
    {"task": "final", "action": "approve", "by": "carol"},
]


def flat(text: str) -> str:
    """The console wraps long lines; locations are checked on the unwrapped text."""
    return "".join(text.split())


def run(tmp_path, script=SCRIPT, flow=FLOW, org=ORG, data=None):
    (tmp_path / "flow.json").write_text(json.dumps(flow))
    (tmp_path / "data.json").write_text(json.dumps(data or {"level": "l2"}))
    (tmp_path / "org.json").write_text(json.dumps(org))
    (tmp_path / "actions.jsonl").write_text("\n".join(json.dumps(s) if isinstance(s, dict) else s for s in script))
    args = ["simulate", str(tmp_path / "flow.json"), "--data", str(tmp_path / "data.json"),
            "--script", str(tmp_path / "actions.jsonl"), "--org", str(tmp_path / "org.json"),
            "--at", "2026-01-05T09:00:00+00:00"]
    return CliRunner().invoke(app, args)


def test_simulate_prints_one_json_line_per_step(tmp_path):
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(line) for line in lines] == [{"step", "open", "completed", "status", "data"}] * 5
    assert [line["step"] for line in lines] == [0, 1, 2, 3, 4]
    assert lines[0] == {"step": 0, "open": ["apply"], "completed": ["start"], "status": "running",
                        "data": {"level": "l2"}}
    assert lines[1]["open"] == ["l1"] and lines[1]["data"] == {"level": "l2", "title": "weld tank 3"}
    assert lines[2]["open"] == ["l1"]  # carol has not signed yet
    assert lines[3]["open"] == ["final"]  # the deadline auto-approved carol's task
    assert lines[4] == {"step": 4, "open": [], "completed": ["start", "apply", "l1", "final", "end"],
                        "status": "completed", "data": {"level": "l2", "title": "weld tank 3"}}


def test_an_action_by_the_wrong_user_is_invalid_input_located_at_its_line(tmp_path):
    script = [SCRIPT[0], {"task": "l1", "action": "approve", "by": "dave"}]
    result = run(tmp_path, script)
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 2  # the steps before the bad line stand
    assert "actions.jsonl:2" in flat(result.stderr) and "dave" in result.stderr


def test_a_malformed_script_line_is_reported_with_its_line(tmp_path):
    result = run(tmp_path, [SCRIPT[0], "{not json"])
    assert result.exit_code == 2
    assert "actions.jsonl:2:2" in flat(result.stderr)


def test_an_invalid_flow_is_reported_before_anything_runs(tmp_path):
    bad = {**FLOW, "nodes": [*FLOW["nodes"], {"id": "x", "type": "teleport"}]}
    result = run(tmp_path, flow=bad)
    assert result.exit_code == 2 and result.stdout == ""
    assert "flow.json" in flat(result.stderr) and "teleport" in result.stderr


def test_without_an_org_users_are_taken_from_the_script(tmp_path):
    flow = linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}, key="simple")
    script = [{"task": "apply", "action": "submit", "by": "alice"}, {"task": "l1", "action": "approve", "by": "bob"}]
    (tmp_path / "flow.json").write_text(json.dumps(flow))
    (tmp_path / "actions.jsonl").write_text("\n".join(json.dumps(s) for s in script))
    result = CliRunner().invoke(app, ["simulate", str(tmp_path / "flow.json"), "--script",
                                      str(tmp_path / "actions.jsonl")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["status"] == "completed"
