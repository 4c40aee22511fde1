"""Task actions: approve, reject, submit, save, transfer, delegate, add/remove signer (instance
actions — withdraw, urge, comment, jump, retry, cancel — are in `instance_actions`).

Each action checks everything (who, which task, which state, which fields, which target) before
it changes anything, so a refused action leaves the instance exactly as it was; each one that
passes is written to the instance history (the audit trail of the flow).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.flows.deadlines import remind_notification
from engine.flows.messages import state_label
from engine.flows.model import ChosenAssignee
from engine.flows.state import DONE, LIVE_TASK, OPEN, RUNNING, WAITING, Task

DECISIONS = {"approve", "reject", "submit", "resolve"}
# Task kind -> the decision on it that `_check_decision` passes unchanged when the action names
# no reject target and picks no assignees (the common case, checked without the call).
_PLAIN = {"fill": "submit", "approve": "approve"}


@dataclass(slots=True)
class Action:
    """What someone does: `kind` plus the choices that kind takes.

    Treat it as a value (the engine never changes one; `dataclasses.replace` makes variants). It
    is not declared frozen because a frozen dataclass sets every field through
    `object.__setattr__`, which made building an Action cost more than applying it.
    """

    kind: str
    by: int
    # reject: the upstream node to send the instance back to; urge: the node; jump: where to.
    target: str | None = None
    # Field values the actor sets (only fields editable at the node).
    data: Mapping[str, Any] | None = None
    # transfer / delegate: the new assignee; add_signer / remove_signer: who.
    users: Sequence[int] = ()
    # add_signer: "before" (they act first, then you) or "after" (you approve now, they follow).
    position: str = "before"
    comment: str | None = None
    attachments: Sequence[Mapping[str, Any]] = ()
    # Assignees picked for the next node(s) whose assignee is `chosen`.
    assignees: Sequence[int] = ()


def _invalid(code: str, **params: Any) -> InvalidInput:
    return InvalidInput(code, problems=[Problem(code, params, path="action")], **params)


def _check_running(run: Any) -> None:
    if run.instance.status != RUNNING:
        raise Conflict("flow.instance.not_running", what=run.instance.id, state=state_label(run.instance.status))


def _check_holder(run: Any, task: Task, action: Action, *, allow_waiting: bool = False) -> None:
    _check_running(run)
    if task.status == WAITING and not allow_waiting:
        raise Conflict("flow.task.waiting", what=task.id)
    if task.status not in LIVE_TASK:
        raise Conflict("flow.task.not_open", what=task.id, state=state_label(task.status))
    if action.by != task.assignee:
        raise Forbidden("flow.task.not_assignee", task=task.id, user=action.by)


def editable_fields(node: Any) -> set[str] | None:
    """Fields the holder of a task at `node` may set; None = all (a fill node listing none)."""
    if node.type == "fill" and not node.fields:
        return None
    return {k for k, v in node.fields.items() if v == "editable"}


def _check_data(run: Any, node: Any, data: Mapping[str, Any] | None) -> None:
    """Refuse fields the node does not let its task holders set (the set compiled with the flow)."""
    if not data:
        return
    allowed = run.flow.editable[node.id]
    if allowed is None or allowed.issuperset(data):
        return
    refused = sorted(k for k in data if k not in allowed)
    raise _invalid("flow.action.field_not_editable", node=node.id, fields=", ".join(refused))


def _chosen_nodes(run: Any, node_id: str) -> list[str]:
    """User nodes reached from `node_id` without passing another user node, whose assignee is chosen."""
    flow = run.flow
    out: list[str] = []
    frontier, seen = list(flow.out_targets[node_id]), set()
    while frontier:
        current = frontier.pop(0)
        if current in seen:
            continue
        seen.add(current)
        if current in flow.user_nodes:
            if any(isinstance(a, ChosenAssignee) for a in flow.nodes[current].assignees):
                out.append(current)
        else:
            frontier.extend(flow.out_targets[current])
    return out


def _check_decision(run: Any, task: Task, action: Action, node: Any) -> str:
    kind = action.kind
    if task.kind == "fill":
        if kind not in ("submit", "approve", "resolve"):
            raise _invalid("flow.action.not_for_node", action=kind, node=node.id, type=node.type)
        kind = "submit"
    elif task.kind == "approve":
        if kind == "submit":
            kind = "approve"
        if kind not in ("approve", "reject", "resolve"):
            raise _invalid("flow.action.not_for_node", action=kind, node=node.id, type=node.type)
    if action.data:
        _check_data(run, node, action.data)
    if kind == "reject" and action.target is not None:
        if node.reject.to != "choose":
            raise _invalid("flow.reject.target_not_allowed", node=node.id)
        flow = run.flow
        if action.target not in flow.user_nodes or action.target not in flow.upstream(node.id):
            raise _invalid("flow.reject.bad_target", node=node.id, target=action.target)
    if action.assignees and not _chosen_nodes(run, node.id):
        raise _invalid("flow.action.nothing_to_choose", node=node.id)
    return kind


def decide(run: Any, task: Task, action: Action) -> None:
    """approve / reject / submit (and a delegate's resolve)."""
    inst = run.instance
    if inst.status != RUNNING or task.status != OPEN or action.by != task.assignee:
        _check_holder(run, task, action)
    node = run.flow.nodes[task.node]
    kind = action.kind
    if _PLAIN.get(task.kind) == kind and action.target is None and not action.assignees:
        _check_data(run, node, action.data)  # the one check of `_check_decision` for a plain decision
    else:
        kind = _check_decision(run, task, action, node)
    if task.draft:
        inst.data.update(task.draft)
        task.draft = None
    if action.data:
        inst.data.update(action.data)
        refresh = getattr(run.engine.records, "refresh", None) if inst.record_id else None
        if refresh is not None:
            refresh(inst)  # the form's formulas over what was filled, before any gateway reads them
    if action.assignees:
        for target in _chosen_nodes(run, node.id):
            inst.chosen[target] = list(action.assignees)
    if task.owner is not None:  # 委派: the delegate's opinion goes back to the delegator
        run.record(
            "delegate_resolved",
            node=task.node,
            task=task.id,
            by=action.by,
            opinion=kind,
            comment=action.comment,
            back_to=task.owner,
        )
        task.assignee, task.owner = task.owner, None
        return
    if kind == "resolve":
        raise _invalid("flow.action.not_delegated", task=task.id)
    task.decision = kind
    task.actor = action.by
    task.comment = action.comment
    # run.record(kind, node=, task=, by=, comment=, attachments=, fields=), written out: every
    # decision passes here.
    inst._log.append((run.now, kind, "node", task.node, "task", task.id, "by", action.by, "comment", action.comment,
                      "attachments", list(action.attachments) if action.attachments else None,
                      "fields", sorted(action.data) if action.data else None))
    settle(run, task)


def settle(run: Any, task: Task) -> None:
    """A task got its decision: fold added signers into their holder, then let the node decide."""
    inst = run.instance
    task.status = DONE  # run.close_task(task, DONE), written out
    task.completed_at = run.now
    if task.has_timers:
        run.effects.cancel_timers(f"flow:{inst.id}:t:{task.id}:")
    if task.parent is not None:
        parent = inst.tasks[task.parent]
        if task.decision == "reject":
            for sibling in inst.tasks.values():
                if sibling.parent == parent.id and sibling.status in LIVE_TASK:
                    run.close_task(sibling)
            parent.decision, parent.actor = "reject", task.actor
            task = parent
            run.close_task(task, DONE)
        elif any(s.parent == parent.id and s.status in LIVE_TASK for s in inst.tasks.values()):
            return
        elif parent.decision is None:  # signers added before: now it is the holder's turn
            parent.status = OPEN
            return
        else:  # signers added after approved: the holder's approval now counts
            task = parent
            run.close_task(task, DONE)
    token = inst.tokens.get(task.token)
    if token is None:
        return
    flow = run.flow
    targets = flow.on_done[task.node](run, token, flow.nodes[task.node], task)
    run.drive(token, targets)


def save(run: Any, task: Task, action: Action) -> None:
    """Save a draft: the values are kept on the task and applied when it is submitted."""
    _check_holder(run, task, action)
    _check_data(run, run.flow.nodes[task.node], action.data)
    task.draft = {**(task.draft or {}), **(action.data or {})}
    run.record("save", node=task.node, task=task.id, by=action.by, fields=sorted(action.data or {}))


def _one_user(run: Any, task: Task, action: Action) -> int:
    if len(action.users) != 1:
        raise _invalid("flow.action.one_user", action=action.kind)
    user = action.users[0]
    if user == task.assignee or run.engine.directory.person(user) is None:
        raise _invalid("flow.action.bad_user", action=action.kind, user=user)
    return user


def transfer(run: Any, task: Task, action: Action) -> None:
    """转办: the task now belongs to someone else, whose decision moves the flow on."""
    _check_holder(run, task, action)
    user = _one_user(run, task, action)
    run.record("transfer", node=task.node, task=task.id, by=action.by, to=user, comment=action.comment)
    task.assignee, task.on_behalf_of, task.owner = user, None, None
    run.notify(remind_notification(run, task, "flow.assigned", by=action.by))


def delegate(run: Any, task: Task, action: Action) -> None:
    """委派: someone else works the task, then it comes back to the delegator to decide."""
    _check_holder(run, task, action)
    user = _one_user(run, task, action)
    run.record("delegate", node=task.node, task=task.id, by=action.by, to=user, comment=action.comment)
    task.owner, task.assignee = task.assignee, user
    run.notify(remind_notification(run, task, "flow.assigned", by=action.by))


def _participants(run: Any, task: Task) -> list[Task]:
    return [t for t in run.node_tasks(task.node, task.token) if t.status != "withdrawn"]


def add_signer(run: Any, task: Task, action: Action) -> None:
    """加签: before — they act first, then the holder; after — the holder approves now, they follow."""
    _check_holder(run, task, action)
    node = run.flow.nodes[task.node]
    if task.kind != "approve":
        raise _invalid("flow.action.not_for_node", action=action.kind, node=node.id, type=node.type)
    if action.position not in ("before", "after"):
        raise _invalid("flow.action.bad_position", position=action.position)
    if not action.users:
        raise _invalid("flow.action.no_users", action=action.kind)
    busy = {t.assignee for t in _participants(run, task) if t.status in LIVE_TASK}
    for user in action.users:
        if user in busy or run.engine.directory.person(user) is None:
            raise _invalid("flow.action.bad_user", action=action.kind, user=user)
    _check_data(run, node, action.data)
    if action.data:
        run.instance.data.update(action.data)
    token = run.instance.tokens[task.token]
    for user in action.users:
        run.new_task(node.id, token, user, "approve", parent=task.id, position=action.position)
    if action.position == "after":
        task.decision, task.actor, task.comment = "approve", action.by, action.comment
    task.status = WAITING
    run.record(
        "add_signer",
        node=node.id,
        task=task.id,
        by=action.by,
        users=list(action.users),
        position=action.position,
        comment=action.comment,
    )


def remove_signer(run: Any, task: Task, action: Action) -> None:
    """减签: withdraw other people's open tasks at this node; at least one participant remains."""
    _check_holder(run, task, action, allow_waiting=True)
    node = run.flow.nodes[task.node]
    if task.kind != "approve" or not action.users:
        raise _invalid("flow.action.no_users", action=action.kind)
    participants = _participants(run, task)
    removing = [t for t in participants if t.assignee in action.users and t.status in LIVE_TASK]
    if action.by in action.users or len(removing) != len(set(action.users)):
        raise _invalid("flow.action.bad_user", action=action.kind, user=",".join(map(str, action.users)))
    state = run.instance.node_state.get(node.id)
    queue = state["queue"] if state else []
    remaining = [t for t in participants if t not in removing and t.parent is None]
    if not remaining and not queue:
        raise _invalid("flow.action.last_signer", node=node.id)
    for t in removing:
        run.close_task(t)
        for child in run.instance.tasks.values():
            if child.parent == t.id and child.status in LIVE_TASK:
                run.close_task(child)
    run.record("remove_signer", node=node.id, task=task.id, by=action.by, users=list(action.users))
    for t in removing:  # a holder waiting only on removed signers gets its turn back
        if t.parent is not None:
            parent = run.instance.tasks[t.parent]
            if parent.status == WAITING and not any(
                s.parent == parent.id and s.status in LIVE_TASK for s in run.instance.tasks.values()
            ):
                if parent.decision is None:
                    parent.status = OPEN
                else:
                    settle(run, parent)
                    return
    token = run.instance.tokens[task.token]
    run.resume(token, run.flow.handlers[node.id].on_task_done(run, token, node, task))


TASK_ACTIONS: dict[str, Callable[[Any, Task, Action], None]] = {
    "approve": decide,
    "reject": decide,
    "submit": decide,
    "resolve": decide,
    "save": save,
    "transfer": transfer,
    "delegate": delegate,
    "add_signer": add_signer,
    "remove_signer": remove_signer,
}


def apply_task_action(run: Any, task_id: str, action: Action) -> None:
    task = run.instance.tasks.get(task_id)
    if task is None:
        raise NotFound("error.not_found", what=f"task {task_id}")
    handler = TASK_ACTIONS.get(action.kind)
    if handler is None:
        from engine.flows.instance_actions import INSTANCE_ACTIONS, apply_instance_action

        if action.kind in INSTANCE_ACTIONS:
            return apply_instance_action(run, action if action.target else _with_target(action, task.node))
        raise _invalid("flow.action.unknown", action=action.kind, known=", ".join(sorted(TASK_ACTIONS)))
    run.action = action
    handler(run, task, action)


def _with_target(action: Action, node: str) -> Action:
    from dataclasses import replace

    return replace(action, target=node)
