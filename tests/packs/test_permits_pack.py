"""The permits pack (GB 30871-2022) as a site gets it: installed with base on a fresh database,
checked clean, its rule tests passing, a level-1 hot-work permit walked through the API from
application to close-out with the cockpit's numbers following, and exported byte for byte."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.packs.support import LIBRARY, PackPlant, at, kpi, library_files


def test_safeflow_check_is_clean_and_runs_the_packs_rule_tests() -> None:
    result = CliRunner().invoke(app, ["check", str(LIBRARY / "permits")], env={"SAFEFLOW_LOCALE": "en"})
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output, result.output


def test_install_then_export_gives_the_same_bytes(plant: PackPlant) -> None:
    installed = plant.install("permits")
    assert [p["pack"] for p in installed] == ["base", "permits"]
    assert plant.export("permits") == library_files("permits")


def _setup(plant: PackPlant) -> dict[str, int]:
    plant.install("permits")
    plant.import_org()
    people = {u: plant.user_id(u) for u in ("zheng.qiang", "qian.bo", "huang.kai", "wu.lei", "zhou.ming",
                                           "zhao.zhigang", "feng.tao")}
    workshop = plant.department_id("zhou.ming")
    area = plant.create("admin.test", "area", {"code": "MC-01", "name": "机加工车间", "department": workshop,
                                               "owner": people["wu.lei"]})
    for holder, category, number in (("huang.kai", "welding", "T-0001"), ("qian.bo", "guardian", "G-0001")):
        plant.create("admin.test", "certificate", {
            "holder": people[holder], "kind": "guardian" if category == "guardian" else "special_operation",
            "category": category, "number": number, "expires_on": "2029-06-30"})
    people["area"], people["workshop"] = area["id"], workshop
    return people


def _hot_work_level_1(p: dict[str, int]) -> dict[str, Any]:
    return {"kind": "hot_work", "level": "hot_1", "applicant_dept": p["workshop"], "area": p["area"],
            "content": "更换冷却液管路法兰并焊接支架", "location": "车削班 3 号机床旁", "work_unit": "车削班",
            "planned_start": at("10:00"), "planned_end": at("17:00"), "hot_method": ["electric_welding"],
            "fire_explosion_area": True, "work_leader": p["zheng.qiang"], "guardian": p["qian.bo"],
            "gas_analyst": p["wu.lei"], "workers": [{"worker": p["huang.kai"], "cert_no": "T-0001"}],
            "risk_result": "焊渣飞溅引燃油污；焊机漏电"}


def test_a_level_1_hot_work_permit_from_application_to_close_out(plant: PackPlant) -> None:
    p = _setup(plant)
    before = plant.widgets("permits_overview")
    assert kpi(before["issued"]) == 0 and kpi(before["working"]) == 0

    # 09:00 the team leader applies; the level the standard gives (fire/explosion area, day shift) is level 1.
    permit = plant.create("zheng.qiang", "permit", _hot_work_level_1(p))
    pid = permit["id"]
    data = plant.record(pid)
    assert (data["level_min"], data["unit"], data["certs_ok"], data["gas_required"]) == ("hot_1", p["workshop"],
                                                                                       True, True)
    assert len(data["measures"]) == 13 and data["no"].startswith("ZY20261123-")
    plant.act("zheng.qiang", "apply", "submit")
    assert plant.record(pid)["state"] == "approving"

    # The person in charge confirms every measure and briefs the crew.
    measures = [{**m, "involved": "yes", "confirmed_by": p["zheng.qiang"]} for m in plant.record(pid)["measures"]]
    plant.act("zheng.qiang", "measures", "submit", {"measures": measures, "measures_done": True,
                                                   "briefing_by": p["zheng.qiang"],
                                                   "briefed": [p["huang.kai"], p["qian.bo"]]})
    plant.advance(timedelta(minutes=10))
    sample = {"sampled_at": at("09:10"), "point": "法兰处", "flammable_pct": 0.1, "analyst": p["wu.lei"]}
    plant.act("wu.lei", "gas", "submit", {"gas": [sample]})
    assert plant.record(pid)["last_gas_passed"] is True

    # Level 1: the workshop director and the safety director countersign; both must approve.
    plant.act("zhou.ming", "review", "approve")
    assert plant.record(pid)["state"] == "approving"
    plant.advance(timedelta(minutes=20))
    plant.act("zhao.zhigang", "review", "approve")
    data = plant.record(pid)
    assert data["state"] == "approved" and data["approval_minutes"] == 30
    assert kpi(plant.widgets("permits_overview")["approval_time"]) == pytest.approx(30)

    plant.act("qian.bo", "guardian", "submit", {"guardian_checkin_at": at("09:35"),
                                                "guardian_checks": ["permit", "certificates", "ppe"]})

    # 09:50: the sample is 40 minutes old; the start check refuses the start and the analyst is called.
    plant.advance(timedelta(minutes=20))
    refused = plant.act("zheng.qiang", "start_check", "approve", {"work_started_at": at("09:50")}, status=422)
    assert any(pr.get("path") == "work_started_at" for pr in refused["error"]["problems"])
    assert plant.record(pid)["state"] == "approved"
    inbox = plant.client.get("/api/v1/notifications/inbox", headers=plant.headers("wu.lei")).json()
    assert any("气体分析已超时" in m["title"] for m in inbox), inbox
    plant.act("zheng.qiang", "start_check", "reject", comment="气体分析超过 30 分钟，重新分析")
    retest = {"sampled_at": at("09:52"), "point": "法兰处", "flammable_pct": 0.1, "analyst": p["wu.lei"]}
    plant.act("wu.lei", "gas", "submit", {"gas": [sample, retest]})
    plant.advance(timedelta(minutes=5))
    plant.act("feng.tao", "start_check", "approve", {"work_started_at": at("09:55")})
    assert plant.record(pid)["state"] == "working"
    during = plant.widgets("permits_overview")
    assert kpi(during["working"]) == 1 and kpi(during["issued"]) == 1
    assert during["by_kind_level"]["data"]["rows"] == [["hot_work", "hot_1", 1]]

    # The work runs past its validity: the permit expires and counts as not closed out.
    plant.advance(timedelta(hours=7, minutes=30))
    assert plant.record(pid)["state"] == "expired"
    assert kpi(plant.widgets("permits_overview")["overdue_closeout"]) == 1
    plant.act("qian.bo", "work", "submit", {"work_finished_at": at("16:50")})
    plant.act("zheng.qiang", "closeout", "approve", {"closeout_checks": ["site_clear", "no_embers"]})
    data = plant.record(pid)
    assert data["state"] == "closed" and data["closed_at"] is not None
    after = plant.widgets("permits_overview")
    assert kpi(after["overdue_closeout"]) == 0 and kpi(after["working"]) == 0

    printed = plant.client.get(f"/api/v1/prints/permit/records/{pid}", params={"format": "html"},
                               headers=plant.headers("admin.test"))
    assert printed.status_code == 200, printed.text
    assert data["no"] in printed.text and "data:image/svg+xml" in printed.text  # the QR code
    # On paper: local times, the area by name, the crew by name (also inside the sub-tables).
    assert "2026-11-23 10:00 — 2026-11-23 17:00" in printed.text and "机加工车间 · 车削班 3 号机床旁" in printed.text
    assert "<td>黄凯</td><td>T-0001</td>" in printed.text
