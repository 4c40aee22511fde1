"""Rule 5: 2 hazards of one kind in an area → its inspections go from monthly to biweekly;
3 months without a hazard → back to monthly."""

from __future__ import annotations

from datetime import timedelta

from tests.rules.support import Plant


def test_a_second_hazard_of_the_same_kind_tightens_the_inspection_frequency(plant: Plant) -> None:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    plant.create("hazard", title="leak", area=area, category="fire")
    plant.create("hazard", title="spark", area=area, category="electric")
    assert plant.read("area", area)["inspection_frequency"] == "monthly"
    plant.create("hazard", title="smoke", area=area, category="fire")
    assert plant.read("area", area)["inspection_frequency"] == "biweekly"


def test_three_quiet_months_relax_it_again_but_not_a_day_earlier(plant: Plant) -> None:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    for title in ("leak", "smoke"):
        plant.create("hazard", title=title, area=area, category="fire")
    assert plant.read("area", area)["inspection_frequency"] == "biweekly"
    for _ in range(88):  # 2026-11-23 + 88 days = 2027-02-19: 3 months are not over yet
        plant.advance(timedelta(days=1))
    assert plant.read("area", area)["inspection_frequency"] == "biweekly"
    for _ in range(5):
        plant.advance(timedelta(days=1))
    assert plant.read("area", area)["inspection_frequency"] == "monthly"
    assert len(plant.firings("relax_inspections")) == 1


def test_a_new_hazard_restarts_the_quiet_period(plant: Plant) -> None:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    for title in ("leak", "smoke"):
        plant.create("hazard", title=title, area=area, category="fire")
    plant.advance(timedelta(days=60))
    plant.create("hazard", title="drip", area=area, category="chemical")
    plant.advance(timedelta(days=40))
    assert plant.read("area", area)["inspection_frequency"] == "biweekly"
