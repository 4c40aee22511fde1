"""Rule 4: an area that misses 2 consecutive inspections, or has a hazard open for more than
24 hours → notify the area's supervisor, CC the EHS lead."""

from __future__ import annotations

from datetime import timedelta

from tests.rules.support import Plant

HOUR = timedelta(hours=1)


def _area(plant: Plant) -> int:
    return plant.create("area", name="Tank farm", supervisor=plant.users["sun"])


def _inspection(plant: Plant, area: int, result: str) -> None:
    plant.create("inspection", area=area, result=result, due_at=plant.clock.now().isoformat())
    plant.advance(timedelta(minutes=1))


def _escalations(plant: Plant) -> set[int | None]:
    return {u for _, u, s in plant.messages("inapp") if s.startswith("升级提醒")}


def test_two_missed_inspections_in_a_row_escalate_to_the_supervisor_with_the_ehs_lead_in_cc(plant: Plant) -> None:
    plant.publish_rules()
    area = _area(plant)
    _inspection(plant, area, "missed")
    plant.advance(HOUR)
    assert plant.firings("area_needs_attention") == []
    _inspection(plant, area, "missed")
    plant.advance(HOUR)
    [firing] = plant.firings("area_needs_attention")
    assert firing.record_id == area
    assert firing.actions[0]["to"] == [f"user:{plant.users['sun']}", "cc:role:ehs_lead"]
    assert _escalations(plant) == {plant.users["sun"], plant.users["zhao"]}


def test_a_done_inspection_between_two_missed_ones_breaks_the_run(plant: Plant) -> None:
    plant.publish_rules()
    area = _area(plant)
    for result in ("missed", "done", "missed"):
        _inspection(plant, area, result)
    plant.advance(HOUR)
    assert plant.firings("area_needs_attention") == []


def test_a_hazard_open_more_than_24_hours_escalates_once_a_day(plant: Plant) -> None:
    plant.publish_rules()
    area = _area(plant)
    hazard = plant.create("hazard", title="leak", area=area, category="fire")
    for _ in range(24):
        plant.advance(HOUR)
    assert plant.firings("area_needs_attention") == []  # exactly 24 h is not "more than"
    plant.advance(HOUR)
    assert len(plant.firings("area_needs_attention")) == 1
    for _ in range(5):
        plant.advance(HOUR)
    assert len(plant.firings("area_needs_attention")) == 1
    plant.update("hazard", hazard, state="closed")
    plant.advance(timedelta(days=1, hours=1))
    assert len(plant.firings("area_needs_attention")) == 1
