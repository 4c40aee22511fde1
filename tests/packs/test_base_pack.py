"""The bundled base pack: roles, the sample organisation, areas with their risk colours and QR
labels, shared dictionaries — installed into a fresh database, checked, exported unchanged."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli import app
from engine.runtime.packs import Packs, load_pack
from engine.runtime.packs.installer import find_pack
from engine.runtime.site import Site
from engine.store.models import Department, InstalledPack, Role
from tests.helpers import SETUP, auth
from tests.packs.bundled import current, files_of, install, with_people

ROLES = {"safety_director": "安全总监", "plant_manager": "厂长", "workshop_director": "车间主任",
         "team_leader": "班组长", "ehs_lead": "EHS 负责人", "safety_officer": "安全员", "employee": "员工",
         "contractor": "承包商"}


def test_base_installs_into_a_fresh_database(site: Site) -> None:
    [report] = install(site, "base")
    assert sorted(report.published) == ["dictionary/business_calendar", "dictionary/hazard_category",
                                        "dictionary/hazard_type",
                                        "dictionary/inspection_frequency", "dictionary/risk_class", "form/area",
                                        "print/area_label"]
    with site.session() as session:
        roles = {r.key: r for r in session.execute(select(Role)).scalars()}
        assert session.get(InstalledPack, "base").version == "1.1.0"
    assert set(ROLES) <= set(roles)
    for key, zh in ROLES.items():
        assert roles[key].name["zh"].replace(" ", "") == zh.replace(" ", "") and roles[key].name["en"], key
    colours = current(site, "dictionary", "risk_class")
    assert [e["key"] for e in colours["entries"]] == ["major", "significant", "general", "low"]
    area = current(site, "form", "area")
    risk = next(f for f in area["fields"] if f["key"] == "risk_class")
    assert [o["value"] for o in risk["options"]] == ["major", "significant", "general", "low"]
    with site.session() as session:  # installing the same version again changes nothing
        again = Packs(session, SETUP).install(load_pack(find_pack("base")))
    assert again.published == [] and len(again.unchanged) == 7


def test_safeflow_check_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    result = CliRunner().invoke(app, ["check", str(find_pack("base"))])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_install_then_export_is_byte_identical(site: Site, tmp_path: Path) -> None:
    install(site, "base")
    with site.session() as session:
        Packs(session, SETUP).export("base", tmp_path / "out")
    assert files_of(tmp_path / "out") == files_of(find_pack("base"))


def test_the_sample_organisation_and_an_area_label_with_its_qr_code(site: Site, client: Any) -> None:
    people = with_people(site, "base")
    with site.session() as session:
        departments = {d.name: d.id for d in session.execute(select(Department)).scalars()}
    assert {"示范机械厂", "安全环保部", "仓储物流部", "装配二班"} <= set(departments)
    assert len(people) >= 40
    headers = auth(client, "li.haiyan")  # the EHS lead creates areas
    created = client.post("/api/v1/records/area", headers=headers, json={"data": {
        "code": "PT-MIX", "name": "调漆间", "kind": "workshop", "department": departments["涂装车间"],
        "owner": people["yang.fan"], "risk_class": "major"}})
    assert created.status_code == 201, created.text
    area = created.json()
    assert area["data"]["risk_color"] == "#d32f2f" and area["data"]["qr_code"] == "SF-AREA:PT-MIX"
    worker = auth(client, "zhu.lin")  # everyone may read areas (to pick one when reporting)
    assert client.get(f"/api/v1/records/area/{area['id']}", headers=worker).status_code == 200
    refused = client.post("/api/v1/records/area", headers=worker, json={"data": {"code": "X", "name": "X"}})
    assert refused.status_code == 403
    label = client.get(f"/api/v1/prints/area_label/records/{area['id']}", params={"format": "html"}, headers=headers)
    assert label.status_code == 200, label.text
    assert "调漆间" in label.text and "#d32f2f" in label.text and 'src="data:image/' in label.text
    assert 'alt="SF-AREA:PT-MIX"' in label.text
