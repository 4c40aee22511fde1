"""The bundled hazards pack (隐患排查治理): installed with base into a fresh database, checked
with its rule tests, walked through its main path over the API with the cockpit's numbers
moving, upgraded over a site's edits, exported unchanged, and refused when broken."""

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InvalidInput
from engine.runtime.demo.world import placeholder_photo
from engine.runtime.packs import Packs, load_pack
from engine.runtime.packs.installer import find_pack
from engine.runtime.packs.kinds import canonical_json_text
from engine.runtime.rule_tests import check_pack_rule_tests
from engine.runtime.site import Site
from engine.store.models import Definition, InstalledPack, Record
from tests.helpers import SETUP, auth
from tests.packs.bundled import copy_pack, current, files_of, install, publish, with_people

# --- install, check, rule tests ---------------------------------------------------------------


def test_hazards_installs_with_base_into_a_fresh_database(site: Site) -> None:
    reports = install(site, "hazards")
    assert [r.pack for r in reports] == ["base", "hazards"]
    assert {"form/hazard", "flow/hazard_flow", "report/hazard_cockpit", "print/hazard_notice",
            "dictionary/hazard_deadline"} <= set(reports[1].published)
    assert any(p.startswith("rule/") for p in reports[1].published)
    with site.session() as session:
        assert {row.key: row.version for row in session.execute(select(InstalledPack)).scalars()} == {
            "base": "1.1.0", "hazards": "1.0.0"}


def test_safeflow_check_is_clean_and_runs_the_rule_tests(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    result = CliRunner().invoke(app, ["check", str(find_pack("hazards"))])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output  # the rule tests ran as part of the check …
    tests = sorted((find_pack("hazards") / "rules" / "tests").glob("*.jsonl"))
    assert len(tests) >= 3
    # … and test something: a wrong expectation fails, located at its line
    pack = copy_pack("hazards", tmp_path / "hazards")
    for other in tests:
        if other.name != "deadlines.jsonl":
            (pack / "rules" / "tests" / other.name).unlink()
    deadlines = pack / "rules" / "tests" / "deadlines.jsonl"
    lines = deadlines.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if "hazard_due_tomorrow" in line)
    lines[number - 1] = lines[number - 1].replace("hazard_due_tomorrow", "hazard_overdue_3d")
    deadlines.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_pack_rule_tests(load_pack(pack))
    assert problems and {(p.file, p.line) for p in problems} >= {("hazards/rules/tests/deadlines.jsonl", number)}


# --- the main path over the API ---------------------------------------------------------------


def _drain(site: Site) -> None:
    report = site.drain()
    assert report.failed == 0, report.errors


def _cockpit(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/dashboards/hazard_cockpit", headers=headers)
    assert response.status_code == 200, response.text
    widgets = {w["id"]: w for w in response.json()["widgets"]}
    assert not [key for key, w in widgets.items() if w["error"]], widgets
    return widgets


def _kpi(widgets: dict[str, Any], key: str) -> Any:
    return widgets[key]["summary"]["value"]


def _photo(client: Any, headers: dict[str, str], field: str) -> int:
    data = placeholder_photo(random.Random(len(field)))
    response = client.post("/api/v1/files", params={"form": "hazard", "field": field}, headers=headers,
                           files={"file": ("photo.jpg", io.BytesIO(data), "image/jpeg")})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _act(client: Any, headers: dict[str, str], node: str, data: dict[str, Any]) -> dict[str, Any]:
    todo = client.get("/api/v1/tasks", params={"box": "todo"}, headers=headers).json()["items"]
    task = next(t for t in todo if t["node"] == node)
    done = client.post(f"/api/v1/tasks/{task['task_id']}/actions", json={"action": "submit", "data": data},
                       headers=headers)
    assert done.status_code == 200, done.text
    return dict(done.json())


def _hazard(site: Site, record_id: int) -> dict[str, Any]:
    with site.session() as session:
        row = session.get(Record, record_id)
        assert row is not None
        return dict(row.data)


def test_a_hazard_from_report_to_closure_through_the_api(site: Site, client: Any) -> None:
    people = with_people(site, "hazards")
    ehs, director = auth(client, "li.haiyan"), auth(client, "zhao.zhigang")
    worker, officer, leader = auth(client, "cao.ning"), auth(client, "you.min"), auth(client, "kong.jie")
    with site.session() as session:
        from engine.store.models import Department

        assembly = session.execute(select(Department.id).where(Department.name == "装配车间")).scalar_one()
    area = client.post("/api/v1/records/area", headers=ehs, json={"data": {
        "code": "AS-2", "name": "装配二线", "kind": "line", "department": assembly, "owner": people["kong.jie"],
        "risk_class": "low"}})
    assert area.status_code == 201, area.text
    before = _cockpit(client, director)
    assert _kpi(before, "reported") == 0 and before["open_by_state"]["data"]["rows"] == []

    # A worker reports it from the phone: photo, area, position, what and what kind.
    reported = client.post("/api/v1/records/hazard", headers=worker, json={"data": {
        "photos": [_photo(client, worker, "photos")], "area": area.json()["id"],
        "position": {"lat": 31.2306, "lng": 121.4712, "accuracy": 8.0},
        "description": "通道堆放托盘，宽度不足", "category": "housekeeping", "suggested_level": "general",
        "fixed_on_spot": False}})
    assert reported.status_code == 201, reported.text
    hazard_id = reported.json()["id"]
    _drain(site)
    # Assigned by area: the area's department and owner; the flow asks that department's safety officer.
    data = _hazard(site, hazard_id)
    assert (data["department"], data["area_owner"], data["rectifier"]) == (
        assembly, people["kong.jie"], people["kong.jie"])
    assert data["state"] == "assessing" and data["due_date"] and data["area_code"] == "AS-2"
    middle = _cockpit(client, director)
    assert _kpi(middle, "reported") == 1 and _kpi(middle, "rectification_rate") == 0
    assert middle["open_by_state"]["data"]["rows"][0][1] == 1

    _act(client, officer, "assess", {"level": "general", "measures": "清理通道并划定置线",
                                     "temp_measures": "设置警示牌", "verifier": people["you.min"]})
    _drain(site)
    assert _hazard(site, hazard_id)["state"] == "rectifying"
    _act(client, leader, "rectify", {"rectify_note": "已清理托盘",
                                     "after_photos": [_photo(client, leader, "after_photos")]})
    _drain(site)
    assert _hazard(site, hazard_id)["state"] == "verifying"
    # The verifier is not satisfied: back to the rectifier.
    _act(client, officer, "verify", {"verify_result": "fail", "verify_note": "托盘仍占用通道一侧"})
    _drain(site)
    data = _hazard(site, hazard_id)
    assert (data["state"], data["rework_count"], data["rework_reason"]) == ("rectifying", 1, "托盘仍占用通道一侧")
    _act(client, leader, "rectify", {"rectify_note": "托盘全部移入库位并画线",
                                     "after_photos": [_photo(client, leader, "after_photos")]})
    _drain(site)
    _act(client, officer, "verify", {"verify_result": "pass", "verify_note": "通道畅通"})
    _drain(site)
    data = _hazard(site, hazard_id)
    assert data["state"] == "closed" and data["closed_at"] and data["closed_on_time"] is True

    after = _cockpit(client, director)
    assert _kpi(after, "reported") == 1
    assert _kpi(after, "rectification_rate") == 1
    assert _kpi(after, "on_time_rate") is None  # closed early: nothing has fallen due yet
    assert _kpi(after, "rework_rate") == 1 and _kpi(after, "mean_hours") is not None
    assert after["open_by_state"]["data"]["rows"] == []
    assert after["category_pareto"]["data"]["rows"][0][:2] == ["housekeeping", 1]
    assert _kpi(after, "reporters") == 1
    notice = client.get(f"/api/v1/prints/hazard_notice/records/{hazard_id}", params={"format": "html"},
                        headers=ehs)
    assert notice.status_code == 200 and "通道堆放托盘" in notice.text


# --- upgrade ----------------------------------------------------------------------------------


def _bump(root: Path, version: str) -> None:
    manifest = root / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("version: 1.0.0", f"version: {version}"),
                        encoding="utf-8")


def _write(path: Path, body: Any) -> None:
    path.write_text(canonical_json_text(body), encoding="utf-8")


def _field(form: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in form["fields"] if f["key"] == key)


def _node(flow: dict[str, Any], node: str) -> dict[str, Any]:
    return next(n for n in flow["nodes"] if n["id"] == node)


AUDIT = {"value": "audit", "label": {"zh": "外部审核", "en": "External audit"}}


def test_upgrade_merges_the_sites_edits_with_the_new_version(site: Site, tmp_path: Path) -> None:
    install(site, "hazards")
    # The site relabels a field and shortens the verification deadline …
    form, flow = current(site, "form", "hazard"), current(site, "flow", "hazard_flow")
    _field(form, "description")["label"]["zh"] = "隐患描述（请写清位置）"
    publish(site, "form", "hazard", form)
    _node(flow, "verify")["deadline"]["after"] = "1 workdays"
    publish(site, "flow", "hazard_flow", flow)
    # … while version 1.1.0 adds a source option and a deadline on the fix.
    pack = copy_pack("hazards", tmp_path / "hazards")
    _bump(pack, "1.1.0")
    new_form = json.loads((pack / "forms" / "hazard.json").read_text(encoding="utf-8"))
    _field(new_form, "source")["options"].append(AUDIT)
    _write(pack / "forms" / "hazard.json", new_form)
    new_flow = json.loads((pack / "flows" / "hazard_flow.json").read_text(encoding="utf-8"))
    _node(new_flow, "rectify")["deadline"] = {"after": "10 workdays", "on_timeout": "escalate"}
    _write(pack / "flows" / "hazard_flow.json", new_flow)
    with site.session() as session:
        report = Packs(session, SETUP).upgrade(load_pack(pack))
    assert report.conflicts == []
    assert {"form/hazard", "flow/hazard_flow"} <= set(report.updated)
    form, flow = current(site, "form", "hazard"), current(site, "flow", "hazard_flow")
    assert _field(form, "description")["label"]["zh"] == "隐患描述（请写清位置）"
    assert _field(form, "source")["options"][-1] == AUDIT
    assert _node(flow, "verify")["deadline"]["after"] == "1 workdays"
    assert _node(flow, "rectify")["deadline"] == {"after": "10 workdays", "on_timeout": "escalate"}
    with site.session() as session:
        assert session.get(InstalledPack, "hazards").version == "1.1.0"


def test_both_changing_the_same_field_is_a_conflict_and_nothing_is_lost(site: Site, tmp_path: Path) -> None:
    install(site, "hazards")
    form = current(site, "form", "hazard")
    _field(form, "category")["label"]["zh"] = "隐患专业"
    publish(site, "form", "hazard", form)
    pack = copy_pack("hazards", tmp_path / "hazards")
    _bump(pack, "1.1.0")
    new_form = json.loads((pack / "forms" / "hazard.json").read_text(encoding="utf-8"))
    _field(new_form, "category")["label"]["zh"] = "隐患类别"
    _field(new_form, "source")["options"].append(AUDIT)
    _write(pack / "forms" / "hazard.json", new_form)
    with site.session() as session:
        report = Packs(session, SETUP).upgrade(load_pack(pack))
        [conflict] = report.conflicts
        assert (conflict.kind, conflict.key, conflict.path) == ("form", "hazard", "/fields/category/label/zh")
        assert (conflict.mine, conflict.theirs) == ({"value": "隐患专业"}, {"value": "隐患类别"})
        listed = Packs(session, SETUP).conflicts("hazards")
        assert [c.id for c in listed] == [conflict.id]
    form = current(site, "form", "hazard")
    assert _field(form, "category")["label"]["zh"] == "隐患专业"  # the site's value stays …
    assert _field(form, "source")["options"][-1] == AUDIT  # … the rest of the new version is in
    with site.session() as session:
        Packs(session, SETUP).resolve(conflict.id, "theirs")
    assert _field(current(site, "form", "hazard"), "category")["label"]["zh"] == "隐患类别"


# --- export, broken packs ---------------------------------------------------------------------


def test_install_then_export_is_byte_identical(site: Site, tmp_path: Path) -> None:
    install(site, "hazards")
    with site.session() as session:
        Packs(session, SETUP).export("hazards", tmp_path / "out")
    assert files_of(tmp_path / "out") == files_of(find_pack("hazards"))


def test_a_broken_copy_installs_nothing_and_reports_every_problem(site: Site, tmp_path: Path) -> None:
    pack = copy_pack("hazards", tmp_path / "hazards")
    cockpit = pack / "reports" / "hazard_cockpit.json"  # bad JSON …
    text = cockpit.read_text(encoding="utf-8")
    assert '"key": "hazard_cockpit",' in text
    cockpit.write_text(text.replace('"key": "hazard_cockpit",', '"key": "hazard_cockpit"', 1), encoding="utf-8")
    rules = pack / "rules" / "hazards.rules"  # … and a rule on a field the form does not have
    text = rules.read_text(encoding="utf-8")
    assert 'if h.suggested_level == "major"' in text
    rules.write_text(text.replace('if h.suggested_level == "major"', 'if h.suggested_levle == "major"', 1),
                     encoding="utf-8")
    rule_line = next(i for i, line in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1)
                     if "suggested_levle" in line)
    with pytest.raises(InvalidInput) as caught:
        install(site, pack)
    problems = caught.value.problems
    bad_json = [p for p in problems if p.file == "hazards/reports/hazard_cockpit.json"]
    bad_rule = [p for p in problems if p.file == "hazards/rules/hazards.rules"]
    assert bad_json and bad_json[0].line is not None and bad_json[0].severity == "error"
    assert bad_rule and bad_rule[0].line == rule_line and "suggested_levle" in json.dumps(bad_rule[0].params)
    with site.session() as session:
        assert session.execute(select(InstalledPack.key)).first() is None
        assert session.execute(select(Definition.id)).first() is None
