"""Rule 1: more than 5 hazards of one category in one area within 7 days → alert the plant
manager and the safety director, mark the risk major."""

from __future__ import annotations

from datetime import timedelta

from tests.rules.support import Plant


def _hazards(plant: Plant, area: int, n: int, category: str = "fire",
             every: timedelta = timedelta(hours=1)) -> list[int]:
    ids = []
    for _ in range(n):
        ids.append(plant.create("hazard", title="leak", area=area, category=category))
        plant.advance(every)
    return ids


def test_five_hazards_are_not_a_cluster_but_the_sixth_is(plant: Plant) -> None:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    ids = _hazards(plant, area, 5)
    assert plant.firings("hazard_cluster") == []
    assert [f.outcome for f in plant.firings("hazard_cluster", None)] == ["not_matched"] * 5

    sixth = _hazards(plant, area, 1)[0]
    [firing] = plant.firings("hazard_cluster")
    assert firing.record_id == sixth
    assert plant.read("hazard", sixth)["risk_level"] == "major"
    assert all(plant.read("hazard", i)["risk_level"] == "general" for i in ids)
    alerted = {(channel, user) for channel, user, _ in plant.messages()}
    assert alerted == {(c, plant.users[u]) for c in ("inapp", "email") for u in ("wang", "li")}


def _five_then_sixth(plant: Plant, area: int, sixth_after: timedelta) -> int:
    """One hazard, four more on day 6, the sixth `sixth_after` the first one."""
    start = plant.clock.now()
    plant.create("hazard", title="leak", area=area, category="fire")
    plant.clock.set(start + timedelta(days=6))
    _hazards(plant, area, 4, every=timedelta(minutes=1))
    plant.clock.set(start + sixth_after)
    return plant.create("hazard", title="leak", area=area, category="fire")


def test_the_first_hazard_still_counts_on_the_last_second_of_day_7(plant: Plant) -> None:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    sixth = _five_then_sixth(plant, area, timedelta(days=7) - timedelta(seconds=1))
    assert [f.record_id for f in plant.firings("hazard_cluster")] == [sixth]


def test_a_hazard_from_day_8_has_left_the_window(plant: Plant) -> None:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    _five_then_sixth(plant, area, timedelta(days=7, seconds=1))
    assert plant.firings("hazard_cluster") == []
    [last] = plant.firings("hazard_cluster", "not_matched")[-1:]
    count = last.conditions[0]["children"][0]
    assert (count["text"].startswith("count("), count["value"]) == (True, 5)


def test_other_categories_and_areas_do_not_count(plant: Plant) -> None:
    plant.publish_rules()
    a, b = plant.create("area", name="A"), plant.create("area", name="B")
    _hazards(plant, a, 3, "fire")
    _hazards(plant, a, 3, "electric")
    _hazards(plant, b, 3, "fire")
    assert plant.firings("hazard_cluster") == []


def test_the_cluster_alerts_once_per_area_and_category_within_the_dedupe_period(plant: Plant) -> None:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    _hazards(plant, area, 8)
    assert len(plant.firings("hazard_cluster")) == 1
    assert [f.outcome for f in plant.firings("hazard_cluster", None)][-2:] == ["deduped", "deduped"]
