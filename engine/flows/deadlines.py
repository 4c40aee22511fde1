"""Task deadlines and reminders as durable timers (kinds `flow.deadline`, `flow.remind`).

Timers are scheduled through `engine.services.TimerScheduler` — rows with a due time in the
database when served, an in-memory list in simulations — and come back through
`FlowEngine.on_timer`, which ignores a timer whose task has moved on, so a timer delivered
twice (a retried tick, a restart mid-batch) acts once — and one whose node, after a migration
to another version, has no deadline any more.
"""

from __future__ import annotations

from typing import Any

from engine import events as ev
from engine.flows.durations import parse_duration
from engine.flows.state import Task
from engine.services import Notification, Recipient

DEADLINE = "flow.deadline"
REMIND = "flow.remind"
WAIT = "flow.wait"
KINDS = (DEADLINE, REMIND, WAIT)


def task_key(instance_id: int, task_id: str, what: str) -> str:
    return f"flow:{instance_id}:t:{task_id}:{what}"


def arm(run: Any, node: Any, task: Task) -> None:
    """Schedule the deadline (and the first reminder) of a newly created task."""
    deadline = node.deadline
    if deadline is None:
        return
    inst = run.instance
    calendar = run.engine.calendar
    task.due_at = parse_duration(deadline.after).after(run.now, calendar)
    payload = {"instance": inst.id, "task": task.id}
    run.effects.schedule(DEADLINE, task.due_at, payload, task_key(inst.id, task.id, "deadline"))
    if deadline.remind_every and deadline.remind_max > 0:
        first = parse_duration(deadline.remind_every).after(run.now, calendar)
        run.effects.schedule(REMIND, first, payload, task_key(inst.id, task.id, "remind"))
    task.has_timers = True


def remind_notification(run: Any, task: Task, template: str, by: int | None = None) -> Notification:
    inst = run.instance
    return Notification(
        to=[Recipient("user", task.assignee)],
        template=template,
        context={
            "flow": inst.flow_key,
            "instance": inst.id,
            "node": task.node,
            "task": task.id,
            "due_at": task.due_at.isoformat() if task.due_at else None,
            "by": by,
        },
        source={"engine": "flows", "instance": inst.id, "task": task.id},
    )


def on_remind(run: Any, node: Any, task: Task) -> None:
    """A reminder fell due: notify, then schedule the next one until `remind_max`."""
    deadline = node.deadline
    run.notify(remind_notification(run, task, "flow.remind"))
    task.reminders += 1
    run.record("reminded", node=task.node, task=task.id, to=task.assignee)
    if deadline and deadline.remind_every and task.reminders < deadline.remind_max:
        due = parse_duration(deadline.remind_every).after(run.now, run.engine.calendar)
        payload = {"instance": run.instance.id, "task": task.id}
        run.effects.schedule(REMIND, due, payload, task_key(run.instance.id, task.id, "remind"))


def on_deadline(run: Any, node: Any, task: Task) -> str | None:
    """The deadline passed with the task still open; returns the decision to apply, if any.

    remind → one more notice; auto_approve / auto_reject → a system decision; escalate → the
    task moves to the assignee's manager; jump → the caller moves the instance to the target.
    """
    task.overdue = True
    run.record("overdue", node=task.node, task=task.id, assignee=task.assignee)
    run.emit(ev.FLOW_TASK_OVERDUE, node=task.node, task=task.id, assignee=task.assignee)
    action = node.deadline.on_timeout
    if action == "remind":
        run.notify(remind_notification(run, task, "flow.overdue"))
        return None
    if action == "escalate":
        manager = run.engine.directory.manager_of(task.assignee)
        if manager is None:
            admins = run.engine.directory.admins()
            manager = admins[0] if admins else None
        if manager is not None and manager != task.assignee:
            run.record("escalated", node=task.node, task=task.id, old=task.assignee, to=manager)
            task.assignee = manager
            run.notify(remind_notification(run, task, "flow.escalated"))
        return None
    return action
