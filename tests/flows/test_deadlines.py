"""Deadlines, repeated reminders and on-timeout actions, all as timers (flow.deadline / flow.remind)."""

from datetime import timedelta

from tests.flows.helpers import Harness, apply_node, linear


def timed(on_timeout: str = "remind", **deadline) -> Harness:
    node = {
        "id": "l1",
        "type": "approve",
        "assignee": {"user": "dave"},
        "deadline": {"after": "4h", "on_timeout": on_timeout, **deadline},
    }
    h = Harness(linear(apply_node(), node, {"id": "l2", "type": "approve", "assignee": {"user": "bob"}}))
    h.act("apply", "alice", "submit")
    return h


def sent(h: Harness, template: str) -> int:
    return sum(1 for n in h.sim.notifier.sent if n.template == template)


def test_a_task_gets_its_due_time_and_a_durable_timer():
    h = timed()
    task = h.instance.open_tasks("l1")[0]
    assert task.due_at.isoformat() == "2026-01-05T13:00:00+00:00"
    kinds = sorted(kind for kind, _due, _payload in h.sim.timers.timers.values())
    assert kinds == ["flow.deadline"]


def test_repeated_reminders_until_the_maximum():
    h = timed(remind_every="1h", remind_max=2)
    h.advance("3h")
    assert sent(h, "flow.remind") == 2
    assert h.instance.open_tasks("l1")[0].reminders == 2


def test_on_timeout_remind_sends_an_overdue_notice_and_keeps_the_task():
    h = timed("remind")
    h.advance("4h")
    assert sent(h, "flow.overdue") == 1 and h.open() == ["l1"]
    assert h.instance.open_tasks("l1")[0].overdue


def test_on_timeout_auto_approve():
    h = timed("auto_approve")
    h.advance("5h")
    assert h.open() == ["l2"]
    assert any(e.get("reason") == "timeout" for e in h.instance.history)


def test_on_timeout_auto_reject():
    h = timed("auto_reject")
    h.advance("5h")
    assert h.open() == ["apply"]


def test_on_timeout_escalates_to_the_assignees_manager():
    h = timed("escalate")
    h.advance("4h")
    assert h.holders("l1") == ["erin"]
    h.act("l1", "erin")
    assert h.open() == ["l2"]


def test_on_timeout_jump_moves_the_instance_to_a_node():
    h = timed("jump", target="l2")
    h.advance("4h")
    assert h.open() == ["l2"]


def test_completing_a_task_cancels_its_timers():
    h = timed(remind_every="1h")
    task = h.instance.open_tasks("l1")[0]
    h.act("l1", "dave")
    assert [p for _k, _d, p in h.sim.timers.timers.values() if p["task"] == task.id] == []
    h.advance("10h")
    assert h.open() == ["l2"] and sent(h, "flow.remind") == 0


def test_a_timer_delivered_twice_acts_once():
    h = timed("auto_approve")
    key, (kind, _due, payload) = next(iter(h.sim.timers.timers.items()))
    h.sim.clock.advance(timedelta(hours=5))
    h.engine.on_timer(kind, key, payload)
    after_first = h.instance.to_dict()
    h.engine.on_timer(kind, key, payload)
    assert h.instance.to_dict() == after_first


def test_a_timer_for_a_task_that_moved_on_is_ignored():
    h = timed("auto_reject")
    key, (kind, _due, payload) = next(iter(h.sim.timers.timers.items()))
    h.act("l1", "dave")
    before = h.instance.to_dict()
    h.engine.on_timer(kind, key, payload)
    assert h.instance.to_dict() == before
