"""`for each` on an event trigger: the rule runs once per row that passes its where, seeing the
trigger's record under its alias and the row under its own — a hazard turned major in an area
brings forward every inspection of that area and leaves other areas' alone."""

from __future__ import annotations

from tests.rules.support import Plant

RULES = '''
rule "recheck_area"
  when hazard updated of risk_level as h
  for each inspection as i where i.area == h.area
  if h.risk_level == "major"
  then update i.id set result = "missed", due_at = now()
  dedupe by h.id, i.id for 1d
end
'''


def test_each_matching_row_is_acted_on_once_and_others_are_left_alone(plant: Plant) -> None:
    plant.publish_rules(RULES, key="recheck")
    tank, store = plant.create("area", name="Tank farm"), plant.create("area", name="Store")
    in_tank = [plant.create("inspection", area=tank) for _ in range(2)]
    in_store = plant.create("inspection", area=store)
    hazard = plant.create("hazard", title="leak", area=tank, category="fire")

    plant.update("hazard", hazard, risk_level="major")

    assert [plant.read("inspection", i).get("result") for i in in_tank] == ["missed", "missed"]
    assert plant.read("inspection", in_store).get("result") is None
    fired = plant.firings("recheck_area")
    assert sorted(f.record_id for f in fired) == in_tank and {f.trigger for f in fired} == {"record.updated"}


def test_the_condition_is_asked_per_row_and_a_false_one_changes_nothing(plant: Plant) -> None:
    plant.publish_rules(RULES, key="recheck")
    tank = plant.create("area", name="Tank farm")
    inspection = plant.create("inspection", area=tank)
    hazard = plant.create("hazard", title="leak", area=tank, category="fire", risk_level="major")

    plant.update("hazard", hazard, risk_level="general")

    assert plant.read("inspection", inspection).get("result") is None
    assert [f.record_id for f in plant.firings("recheck_area", outcome="not_matched")] == [inspection]
