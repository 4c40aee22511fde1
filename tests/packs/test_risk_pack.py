"""The risk pack (风险分级管控) as a site gets it: installed with base and hazards on a fresh
database, checked clean with its rule tests, an LEC assessment walked through the API from
identification to publication and its yearly review, with the four-colour map and the KPIs
following — and a major hazard confirmed in an area flagging that area's risk points (and no
other's) for re-assessment."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from engine.cli import app
from tests.packs.support import LIBRARY, PackPlant, kpi, library_files


def test_safeflow_check_is_clean_and_runs_the_packs_rule_tests() -> None:
    result = CliRunner().invoke(app, ["check", str(LIBRARY / "risk")], env={"SAFEFLOW_LOCALE": "en"})
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output, result.output


def test_install_then_export_gives_the_same_bytes(plant: PackPlant) -> None:
    assert [p["pack"] for p in plant.install("risk")] == ["base", "hazards", "risk"]
    assert plant.export("risk") == library_files("risk")


def _map_colour(plant: PackPlant, code: str) -> str | None:
    areas = plant.widgets("risk_overview")["four_colour_map"]["summary"]["areas"]
    return next(a["color"] for a in areas if a["value"] == code)


def _approve(plant: PackPlant, assessor: str, changes: dict[str, Any] | None = None) -> None:
    plant.act(assessor, "assess", "submit", changes)
    plant.act("zhou.ming", "workshop", "approve")


def test_an_lec_assessment_is_scored_coloured_published_and_reviewed(plant: PackPlant) -> None:
    plant.install("risk")
    plant.import_org()
    workshop, officer, director = (plant.department_id("zhou.ming"), plant.user_id("wu.lei"),
                                   plant.user_id("zhou.ming"))
    area = plant.create("admin.test", "area", {"code": "MC-TURN", "name": "车削工段", "department": workshop,
                                               "owner": officer})
    point = plant.create("wu.lei", "risk_point", {"name": "1 号数控车床", "kind": "equipment", "area": area["id"],
                                                  "department": workshop, "owner": officer})
    assert plant.record(point["id"])["area_code"] == "MC-TURN"
    assert _map_colour(plant, "MC-TURN") != "#f57c00"

    # D = L × E × C = 3 × 6 × 15 = 270: significant (orange), controlled at department level.
    assessment = plant.create("wu.lei", "risk_assessment", {
        "risk_point": point["id"], "activity": "装夹工件", "hazard": "卡盘旋转时卷入衣袖、手套", "factor": "thing",
        "accident_types": ["machinery"], "method": "lec", "lec_l": "3", "lec_e": "6", "lec_c": "15",
        "controls": [{"type": "engineering", "measure": "卡盘防护罩与主轴联锁", "owner": officer}],
        "control_owners": [director, officer], "extra_measures": "防护罩门加装急停"})
    aid = assessment["id"]
    data = plant.record(aid)
    assert (data["score"], data["level"], data["color"], data["color_name"], data["control_level"]) == (
        270, "significant", "#f57c00", "橙", "department")

    # Significant: the workshop and then the safety department approve before it is published.
    _approve(plant, "wu.lei")
    assert plant.record(aid)["state"] == "reviewing"
    plant.act("li.haiyan", "safety_dept", "approve")
    data = plant.record(aid)
    assert data["state"] == "approved" and data["next_review"] == "2027-11-23"
    assert plant.record(point["id"])["level"] == "significant"
    assert plant.record(area["id"])["risk_class"] == "significant"
    published = plant.widgets("risk_overview")
    assert kpi(published["published"]) == 1 and kpi(published["high_share"]) == pytest.approx(1.0)
    assert kpi(published["review_due"]) == 0
    assert _map_colour(plant, "MC-TURN") == "#f57c00"

    # A year on the review falls due (the 07:00 sweep of 2027-11-23); the assessor re-assesses
    # (exposure now weekly: D = 135, general). In steps, as time passes on a real site: the day
    # before, the night's rollup rebuild, then the morning's sweep.
    for step in (timedelta(days=364, hours=-1), timedelta(hours=20)):
        plant.advance(step)
        assert plant.record(aid)["state"] == "approved"
    plant.advance(timedelta(hours=4))
    assert plant.record(aid)["state"] == "review_due"
    assert kpi(plant.widgets("risk_overview")["review_due"]) == 1
    _approve(plant, "wu.lei", {"lec_e": "3"})
    data = plant.record(aid)
    assert (data["state"], data["score"], data["level"], data["color"]) == ("approved", 135, "general", "#fbc02d")
    assert data["next_review"] == "2028-11-22"  # 365 days on, 2028 being a leap year
    assert plant.record(point["id"])["level"] == "general"
    after = plant.widgets("risk_overview")
    assert kpi(after["review_due"]) == 0 and kpi(after["high_share"]) == pytest.approx(0.0)
    assert _map_colour(plant, "MC-TURN") == "#fbc02d"

    card = plant.client.get(f"/api/v1/prints/risk_card/records/{aid}", params={"format": "html"},
                            headers=plant.headers("admin.test"))
    assert card.status_code == 200 and data["no"] in card.text and "卡盘防护罩与主轴联锁" in card.text


def _hazard_photo(plant: PackPlant, username: str) -> int:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(buffer, format="JPEG")
    response = plant.client.post("/api/v1/files", params={"form": "hazard", "field": "photos"},
                                 files={"file": ("grinder.jpg", buffer.getvalue(), "image/jpeg")},
                                 headers=plant.headers(username))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_confirmed_major_hazard_flags_the_risk_points_of_its_area_for_re_assessment(plant: PackPlant) -> None:
    plant.install("risk")
    plant.import_org()
    workshop, officer = plant.department_id("zhou.ming"), plant.user_id("wu.lei")
    turning, store = (plant.create("admin.test", "area", {"code": code, "name": name, "department": workshop,
                                                          "owner": officer})
                      for code, name in (("MC-TURN", "车削工段"), ("MC-STORE", "车间库房")))
    lathe, grinder, racks = (plant.create("wu.lei", "risk_point", {"name": name, "kind": kind, "area": area["id"]})
                             for name, kind, area in (("1 号数控车床", "equipment", turning),
                                                      ("砂轮机", "equipment", turning), ("货架区", "place", store)))
    # The grinder's published assessment: 3 × 6 × 7 = 126, general — the workshop publishes it.
    assessment = plant.create("wu.lei", "risk_assessment", {
        "risk_point": grinder["id"], "activity": "磨削刀具", "hazard": "砂轮破裂飞出伤人", "factor": "thing",
        "accident_types": ["machinery"], "method": "lec", "lec_l": "3", "lec_e": "6", "lec_c": "7",
        "controls": [{"type": "engineering", "measure": "砂轮防护罩", "owner": officer}],
        "control_owners": [officer]})
    aid = assessment["id"]
    _approve(plant, "wu.lei")
    assert plant.record(aid)["state"] == "approved" and plant.record(grinder["id"])["review_flag"] is False

    # A worker reports a suspected major hazard at the grinder; the EHS lead confirms it as major.
    hazard = plant.create("cao.ning", "hazard", {
        "photos": [_hazard_photo(plant, "cao.ning")], "area": turning["id"], "description": "砂轮机防护罩缺失",
        "category": "machine_guarding", "suggested_level": "major", "fixed_on_spot": False})
    plant.act("li.haiyan", "assess_ehs", "submit", {
        "level": "major", "major_criteria": ["gm_special_ops_cert"], "measures": "加装防护罩，调整托架间隙",
        "temp_measures": "停用砂轮机并挂牌", "verifier": officer, "budget": 3000, "contingency": "专人监护"})
    assert plant.record(hazard["id"])["assessed_at"] is not None

    # Both risk points of the area are flagged, with the hazard as the reason; the store's is not.
    for point in (lathe, grinder):
        data = plant.record(point["id"])
        assert (data["review_flag"], data["review_hazard"], data["flagged_on"]) == (True, hazard["id"], "2026-11-23")
        assert "砂轮机防护罩缺失" in data["review_reason"]
    assert plant.record(racks["id"])["review_flag"] is False
    inbox = plant.client.get("/api/v1/notifications/inbox", headers=plant.headers("wu.lei")).json()
    assert any("重大事故隐患" in message["title"] for message in inbox), inbox
    flagged = plant.widgets("risk_overview")["flagged_points"]["data"]["rows"]
    assert sorted(row[0] for row in flagged) == ["1 号数控车床", "砂轮机"]

    # The next morning's review sends the grinder's assessment back; publishing it clears the flag.
    plant.advance(timedelta(hours=22))
    assert plant.record(aid)["state"] == "review_due"
    controls = [{"type": "engineering", "measure": "砂轮防护罩", "owner": officer},
                {"type": "management", "measure": "每班开机前检查托架间隙", "owner": officer}]
    _approve(plant, "wu.lei", {"controls": controls})
    assert plant.record(aid)["state"] == "approved" and len(plant.record(aid)["controls"]) == 2
    assert plant.record(grinder["id"])["review_flag"] is False
    assert plant.record(lathe["id"])["review_flag"] is True  # no assessment yet: it stays on the list
