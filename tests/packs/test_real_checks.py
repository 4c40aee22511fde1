"""Packs checked and installed with the engines' real checkers: forms that refer to each other,
a flow type-checked against its form, every problem located in its file."""

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InvalidInput
from engine.runtime.packs import Packs, load_pack
from engine.runtime.packs.kinds import canonical_json_text
from engine.runtime.site import Site
from engine.store.definitions import DefinitionRepository
from tests.helpers import SETUP


def L(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


AREA = {"key": "area", "title": L("区域", "Area"), "title_field": "name",
        "fields": [{"type": "text", "key": "name", "label": L("名称", "Name"), "required": True}]}
HAZARD = {"key": "hazard", "title": L("隐患", "Hazard"), "fields": [
    {"type": "text", "key": "title", "label": L("描述", "Description"), "required": True},
    {"type": "relation", "key": "area", "form": "area", "label": L("区域", "Area")},
    {"type": "radio", "key": "level", "label": L("级别", "Level"),
     "options": [{"value": "general", "label": L("一般", "General")}, {"value": "major", "label": L("重大", "Major")}]},
]}
FLOW = {"key": "hazard_flow", "form": "hazard", "nodes": [
    {"id": "start", "type": "start"}, {"id": "route", "type": "exclusive"},
    {"id": "boss", "type": "approve", "assignee": "initiator"}, {"id": "end", "type": "end"}],
    "edges": [{"from": "start", "to": "route"}, {"from": "route", "to": "boss", "when": 'level == "major"'},
              {"from": "route", "to": "end", "default": True}, {"from": "boss", "to": "end"}]}


def make_pack(root: Path, flow: dict[str, Any] = FLOW) -> Path:
    for rel, body in (("forms/hazard.json", HAZARD), ("forms/area.json", AREA), ("flows/hazard_flow.json", flow)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(canonical_json_text(body), encoding="utf-8")
    (root / "pack.yaml").write_text("key: demo\nname: {zh: 演示, en: Demo}\ndescription: {zh: 演示, en: Demo}\n"
                                    "version: 1.0.0\n", encoding="utf-8")
    return root


def test_forms_referring_to_each_other_install_in_any_order(site: Site, tmp_path: Path) -> None:
    with site.session() as session:
        report = Packs(session, SETUP).install(load_pack(make_pack(tmp_path / "demo")))
    assert sorted(report.published) == ["flow/hazard_flow", "form/area", "form/hazard"]
    with site.session() as session:
        repo = DefinitionRepository(session)
        assert repo.current("form", "hazard").version == 1 and repo.draft("form", "area") is None


def test_a_flow_condition_on_an_unknown_field_stops_the_install_and_is_located(site: Site, tmp_path: Path) -> None:
    broken = {**FLOW, "edges": [dict(e) for e in FLOW["edges"]]}
    broken["edges"][1]["when"] = 'levle == "major"'
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        Packs(session, SETUP).install(load_pack(make_pack(tmp_path / "demo", broken)))
    problem = next(p for p in caught.value.problems if p.file == "demo/flows/hazard_flow.json")
    assert problem.line is not None and problem.severity == "error"
    with site.session() as session:
        assert DefinitionRepository(session).current("form", "area") is None


def test_safeflow_check_on_a_pack_folder_lists_problems_by_file_line_and_column(tmp_path: Path) -> None:
    root = make_pack(tmp_path / "demo")
    assert CliRunner().invoke(app, ["check", str(root)]).exit_code == 0
    broken = {**HAZARD, "fields": [*HAZARD["fields"], {"type": "formula", "key": "x", "label": L("x", "x"),
                                                       "expr": 'title + 3'}]}
    (root / "forms" / "hazard.json").write_text(canonical_json_text(broken), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 1
    assert "demo/forms/hazard.json:" in result.output
