"""Rule 3: a special-operation certificate expiring within 30 days → notify the holder and their
direct supervisor, once per certificate (not every morning)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.rules.support import Plant

DAY = timedelta(days=1)


def test_the_holder_and_the_supervisor_hear_once_when_30_days_are_left(plant: Plant) -> None:
    plant.publish_rules()
    today = date(2026, 11, 23)
    cert = plant.create("certificate", kind="special_operation", holder=plant.users["qian"],
                        expires_on=today + timedelta(days=32))
    plant.advance(DAY)  # 11-24 08:00: 31 days left
    assert plant.firings("certificate_expiring") == []
    plant.advance(DAY)  # 11-25 08:00: 30 days left
    [firing] = plant.firings("certificate_expiring")
    assert firing.record_id == cert
    inbox = plant.messages("inapp")
    assert {u for _, u, _ in inbox} == {plant.users["qian"], plant.users["sun"]}
    assert {s for _, _, s in inbox} == {"证书即将到期：special_operation"}
    for _ in range(10):
        plant.advance(DAY)
    assert len(plant.firings("certificate_expiring")) == 1
    assert len(plant.messages("inapp")) == 2
    assert len(plant.firings("certificate_expiring", "deduped")) == 10


def test_other_kinds_and_expired_certificates_are_left_alone(plant: Plant) -> None:
    plant.publish_rules()
    today = date(2026, 11, 23)
    plant.create("certificate", kind="forklift", holder=plant.users["qian"], expires_on=today + timedelta(days=10))
    plant.create("certificate", kind="special_operation", holder=plant.users["qian"],
                 expires_on=today - timedelta(days=1))
    plant.advance(DAY)
    assert plant.firings("certificate_expiring") == []
    assert plant.firings("certificate_expiring", "not_matched")  # the expired one was looked at


def test_a_renewed_certificate_is_announced_again_before_its_new_date(plant: Plant) -> None:
    plant.publish_rules()
    today = date(2026, 11, 23)
    cert = plant.create("certificate", kind="special_operation", holder=plant.users["qian"],
                        expires_on=today + timedelta(days=20))
    plant.advance(DAY)
    plant.update("certificate", cert, expires_on=(today + timedelta(days=40)).isoformat())
    plant.advance(timedelta(days=11))  # 29 days before the new date
    assert len(plant.firings("certificate_expiring")) == 2
