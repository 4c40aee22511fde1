"""`safeflow flow validate | import-bpmn | export-bpmn`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from engine.commands.flow import app
from tests.flows.helpers import apply_node, linear
from tests.flows.test_bpmn import REJECT_LOOP


def test_validate_reports_problems_with_locations_and_exits_2(tmp_path):
    flow = linear(apply_node(), {"id": "l1", "type": "approve"})
    path = tmp_path / "f.json"
    path.write_text(json.dumps(flow, indent=2))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "f.json:" in "".join(result.stderr.split()) and "l1" in result.stderr


def test_validate_accepts_a_good_flow(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(linear(apply_node())))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "ok" in result.stdout


def test_import_then_export_bpmn(tmp_path):
    source = tmp_path / "m.bpmn"
    source.write_text(REJECT_LOOP)
    out = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["import-bpmn", str(source), "-o", str(out), "--form", "permit"])
    assert result.exit_code == 0, result.output
    flow = json.loads(out.read_text())
    assert flow["form"] == "permit" and flow["nodes"][2]["reject"] == {"to": "apply"}
    assert "m.bpmn:7:ok:" in "".join(result.stderr.split())  # the folded gateway is listed
    exported = CliRunner().invoke(app, ["export-bpmn", str(out)])
    assert exported.exit_code == 0 and "bpmn:userTask" in exported.stdout


def test_import_exits_3_when_something_was_skipped(tmp_path):
    from tests.flows.test_bpmn import flow as edge
    from tests.flows.test_bpmn import model

    source = tmp_path / "s.bpmn"
    source.write_text(model("\n".join(['<bpmn:startEvent id="start"/>', '<bpmn:serviceTask id="erp"/>',
                                        '<bpmn:endEvent id="end"/>', edge("f1", "start", "erp"),
                                        edge("f2", "erp", "end")])))
    result = CliRunner().invoke(app, ["import-bpmn", str(source)])
    assert result.exit_code == 3 and "erp" in result.stderr


def test_import_of_malformed_xml_says_what_is_wrong_in_the_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    source = tmp_path / "bad.bpmn"
    source.write_text("<definitions>\n<oops")
    result = CliRunner().invoke(app, ["import-bpmn", str(source)])
    assert result.exit_code == 2
    head = result.stderr.splitlines()[0]
    assert head.startswith("error: The BPMN file is not valid XML: ") and "{error}" not in head
