"""Instance actions: withdraw (撤回), urge (催办), comment, and the admin's jump / retry / cancel.

Like task actions, each checks who may do it and in which state before it changes anything,
and is written to the instance history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from engine.errors import Conflict, Forbidden
from engine.flows.actions import TASK_ACTIONS, Action, _check_running, _invalid
from engine.flows.deadlines import remind_notification
from engine.flows.messages import state_label
from engine.flows.state import CANCELLED, DONE, ERROR, OPEN, RUNNING


def _is_admin(run: Any, user: int) -> bool:
    return user in run.engine.directory.admins()


def withdraw(run: Any, action: Action) -> None:
    """撤回: take back your last submission/approval while nobody after you has acted."""
    _check_running(run)
    inst = run.instance
    if not run.flow.definition.settings.allow_withdraw:
        raise Forbidden("flow.withdraw.disabled")
    tasks = list(inst.tasks.values())
    mine = next(
        (
            i
            for i in range(len(tasks) - 1, -1, -1)
            if tasks[i].actor == action.by
            and tasks[i].status == DONE
            and tasks[i].decision in ("submit", "approve")
        ),
        None,
    )
    if mine is None:
        raise Forbidden("flow.withdraw.nothing", user=action.by)
    task = tasks[mine]
    if any(t.status == DONE and t.decision and t.actor != action.by for t in tasks[mine + 1 :]):
        raise Conflict("flow.withdraw.too_late", what=task.node)
    token = inst.tokens.get(task.token)
    run.record("withdraw", node=task.node, task=task.id, by=action.by, comment=action.comment)
    if token is not None and token.node == task.node and inst.visits.get(task.node) == task.visit:
        task.status, task.decision, task.actor, task.completed_at = OPEN, None, None, None
        return
    downstream = run.flow.downstream(task.node)
    run.cancel_tokens([t for t in inst.tokens.values() if t.node in downstream or t.node == task.node])
    new = run.spawn(task.node)
    run.arrive(new, task.node)
    run.drive()


def urge(run: Any, action: Action) -> None:
    """催办: remind the people who hold open tasks at a node (initiator or admin)."""
    _check_running(run)
    inst = run.instance
    if action.by != inst.initiator and not _is_admin(run, action.by):
        raise Forbidden("flow.urge.not_allowed", user=action.by)
    tasks = inst.open_tasks(action.target)
    if not tasks:
        raise _invalid("flow.urge.nothing_open", node=action.target or "*")
    for task in tasks:
        run.notify(remind_notification(run, task, "flow.urge", by=action.by))
    run.record(
        "urge", node=action.target, by=action.by, to=[t.assignee for t in tasks], comment=action.comment
    )


def comment(run: Any, action: Action) -> None:
    """Comment with attachments: anyone taking part in the instance (or an admin)."""
    inst = run.instance
    involved = (
        {inst.initiator}
        | {t.assignee for t in inst.tasks.values()}
        | {t.actor for t in inst.tasks.values() if t.actor is not None}
    )
    if action.by not in involved and not _is_admin(run, action.by):
        raise Forbidden("flow.comment.not_allowed", user=action.by)
    if not action.comment and not action.attachments:
        raise _invalid("flow.comment.empty")
    run.record(
        "comment",
        node=action.target,
        by=action.by,
        comment=action.comment,
        attachments=list(action.attachments) or None,
    )


def jump(run: Any, action: Action) -> None:
    """Admin repair: move the instance (e.g. out of an error state) to a node and run from there."""
    inst = run.instance
    if not _is_admin(run, action.by):
        raise Forbidden("flow.admin_only", user=action.by)
    if inst.status not in (RUNNING, ERROR):
        raise Conflict("flow.instance.not_running", what=inst.id, state=state_label(inst.status))
    if action.target not in run.flow.nodes:
        raise _invalid("flow.action.unknown_node", node=action.target)
    run.cancel_tokens(inst.tokens.values())
    inst.status, inst.error = RUNNING, None
    run.record("jump", by=action.by, to=action.target, comment=action.comment)
    new = run.spawn(action.target)
    run.arrive(new, action.target)
    run.drive()


def retry(run: Any, action: Action) -> None:
    """Admin repair: re-enter the node where the instance failed (after fixing data or org)."""
    inst = run.instance
    if not _is_admin(run, action.by):
        raise Forbidden("flow.admin_only", user=action.by)
    if inst.status != ERROR or not inst.error:
        raise Conflict("flow.instance.not_in_error", what=inst.id)
    node = inst.error.get("node") or run.flow.start
    jump(run, replace(action, target=node))


def cancel(run: Any, action: Action) -> None:
    """The initiator (or an admin) calls the whole thing off."""
    inst = run.instance
    if action.by != inst.initiator and not _is_admin(run, action.by):
        raise Forbidden("flow.cancel.not_allowed", user=action.by)
    if inst.status not in (RUNNING, ERROR):
        raise Conflict("flow.instance.not_running", what=inst.id, state=state_label(inst.status))
    inst.status = RUNNING
    run.record("cancel_requested", by=action.by, comment=action.comment)
    run.finish(CANCELLED)


INSTANCE_ACTIONS: dict[str, Callable[[Any, Action], None]] = {
    "withdraw": withdraw,
    "urge": urge,
    "comment": comment,
    "jump": jump,
    "retry": retry,
    "cancel": cancel,
}


def apply_instance_action(run: Any, action: Action) -> None:
    handler = INSTANCE_ACTIONS.get(action.kind)
    if handler is None:
        known = ", ".join(sorted({*TASK_ACTIONS, *INSTANCE_ACTIONS}))
        raise _invalid("flow.action.unknown", action=action.kind, known=known)
    run.action = action
    handler(run, action)
