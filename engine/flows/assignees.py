"""Who gets a task: assignee specs resolved against the directory and the record, then policies.

Resolution happens when a node is entered (not when the flow is published), so role changes and
out-of-office delegations in force at that moment apply. Every policy ends in someone or in an
explicit auto-decision — never in a task nobody can see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.directory import Directory
from engine.flows import model as m

MAX_SUBSTITUTE_HOPS = 5


@dataclass(slots=True)
class Candidate:
    user: int
    weight: float = 1.0
    # The user the task was meant for when a substitute stands in.
    on_behalf_of: int | None = None


@dataclass(slots=True)
class Resolution:
    candidates: list[Candidate]
    # "approve" / "reject": the node decides without anyone; None: tasks for the candidates.
    auto: str | None = None
    reason: str | None = None
    notes: list[dict[str, Any]] | None = None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def substitute_for(
    directory: Directory, user: int, at: datetime, flow_key: str | None
) -> tuple[int, list[int], bool]:
    """Follow out-of-office delegations from `user`: (who works the task, the chain, cycle found).

    The chain is bounded (MAX_SUBSTITUTE_HOPS). On a cycle (A→B→A: everyone in it is away) the
    task stays with the original assignee, who at least knows it exists.
    """
    of = directory.delegations_of
    first = of(user)
    if not first:
        return user, [user], False
    at = _aware(at)
    chain = [user]
    current = user
    for _ in range(MAX_SUBSTITUTE_HOPS):
        active = next(
            (
                d
                for d in (first if current == user else of(current))
                if _aware(d.starts_at) <= at < _aware(d.ends_at) and (not d.flows or flow_key in d.flows)
            ),
            None,
        )
        if active is None:
            break
        if active.substitute_id in chain:
            return user, [*chain, active.substitute_id], True
        chain.append(active.substitute_id)
        current = active.substitute_id
    return current, chain, False


def user_id(directory: Directory, value: Any) -> int | None:
    """A user given as an id or a username (as definitions and records may hold either)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        person = directory.find_user(value)
        if person is not None:
            return person.id
        return int(value) if value.isdigit() else None
    return None


def _users(directory: Directory, value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)):
        found = user_id(directory, value)
        return [] if found is None else [found]
    return [u for u in (user_id(directory, v) for v in value) if u is not None]


def _manager_levels(directory: Directory, user: int, levels: int) -> list[int]:
    out: list[int] = []
    current: int | None = user
    for _ in range(levels):
        current = directory.manager_of(current) if current is not None else None
        if current is None or current in out:
            break
        out.append(current)
    return out


def _initiator(run: Any, node: Any, spec: Any) -> list[int]:
    return [run.instance.initiator]


def _user(run: Any, node: Any, spec: Any) -> list[int]:
    return _users(run.engine.directory, spec.user)


def _role(run: Any, node: Any, spec: Any) -> list[int]:
    directory: Directory = run.engine.directory
    dept = None
    if spec.within == "initiator":
        person = directory.person(run.instance.initiator)
        dept = person.department_id if person else None
        if dept is None:
            return []
    elif spec.within_field:
        dept = run.instance.data.get(spec.within_field)
        if dept is None:
            return []
    return directory.users_with_role(spec.role, dept, subtree=spec.subtree)


def _department_head(run: Any, node: Any, spec: Any) -> list[int]:
    directory: Directory = run.engine.directory
    if spec.department_head == "initiator":
        person = directory.person(run.instance.initiator)
        dept = person.department_id if person else None
    else:
        dept = run.instance.data.get(spec.department_head["field"])
    head = directory.department_head(int(dept)) if dept is not None else None
    return [head] if head is not None else []


def _manager(run: Any, node: Any, spec: Any) -> list[int]:
    chain = _manager_levels(run.engine.directory, run.instance.initiator, spec.manager)
    return chain[-1:] if len(chain) == spec.manager else []


def _manager_chain(run: Any, node: Any, spec: Any) -> list[int]:
    return _manager_levels(run.engine.directory, run.instance.initiator, spec.manager_chain)


def _field(run: Any, node: Any, spec: Any) -> list[int]:
    return _users(run.engine.directory, run.instance.data.get(spec.field))


def _expr(run: Any, node: Any, spec: Any) -> list[int]:
    compiled = run.engine.compiled_expression(run.flow, spec.expr)
    value = compiled.evaluate(run.instance.data, run.engine.eval_context(run.now))
    return _users(run.engine.directory, value)


def _chosen(run: Any, node: Any, spec: Any) -> list[int]:
    return list(run.instance.chosen.get(node.id, []))


# One resolver per assignee kind: adding a kind is one function and one entry here.
RESOLVERS: dict[type, Callable[[Any, Any, Any], list[int]]] = {
    m.InitiatorAssignee: _initiator,
    m.UserAssignee: _user,
    m.RoleAssignee: _role,
    m.DepartmentHeadAssignee: _department_head,
    m.ManagerAssignee: _manager,
    m.ManagerChainAssignee: _manager_chain,
    m.FieldAssignee: _field,
    m.ExprAssignee: _expr,
    m.ChosenAssignee: _chosen,
}


def spec_users(run: Any, node: Any, spec: Any) -> list[int]:
    """The users one assignee spec stands for, in order."""
    return RESOLVERS[type(spec)](run, node, spec)


def _previous_approvers(run: Any, node_id: str) -> set[int]:
    """Who approved the user node that passed just before this one (for `on_repeat`)."""
    inst = run.instance
    flow = run.flow
    upstream = flow.upstream(node_id)
    for done in reversed(inst.completed):
        if done in flow.user_nodes and done in upstream and done != node_id:
            visit = inst.visits.get(done, 0)
            return {
                t.actor or t.assignee
                for t in inst.tasks.values()
                if t.node == done and t.visit == visit and t.decision in ("approve", "submit")
            }
    return set()


def fixed_specs(node: Any) -> list[tuple[int | None, str | None, float]] | None:
    """A node's assignees as (user id, username, weight) when each is the initiator (both None)
    or a named user; None when any other kind needs the record or the directory at entry."""
    out: list[tuple[int | None, str | None, float]] = []
    for spec in node.assignees:
        kind = type(spec)
        if kind is m.InitiatorAssignee:
            out.append((None, None, spec.weight))
        elif kind is m.UserAssignee:
            user = spec.user
            out.append((user, None, spec.weight) if type(user) is int else (None, str(user), spec.weight))
        else:
            return None
    return out


def resolve(run: Any, node: Any) -> Resolution:
    """Candidates for a user node after the initiator, repeat, substitute and empty policies."""
    directory: Directory = run.engine.directory
    inst = run.instance
    seen: dict[int, Candidate] = {}
    for spec in node.assignees:
        kind = type(spec)
        # The two kinds most nodes use are answered here, without a resolver call.
        if kind is m.InitiatorAssignee:
            users: Any = (inst.initiator,)
        elif kind is m.UserAssignee:  # `_user`, for the one value a spec holds
            uid = spec.user if type(spec.user) is int else user_id(directory, spec.user)
            users = () if uid is None else (uid,)
        else:
            users = RESOLVERS[kind](run, node, spec)
        for uid in users:
            if uid not in seen:
                seen[uid] = Candidate(uid, spec.weight)
    notes: list[dict[str, Any]] = []
    if not seen:
        return _on_empty(run, node, notes)
    candidates = list(seen.values())
    # Whether two candidates may now be the same person (merged below, as substitutes are).
    merge = False

    if node.kind_is_approval and inst.initiator in seen:
        if node.on_initiator == "skip":
            candidates = [c for c in candidates if c.user != inst.initiator]
            notes.append({"skipped": inst.initiator, "reason": "initiator"})
        elif node.on_initiator == "manager":
            manager = directory.manager_of(inst.initiator)
            if manager is not None:
                for c in candidates:
                    if c.user == inst.initiator:
                        c.user = manager
                merge = True
                notes.append({"replaced": inst.initiator, "by": manager, "reason": "initiator"})
        if not candidates:
            return Resolution([], "approve", "initiator", notes)

    repeat = node.on_repeat or ("skip" if run.flow.definition.settings.skip_repeat_approver else "approve")
    if repeat == "skip" and node.kind_is_approval:
        previous = _previous_approvers(run, node.id)
        if previous:
            kept = [c for c in candidates if c.user not in previous]
            for c in candidates:
                if c.user in previous:
                    notes.append({"skipped": c.user, "reason": "repeat"})
            if not kept:
                return Resolution([], "approve", "repeat", notes)
            candidates = kept

    if node.on_absent == "substitute":
        delegations_of = directory.delegations_of
        for c in candidates:
            if not delegations_of(c.user):
                continue  # nobody to hand over to: substitute_for would keep the user
            final, chain, cycle = substitute_for(directory, c.user, run.now, inst.flow_key)
            if cycle:
                notes.append({"substitute_cycle": chain})
            elif final != c.user:
                notes.append({"substitute": final, "for": c.user, "chain": chain})
                c.on_behalf_of, c.user = c.user, final
                merge = True
        if merge:  # two people may now have the same substitute: one task each
            merged: dict[int, Candidate] = {}
            for c in candidates:
                merged.setdefault(c.user, c)
            candidates = list(merged.values())
    return Resolution(candidates, None, None, notes)


def _on_empty(run: Any, node: Any, notes: list[dict[str, Any]]) -> Resolution:
    policy = node.on_empty
    if isinstance(policy, m.ToUser):
        uid = user_id(run.engine.directory, policy.user)
        if uid is not None:
            return Resolution([Candidate(uid)], None, "empty_to_user", notes)
    elif policy == "auto_approve":
        return Resolution([], "approve", "empty", notes)
    elif policy == "auto_reject":
        return Resolution([], "reject", "empty", notes)
    admins = run.engine.directory.admins()
    if admins:
        return Resolution([Candidate(a) for a in admins], None, "empty_to_admin", notes)
    return Resolution([], "error", "empty", notes)
