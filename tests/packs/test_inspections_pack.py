"""The inspections pack (安全检查) as a site gets it: installed with base and hazards on a fresh
database, checked clean with its rule tests, a scheduled inspection checked in by QR on site, a
failed item turned into a hazard in one tap, and a missed inspection caught — with the
dashboard's completion rate, findings and missed count following; department-scoped readers
seeing their own department's inspections only; schedules following the business calendar
across a holiday and a weekend; and a check-in far from its area accepted but flagged."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from engine.cli import app
from tests.packs.support import LIBRARY, PackPlant, at, kpi, library_files

TURNING = {"lat": 31.2304, "lng": 121.4737}  # the turning section's position on the site plan


def test_safeflow_check_is_clean_and_runs_the_packs_rule_tests() -> None:
    result = CliRunner().invoke(app, ["check", str(LIBRARY / "inspections")], env={"SAFEFLOW_LOCALE": "en"})
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output, result.output


def test_install_then_export_gives_the_same_bytes(plant: PackPlant) -> None:
    assert [p["pack"] for p in plant.install("inspections")] == ["base", "hazards", "inspections"]
    assert plant.export("inspections") == library_files("inspections")


def _photo(plant: PackPlant, username: str) -> int:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="JPEG")
    response = plant.client.post("/api/v1/files", params={"form": "inspection", "field": "items.photo"},
                                 files={"file": ("grinder.jpg", buffer.getvalue(), "image/jpeg")},
                                 headers=plant.headers(username))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _tap(plant: PackPlant, inspection: int, item: str) -> Any:
    """The "raise as hazard" button on one checklist row: an update of the inspection."""
    url = f"/api/v1/records/inspection/{inspection}"
    got = plant.client.get(url, headers=plant.headers("qian.bo"))
    assert got.status_code == 200, got.text
    version = got.json()["row_version"]
    response = plant.client.patch(url, json={"data": {"raise_item": item}, "row_version": version},
                                  headers=plant.headers("qian.bo"))
    plant.settle()
    return response


def test_a_scheduled_inspection_from_qr_check_in_to_a_hazard_and_a_missed_one(plant: PackPlant) -> None:
    plant.install("inspections")
    plant.import_org()
    inspector, owner = plant.user_id("qian.bo"), plant.user_id("zheng.qiang")
    area = plant.create("admin.test", "area", {"code": "MC-TURN", "name": "车削工段", "location": TURNING,
                                               "department": plant.department_id("qian.bo"), "owner": owner})
    plan = plant.create("li.haiyan", "inspection_plan", {
        "name": "车削工段日常检查", "checklist": "machining_daily", "area": area["id"], "frequency": "daily",
        "inspector": inspector, "next_due": at("17:00"), "lead_hours": 12})

    # The hourly schedule creates today's inspection with the machining checklist's 13 items.
    plant.advance(timedelta(hours=1))
    first = plant.records("inspection")[0]
    data = plant.record(first.id)
    assert (data["plan"], data["area_code"], data["state"], len(data["items"])) == (plan["id"], "MC-TURN",
                                                                                    "planned", 13)
    assert plant.record(plan["id"])["next_due"] == "2026-11-24T09:00:00Z"

    # Check-in: a code from another area is refused; the area's own QR code starts the check.
    wrong = plant.act("qian.bo", "checkin", "submit", {"checkin_code": "SF-AREA:WH-RAW"}, status=422)
    assert [p["path"] for p in wrong["error"]["problems"]] == ["checkin_code"]
    plant.act("qian.bo", "checkin", "submit", {"checkin_code": "SF-AREA:MC-TURN",
                                               "checkin_geo": {"lat": 31.2305, "lng": 121.4738, "accuracy": 8}})
    data = plant.record(first.id)
    assert data["state"] == "in_progress" and data["checkin_ok"] is True and data["checked_in_at"] is not None
    assert data["checkin_distance_m"] == 15 and data["gps_warning"] is False  # on site: not flagged

    # The schedule's inspection belongs to the inspector and the area's unit: the turning team and
    # the workshop see it; the milling team's leader and the EHS department's officer do not.
    for username, status in (("huang.kai", 200), ("zhou.ming", 200), ("feng.tao", 404), ("sun.liwei", 404)):
        seen = plant.client.get(f"/api/v1/records/inspection/{first.id}", headers=plant.headers(username))
        assert seen.status_code == status, (username, seen.text)

    # One item fails (the grinder's work rest), with a photo; the rest pass.
    items = [{**row, "result": "pass"} for row in data["items"]]
    grinder = next(i for i, row in enumerate(items) if row["key"] == "mc.04")
    items[grinder] = {**items[grinder], "result": "fail", "note": "托架间隙约 6 mm",
                      "photo": [_photo(plant, "qian.bo")]}
    plant.act("qian.bo", "check", "submit", {"items": items, "finished_at": at("10:30"), "summary": "一项不符合"})
    assert plant.record(first.id)["findings"] == 1 and plant.record(first.id)["state"] == "done"

    # One tap on the failed item: a hazard in the hazards pack, with the photo and what was wrong.
    tapped = _tap(plant, first.id, "mc.04")
    assert tapped.status_code == 200, tapped.text
    hazards = plant.records("hazard")
    assert len(hazards) == 1 and hazards[0].department_id == plant.department_id("qian.bo")
    hazard = plant.record(hazards[0].id)
    assert (hazard["area"], hazard["category"], hazard["source"], hazard["area_code"]) == (
        area["id"], "machine_guarding", "daily_check", "MC-TURN")
    assert "托架间隙约 6 mm" in hazard["description"] and len(hazard["photos"]) == 1
    assert hazard["photos"] != items[grinder]["photo"]  # a copy of the photo: a file belongs to one record
    after_tap = plant.record(first.id)
    assert after_tap["hazards_raised"] == 1 and after_tap["raise_item"] is None
    passed = next(row["key"] for row in items if row["result"] == "pass")
    refused = _tap(plant, first.id, passed)
    assert refused.status_code == 422 and len(plant.records("hazard")) == 1

    plant.act("zheng.qiang", "confirm", "approve")
    assert plant.record(first.id)["confirmed_at"] is not None
    done = plant.widgets("inspections_overview")
    assert kpi(done["completion"]) == pytest.approx(1.0) and kpi(done["findings_per_inspection"]) == pytest.approx(1)
    assert kpi(done["hazards_raised"]) == 1 and kpi(done["missed"]) == 0

    # Tomorrow's inspection is created at 05:00 and nobody does it: missed at its due time.
    for step in (timedelta(hours=17), timedelta(hours=2), timedelta(hours=12)):  # 04:00, 06:00, 18:00
        plant.advance(step)
    second = plant.records("inspection")[1]
    assert plant.record(second.id)["state"] == "missed"
    inbox = plant.client.get("/api/v1/notifications/inbox", headers=plant.headers("qian.bo")).json()
    assert any("漏检" in message["title"] for message in inbox), inbox
    missed = plant.widgets("inspections_overview")
    assert kpi(missed["missed"]) == 1 and kpi(missed["completion"]) == pytest.approx(0.5)

    report = plant.client.get(f"/api/v1/prints/inspection_report/records/{first.id}", params={"format": "html"},
                              headers=plant.headers("admin.test"))
    assert report.status_code == 200 and data["no"] in report.text and "托架间隙约 6 mm" in report.text


def _task_for(plant: PackPlant, username: str, record_id: int, node: str) -> str:
    items = plant.client.get("/api/v1/tasks", params={"box": "todo"}, headers=plant.headers(username)).json()["items"]
    return next(t["task_id"] for t in items if t["node"] == node and t["record_id"] == record_id)


def _check_in(plant: PackPlant, record_id: int, geo: dict[str, float]) -> None:
    task = _task_for(plant, "qian.bo", record_id, "checkin")
    response = plant.client.post(f"/api/v1/tasks/{task}/actions", headers=plant.headers("qian.bo"), json={
        "action": "submit", "data": {"checkin_code": "SF-AREA:MC-TURN", "checkin_geo": geo}})
    assert response.status_code == 200, response.text
    plant.settle()


def _due_dates(plant: PackPlant, plan: int) -> list[str]:
    return [plant.record(r.id)["due_at"] for r in plant.records("inspection") if plant.record(r.id)["plan"] == plan]


def test_schedules_follow_the_holiday_calendar_and_a_far_check_in_is_flagged(
        plant_before_mid_autumn: PackPlant) -> None:
    plant = plant_before_mid_autumn
    plant.install("inspections")
    plant.import_org()
    inspector = plant.user_id("qian.bo")
    area = plant.create("admin.test", "area", {"code": "MC-TURN", "name": "车削工段", "location": TURNING,
                                               "department": plant.department_id("qian.bo"),
                                               "owner": plant.user_id("zheng.qiang")})
    daily = plant.create("li.haiyan", "inspection_plan", {
        "name": "车削工段日常检查", "checklist": "machining_daily", "area": area["id"], "frequency": "daily",
        "inspector": inspector, "next_due": "2026-09-24T17:00:00+08:00", "lead_hours": 12})
    # Set up for Monday: the before-holiday check moves to Thursday, the day before Mid-Autumn.
    eve = plant.create("li.haiyan", "inspection_plan", {
        "name": "车削工段节前检查", "checklist": "holiday_before", "area": area["id"],
        "frequency": "before_holiday", "inspector": inspector, "next_due": "2026-09-21T17:00:00+08:00",
        "lead_hours": 12})
    assert plant.record(eve["id"])["next_due"] == "2026-09-24T09:00:00Z"

    plant.advance(timedelta(hours=1))
    assert _due_dates(plant, daily["id"]) == _due_dates(plant, eve["id"]) == ["2026-09-24T09:00:00Z"]
    # Next: Monday 28th (Mid-Autumn Friday and the weekend skipped); before National Day, the 30th.
    assert plant.record(daily["id"])["next_due"] == "2026-09-28T09:00:00Z"
    assert plant.record(eve["id"])["next_due"] == "2026-09-30T09:00:00Z"

    # Two check-ins with the right QR code: on site, and 1.1 km away — both accepted, one flagged.
    [on_site] = [r.id for r in plant.records("inspection") if plant.record(r.id)["plan"] == daily["id"]]
    [far] = [r.id for r in plant.records("inspection") if plant.record(r.id)["plan"] == eve["id"]]
    _check_in(plant, on_site, {"lat": 31.2305, "lng": 121.4738, "accuracy": 8})
    _check_in(plant, far, {"lat": 31.2404, "lng": 121.4737, "accuracy": 10})
    near, away = plant.record(on_site), plant.record(far)
    assert (near["state"], near["gps_warning"]) == ("in_progress", False)
    assert (away["state"], away["gps_warning"], away["checkin_distance_m"], away["checkin_radius_m"]) == (
        "in_progress", True, 1112, 200)
    rows = plant.widgets("inspections_overview")["gps_warnings"]["data"]["rows"]
    assert [(row[0], row[2]) for row in rows] == [(away["no"], 1112)]
    report = plant.client.get(f"/api/v1/prints/inspection_report/records/{far}", params={"format": "html"},
                              headers=plant.headers("admin.test"))
    assert report.status_code == 200 and "Check-in far from the area" in report.text and "1112" in report.text

    # Across the holiday: nothing is due on Friday 25th or the weekend; Monday's check is created
    # at 05:00 on the 28th. The EHS lead is asked to enter next year's holidays (the calendar ends
    # in October).
    plant.advance(timedelta(days=3, hours=20))
    assert _due_dates(plant, daily["id"]) == ["2026-09-24T09:00:00Z", "2026-09-28T09:00:00Z"]
    assert plant.record(daily["id"])["next_due"] == "2026-09-29T09:00:00Z"
    inbox = plant.client.get("/api/v1/notifications/inbox", headers=plant.headers("li.haiyan")).json()
    assert any("工作日历需补录节假日" in message["title"] for message in inbox), inbox
