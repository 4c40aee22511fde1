"""Pack lifecycle: install all-or-nothing and idempotent, upgrade keeping local edits, export
byte for byte, uninstall."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import Conflict, InvalidInput, Problem
from engine.runtime.packs import Packs, load_pack
from engine.runtime.packs.kinds import KINDS, CheckContext, DefinitionSource, canonical_json_text
from engine.runtime.site import Site
from engine.store.definitions import DefinitionRepository
from engine.store.models import Definition, Role
from tests.helpers import SETUP

FORM = {
    "key": "hazard",
    "title": {"zh": "隐患上报", "en": "Hazard report"},
    "fields": [
        {"key": "title", "type": "text", "label": {"zh": "描述", "en": "Description"}},
        {"key": "level", "type": "radio", "label": {"zh": "级别", "en": "Level"},
         "options": [{"value": "general", "label": {"zh": "一般", "en": "General"}},
                     {"value": "major", "label": {"zh": "重大", "en": "Major"}}]},
    ],
}
FLOW = {
    "key": "hazard_flow",
    "form": "hazard",
    "nodes": [{"id": "start", "type": "start"}, {"id": "fix", "type": "fill", "assignee": "initiator"},
              {"id": "end", "type": "end"}],
    "edges": [{"from": "start", "to": "fix"}, {"from": "fix", "to": "end"}],
}
CRITICAL = {"value": "critical", "label": {"zh": "特别重大", "en": "Critical"}}
RULES = 'rule "stale"\n  when schedule every 1h\n  then notify role("ehs_lead")\nend\n'
ROLES = """- key: ehs_lead
  name: {zh: EHS负责人, en: EHS lead}
  grants:
    - {kind: form, key: hazard, action: read, scope: all}
"""


def write_pack(root: Path, version: str = "1.0.0", form: dict | None = None, flow: dict | None = None,
               rules: str = RULES, extra: dict[str, str] | None = None) -> Path:
    if root.exists():
        shutil.rmtree(root)
    (root / "forms").mkdir(parents=True)
    (root / "flows").mkdir()
    (root / "rules").mkdir()
    (root / "seed").mkdir()
    (root / "pack.yaml").write_text(
        f"key: hazards\nname: {{zh: 隐患排查治理, en: Hazard management}}\n"
        f"description: {{zh: 隐患上报到闭环, en: From report to closure}}\nversion: {version}\n", encoding="utf-8")
    (root / "forms" / "hazard.json").write_text(canonical_json_text(form or FORM), encoding="utf-8")
    (root / "flows" / "hazard_flow.json").write_text(canonical_json_text(flow or FLOW), encoding="utf-8")
    (root / "rules" / "hazard.rules").write_text(rules, encoding="utf-8")
    (root / "seed" / "roles.yaml").write_text(ROLES, encoding="utf-8")
    (root / "README.md").write_text("# 隐患排查治理\n\nHazard management.\n", encoding="utf-8")
    for rel, text in (extra or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def form_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for the form engine's checker: every field needs a key and a known type."""

    def check(source: DefinitionSource, context: CheckContext) -> list[Problem]:
        return [Problem("test.bad_field", {"i": i}, path=f"fields[{i}]")
                for i, f in enumerate(source.body.get("fields", [])) if "key" not in f or f.get("type") == "bogus"]

    def check_flow(source: DefinitionSource, context: CheckContext) -> list[Problem]:
        if context.lookup("form", source.body["form"]) is None:
            return [Problem("test.unknown_form", {"form": source.body["form"]}, path="form")]
        return []

    monkeypatch.setattr(KINDS["form"], "checker", check)
    monkeypatch.setattr(KINDS["flow"], "checker", check_flow)
    monkeypatch.setattr(KINDS["form"], "publisher", None)


def _install(site: Site, root: Path) -> Any:
    with site.session() as session:
        return Packs(session, SETUP).install(load_pack(root))


def _current(site: Site, kind: str, key: str) -> Any:
    with site.session() as session:
        row = DefinitionRepository(session).current(kind, key)
        return row.body if row else None


def test_install_publishes_every_definition_and_seeds_roles(site: Site, tmp_path: Path, form_checker: None) -> None:
    report = _install(site, write_pack(tmp_path / "hazards"))
    assert sorted(report.published) == ["flow/hazard_flow", "form/hazard", "rule/hazard"]
    assert _current(site, "form", "hazard") == FORM
    assert _current(site, "rule", "hazard") == RULES
    with site.session() as session:
        assert session.execute(select(Role.key)).scalars().all() == ["ehs_lead"]


def test_installing_twice_changes_nothing(site: Site, tmp_path: Path, form_checker: None) -> None:
    root = write_pack(tmp_path / "hazards")
    _install(site, root)
    again = _install(site, root)
    assert again.published == [] and len(again.unchanged) == 3
    with site.session() as session:
        assert len(session.execute(select(Definition)).scalars().all()) == 3


def test_a_broken_pack_installs_nothing_and_reports_every_problem(site: Site, tmp_path: Path,
                                                                 form_checker: None) -> None:
    root = write_pack(tmp_path / "hazards", form={**FORM, "fields": [{"type": "text"}, {"key": "x", "type": "bogus"}]},
                      flow={**FLOW, "form": "nowhere"})
    (root / "reports").mkdir()
    (root / "reports" / "kpi.json").write_text('{"key": "kpi", "widgets": [}\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        _install(site, root)
    found = {(p.code, p.file, p.line) for p in caught.value.problems}
    assert ("pack.bad_json", "hazards/reports/kpi.json", 1) in found
    assert {p.code for p in caught.value.problems} >= {"test.bad_field", "test.unknown_form", "pack.bad_json"}
    assert sum(p.code == "test.bad_field" for p in caught.value.problems) == 2
    with site.session() as session:
        assert session.execute(select(Definition)).first() is None
        assert session.execute(select(Role)).first() is None


def test_a_bad_manifest_is_located_by_line(site: Site, tmp_path: Path) -> None:
    root = write_pack(tmp_path / "hazards")
    (root / "pack.yaml").write_text("key: hazards\nname: {zh: 隐患, en: Hazards}\ndescription: {zh: x, en: x}\n"
                                    "version: one\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        _install(site, root)
    problem = caught.value.problems[0]
    assert (problem.code, problem.line, problem.path) == ("pack.bad_manifest", 4, "version")


def test_a_missing_dependency_is_refused(site: Site, tmp_path: Path) -> None:
    root = write_pack(tmp_path / "hazards")
    (root / "pack.yaml").write_text((root / "pack.yaml").read_text() + "depends: [\"base>=1.0\"]\n")
    with pytest.raises(InvalidInput) as caught:
        _install(site, root)
    assert [p.code for p in caught.value.problems] == ["pack.missing_dependency"]


def test_install_then_export_is_byte_identical(site: Site, tmp_path: Path, form_checker: None) -> None:
    notice = ('{#- safeflow: {"form": "hazard", "title": {"zh": "通知", "en": "Notice"}} -#}\n'
              '<p>{{ values.title }}</p>\n')
    root = write_pack(tmp_path / "hazards", extra={"demo/hazard.yaml": "count: 100\n",
                                                   "rules/tests/stale.jsonl": '{"advance": "2h"}\n',
                                                   "print/notice.html": notice})
    _install(site, root)
    out = tmp_path / "exported"
    with site.session() as session:
        Packs(session, SETUP).export("hazards", out)
    originals = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    exported = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert exported == originals
    for rel in originals:
        assert (out / rel).read_bytes() == (root / rel).read_bytes(), rel


def _edit(site: Site, kind: str, key: str, body: Any) -> None:
    with site.session() as session:
        DefinitionRepository(session).publish(SETUP, kind, key, body)


def test_upgrade_keeps_site_edits_and_applies_the_new_versions_changes(site: Site, tmp_path: Path,
                                                                     form_checker: None) -> None:
    _install(site, write_pack(tmp_path / "hazards"))
    # The site edits a form field's label and a flow node …
    site_form = json.loads(json.dumps(FORM))
    site_form["fields"][0]["label"]["zh"] = "隐患描述（现场）"
    _edit(site, "form", "hazard", site_form)
    site_flow = json.loads(json.dumps(FLOW))
    site_flow["nodes"][1]["deadline"] = "8h"
    _edit(site, "flow", "hazard_flow", site_flow)
    # … while version 1.1 changes other parts of both.
    new_form = json.loads(json.dumps(FORM))
    new_form["fields"][1]["options"].append(CRITICAL)
    new_form["fields"].append({"key": "photos", "type": "image", "label": {"zh": "照片", "en": "Photos"}})
    new_flow = json.loads(json.dumps(FLOW))
    new_flow["nodes"].insert(2, {"id": "verify", "type": "approve", "assignee": "initiator"})
    new_flow["edges"] = [{"from": "start", "to": "fix"}, {"from": "fix", "to": "verify"},
                         {"from": "verify", "to": "end"}]
    with site.session() as session:
        report = Packs(session, SETUP).upgrade(load_pack(write_pack(tmp_path / "v11", "1.1.0", new_form, new_flow)))
    assert report.conflicts == []
    assert sorted(report.updated) == ["flow/hazard_flow", "form/hazard"]
    form = _current(site, "form", "hazard")
    assert form["fields"][0]["label"]["zh"] == "隐患描述（现场）"
    assert [o["value"] for o in form["fields"][1]["options"]] == ["general", "major", "critical"]
    assert [f["key"] for f in form["fields"]] == ["title", "level", "photos"]
    flow = _current(site, "flow", "hazard_flow")
    assert [n["id"] for n in flow["nodes"]] == ["start", "fix", "verify", "end"]
    assert flow["nodes"][1]["deadline"] == "8h"


def test_both_changing_the_same_field_is_listed_and_nothing_is_lost(site: Site, tmp_path: Path,
                                                                    form_checker: None) -> None:
    _install(site, write_pack(tmp_path / "hazards"))
    site_form = json.loads(json.dumps(FORM))
    site_form["fields"][1]["label"]["zh"] = "风险级别"
    _edit(site, "form", "hazard", site_form)
    new_form = json.loads(json.dumps(FORM))
    new_form["fields"][1]["label"]["zh"] = "隐患级别"
    with site.session() as session:
        report = Packs(session, SETUP).upgrade(load_pack(write_pack(tmp_path / "v11", "1.1.0", new_form)))
        conflict = report.conflicts[0]
        assert (conflict.kind, conflict.key, conflict.path) == ("form", "hazard", "/fields/level/label/zh")
        assert (conflict.mine, conflict.theirs) == ({"value": "风险级别"}, {"value": "隐患级别"})
        conflict_id = conflict.id
    assert _current(site, "form", "hazard")["fields"][1]["label"]["zh"] == "风险级别"
    with site.session() as session:
        Packs(session, SETUP).resolve(conflict_id, "theirs")
        assert Packs(session, SETUP).conflicts("hazards") == []
    assert _current(site, "form", "hazard")["fields"][1]["label"]["zh"] == "隐患级别"


def test_upgrade_retires_untouched_definitions_the_new_version_drops(site: Site, tmp_path: Path,
                                                                     form_checker: None) -> None:
    root = write_pack(tmp_path / "hazards", extra={"print/permit.html": "<h1>{{ record.title }}</h1>\n"})
    _install(site, root)
    with site.session() as session:
        report = Packs(session, SETUP).upgrade(load_pack(write_pack(tmp_path / "v2", "2.0.0")))
    assert report.removed == ["print/permit"]
    assert _current(site, "print", "permit") is None


def test_installing_another_version_asks_for_upgrade(site: Site, tmp_path: Path, form_checker: None) -> None:
    _install(site, write_pack(tmp_path / "hazards"))
    with pytest.raises(Conflict) as caught:
        _install(site, write_pack(tmp_path / "v2", "2.0.0"))
    assert caught.value.code == "pack.use_upgrade"


def test_uninstall_retires_definitions_but_keeps_them_readable(site: Site, tmp_path: Path,
                                                              form_checker: None) -> None:
    _install(site, write_pack(tmp_path / "hazards"))
    with site.session() as session:
        Packs(session, SETUP).uninstall("hazards")
    assert _current(site, "form", "hazard") is None
    with site.session() as session:
        assert DefinitionRepository(session).get("form", "hazard", 1).body == FORM
        assert Packs(session, SETUP).installed() == []
