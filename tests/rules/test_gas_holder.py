"""Rule 2: a gas-holder pressure reading above that holder's threshold 3 consecutive times →
the highest alarm and the emergency flow; a reading back under the threshold resets the count."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models.flows import StoredInstance
from tests.rules.support import Plant


def _setup(plant: Plant) -> None:
    plant.publish_rules()
    plant.create("gas_holder", code="GH-1", threshold=5.0)
    plant.create("gas_holder", code="GH-2", threshold=8.0)


def _flows(plant: Plant) -> list[str]:
    with plant.site.session() as session:
        return list(session.execute(select(StoredInstance.flow_key)).scalars())


def test_three_readings_over_the_threshold_raise_the_alarm_and_start_the_emergency_flow(plant: Plant) -> None:
    _setup(plant)
    for value in (5.2, 5.4):
        plant.reading("GH-1", value)
    assert plant.firings("gas_holder_overpressure") == []
    plant.reading("GH-1", 5.6)
    [firing] = plant.firings("gas_holder_overpressure")
    assert [a["kind"] for a in firing.actions] == ["raise_alert", "start_flow"]
    assert firing.actions[0]["detail"] == {"alert": "gas_holder_overpressure", "level": "highest"}
    assert _flows(plant) == ["emergency_response"]
    assert {(c, u) for c, u, _ in plant.messages()} == {("inapp", plant.users["zhou"]), ("sms", plant.users["zhou"])}


def test_a_reading_back_under_the_threshold_resets_the_count(plant: Plant) -> None:
    _setup(plant)
    for value in (5.2, 5.4, 4.9, 5.5, 5.6):
        plant.reading("GH-1", value)
    assert plant.firings("gas_holder_overpressure") == []
    plant.reading("GH-1", 5.7)
    assert len(plant.firings("gas_holder_overpressure")) == 1


def test_each_holder_has_its_own_threshold_and_its_own_count(plant: Plant) -> None:
    _setup(plant)
    for value in (6.0, 7.0, 7.5):  # over GH-1's 5.0, under GH-2's 8.0
        plant.reading("GH-2", value)
    plant.reading("GH-1", 6.0)
    plant.reading("GH-2", 8.5)
    plant.reading("GH-1", 6.0)
    assert plant.firings("gas_holder_overpressure") == []


def test_the_why_shows_the_threshold_and_the_bound_question(plant: Plant) -> None:
    _setup(plant)
    for value in (5.2, 5.4, 5.6):
        plant.reading("GH-1", value)
    [firing] = plant.firings("gas_holder_overpressure")
    top = firing.conditions[0]
    assert top["value"] is True and top["detail"]["function"] == "consecutive"
    assert top["detail"]["condition"] == "value > 5.0" and top["detail"]["n"] == 3
