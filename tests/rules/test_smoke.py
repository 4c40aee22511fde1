from tests.rules.support import Plant


def test_the_five_safety_rules_publish(plant: Plant) -> None:
    assert plant.publish_rules() == 1
