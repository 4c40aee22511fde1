"""Rules are versioned definitions: a new version takes effect without a restart, and an
evaluation already running finishes on the version it started with."""

from __future__ import annotations

import threading
from datetime import timedelta

from engine.runtime import rules as rules_runtime
from tests.rules.support import ADMIN, Plant

V1 = '''rule "big_leak" when hazard created as h if h.title == "big" then update record set risk_level = "major" end'''
V2 = '''rule "big_leak" when hazard created as h if h.title == "huge" then update record set risk_level = "major" end'''


def test_publishing_a_new_version_takes_effect_on_the_next_event(plant: Plant) -> None:
    plant.publish_rules(V1, key="leaks")
    area = plant.create("area", name="A")
    first = plant.create("hazard", title="big", area=area, category="x")
    plant.publish_rules(V2, key="leaks")
    second = plant.create("hazard", title="big", area=area, category="x")
    third = plant.create("hazard", title="huge", area=area, category="x")
    assert [plant.read("hazard", i)["risk_level"] for i in (first, second, third)] == ["major", "general", "major"]
    assert [(f.record_id, f.version) for f in plant.firings("big_leak")] == [(first, 1), (third, 2)]


def test_an_evaluation_in_flight_finishes_on_the_book_it_started_with(plant: Plant) -> None:
    plant.publish_rules(V1, key="leaks")
    area = plant.create("area", name="A")
    with plant.site.session() as session:
        old_book = rules_runtime.load_book(session)
    done = threading.Event()

    def publish_v2() -> None:
        with plant.site.session() as session:
            rules_runtime.publish(session, plant.site, ADMIN, "leaks", V2)
        done.set()

    worker = threading.Thread(target=publish_v2)
    worker.start()
    worker.join(30)
    assert done.is_set()
    with plant.site.session() as session:
        new_book = rules_runtime.load_book(session)
    assert old_book.by_name["big_leak"].version == 1 and new_book.by_name["big_leak"].version == 2
    assert old_book.by_name["big_leak"].condition.text == 'h.title == "big"'  # unchanged by the publish
    plant.create("hazard", title="huge", area=area, category="x")
    assert [f.version for f in plant.firings("big_leak")] == [2]


def test_a_broken_rule_set_is_refused_and_the_old_version_stays_in_effect(plant: Plant) -> None:
    import pytest

    from engine.errors import InvalidInput

    plant.publish_rules(V1, key="leaks")
    with pytest.raises(InvalidInput), plant.site.session() as session:
        rules_runtime.publish(session, plant.site, ADMIN, "leaks", V1.replace("h.title", "h.titel"))
    area = plant.create("area", name="A")
    plant.create("hazard", title="big", area=area, category="x")
    assert [f.version for f in plant.firings("big_leak")] == [1]


def test_flow_automation_nodes_use_the_rule_actions_effects(plant: Plant) -> None:
    from sqlalchemy import select

    from engine.store.models import OutboxMessage

    with plant.site.session() as session:
        automation = rules_runtime.FlowAutomation(session, plant.site)
        automation.create_record("area", {"name": "From a flow"}, {"engine": "flows"})
        automation.call_webhook("http://127.0.0.1:9/hook", "PUT", {"a": 1}, {"engine": "flows"})
    with plant.site.session() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert (row.channel, row.payload) == ("webhook", {"json": {"a": 1}, "method": "PUT"})


def test_the_book_looked_up_once_per_transaction_sees_a_publish_in_it(plant: Plant) -> None:
    plant.publish_rules(V1, key="leaks")
    with plant.site.session() as session:
        first = rules_runtime.load_book(session)
        assert rules_runtime.load_book(session) is first  # one lookup per transaction
        rules_runtime.publish(session, plant.site, ADMIN, "leaks", V2)
        assert rules_runtime.load_book(session).by_name["big_leak"].version == 2
        savepoint = session.begin_nested()
        rules_runtime.publish(session, plant.site, ADMIN, "leaks", V1)
        assert rules_runtime.load_book(session).by_name["big_leak"].version == 3
        savepoint.rollback()
        assert rules_runtime.load_book(session).by_name["big_leak"].version == 2
    with plant.site.session() as session:
        assert rules_runtime.load_book(session).by_name["big_leak"].version == 2


def test_a_record_a_rule_creates_belongs_to_the_owner_and_department_of_its_cause(plant: Plant) -> None:
    from engine.forms.records import RecordService
    from engine.store.models import Record
    from tests.helpers import make_department, make_user

    department_id = make_department(plant.site, "PAINT", "Paint shop")
    inspector = make_user(plant.site, "inspector", department=department_id)
    plant.publish_rules('''
rule "failed_item_to_hazard"
  when area created as a
  if a.name == "failed"
  then create hazard set title = "From a failed item", area = a.id, category = "x"
end''', key="items")
    with plant.site.session() as session:
        service = RecordService(session, plant.site.events(session), tz=plant.site.settings.tz, clock=plant.clock)
        cause = service.create("area", {"name": "failed"}, owner_id=inspector, department_id=department_id,
                               actor=ADMIN).id
    plant.site.drain()
    with plant.site.session() as session:
        made = session.query(Record).filter(Record.form == "hazard").one()
        assert (made.owner_id, made.department_id) == (inspector, department_id) and made.id != cause


def test_a_rule_may_name_the_owner_and_department_of_the_record_it_creates(plant: Plant) -> None:
    from engine.store.models import Record
    from tests.helpers import make_department, make_user

    department_id = make_department(plant.site, "TURN", "Turning")
    inspector = make_user(plant.site, "turner", department=department_id)
    plant.publish_rules(f'''
rule "scheduled_check"
  when daily at "08:00"
  then create inspection set due_at = now(), owner_id = {inspector}, department_id = {department_id}
end''', key="schedule")
    plant.advance(timedelta(days=1))
    with plant.site.session() as session:
        made = session.query(Record).filter(Record.form == "inspection").one()
        assert (made.owner_id, made.department_id) == (inspector, department_id)
        assert "owner_id" not in made.data and "department_id" not in made.data
