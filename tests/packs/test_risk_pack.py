"""The risk pack (风险分级管控) as a site gets it: installed with base on a fresh database, checked
clean with its rule tests, an LEC assessment walked through the API from identification to
publication and its yearly review, with the four-colour map and the KPIs following."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.packs.support import LIBRARY, PackPlant, kpi, library_files


def test_safeflow_check_is_clean_and_runs_the_packs_rule_tests() -> None:
    result = CliRunner().invoke(app, ["check", str(LIBRARY / "risk")], env={"SAFEFLOW_LOCALE": "en"})
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output, result.output


def test_install_then_export_gives_the_same_bytes(plant: PackPlant) -> None:
    assert [p["pack"] for p in plant.install("risk")] == ["base", "risk"]
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
