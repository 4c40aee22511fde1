"""Nodes people work on. `fill`: someone completes or edits the record (the application)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from engine import events as ev
from engine.errors import Problem
from engine.flows import assignees, deadlines, rejection
from engine.flows.model import UserNodeSpec
from engine.flows.nodes.base import NodeType, Targets, register_node_type
from engine.flows.state import OPEN, Task, Token


class FillSpec(UserNodeSpec):
    type: Literal["fill"]


class UserNode(NodeType):
    """Shared by fill and approve: resolve assignees, create tasks, arm deadlines."""

    user_node = True
    task_kind: ClassVar[str] = "fill"
    bpmn = "userTask"

    def enter(self, run: Any, token: Token, node: Any) -> Targets:
        resolution = assignees.resolve(run, node)
        if resolution.notes:
            run.record("assignment", node=node.id, notes=resolution.notes)
        if resolution.auto is None:
            self.assign(run, token, node, resolution.candidates)
            return None
        if resolution.auto == "approve":
            run.record("auto_approved", node=node.id, reason=resolution.reason)
            return run.flow.out_targets[node.id]
        if resolution.auto == "reject":
            run.record("auto_rejected", node=node.id, reason=resolution.reason)
            rejection.reject(run, token, node)
            return None
        if resolution.auto == "error":
            run.fail(token, "flow.assignee.none", node=node.id)
            return None
        self.assign(run, token, node, resolution.candidates)
        return None

    def plan(self, flow: Any, node: Any) -> Any:
        """`enter` for a node whose assignees are the initiator or named users and that has no
        deadline: the people are worked out from constants and their tasks made directly. Any
        case a policy must look at — nobody found, the initiator on an approval node with an
        initiator policy, a repeat-approver rule, someone with a delegation — goes to `enter`,
        before anything has changed."""
        fixed = assignees.fixed_specs(node)
        repeat = node.on_repeat or ("skip" if flow.definition.settings.skip_repeat_approver else "approve")
        approval = node.kind_is_approval
        if (fixed is None or node.deadline is not None or (approval and repeat == "skip")
                or getattr(node, "mode", "single") == "sequential"):
            return self.enter
        generic = self.enter
        initiator_policy = approval and node.on_initiator != "approve"
        substitute = node.on_absent == "substitute"
        node_id, kind = node.id, self.task_kind

        has_initiator = any(uid is None and name is None for uid, name, _ in fixed)
        shape = (tuple(fixed), substitute)

        def people_of(directory: Any, initiator: int) -> dict[int, float] | None:
            """user id -> weight, in order; None when a policy must look (nobody, a delegation)."""
            people: dict[int, float] = {}
            for uid, name, weight in fixed:
                if name is not None:  # assignees.user_id(directory, name), written out
                    person = directory.find_user(name)
                    uid = person.id if person is not None else int(name) if name.isdigit() else None
                    if uid is None:
                        continue
                elif uid is None:
                    uid = initiator
                if uid not in people:
                    people[uid] = weight
            if not people:
                return None
            if substitute:
                delegations_of = directory.delegations_of
                for uid in people:
                    if delegations_of(uid):
                        return None
            return people

        def enter(run: Any, token: Token, spec: Any) -> Targets:
            inst = run.instance
            initiator = inst.initiator
            directory = run.engine.directory
            # The people depend only on the directory's (memoised) answers: worked out once per
            # memo, as the look-ups they come from are.
            derived = getattr(directory, "derived", None)
            if derived is None:
                people = people_of(directory, initiator)
            else:
                key = (shape, initiator) if has_initiator else shape
                people = derived.get(key, derived)
                if people is derived:
                    people = derived[key] = people_of(directory, initiator)
            if people is None or (initiator_policy and initiator in people):
                return generic(run, token, spec)
            # run.new_task(...) for each, written out
            now, visit, token_id, tasks = run.now, inst.visits.get(node_id, 0), token.id, inst.tasks
            for uid, weight in people.items():
                number = inst.next_task
                inst.next_task = number + 1
                task = Task(f"{inst.id}.{number}", node_id, uid, kind, OPEN, now, visit, token_id)
                if weight != 1.0:
                    task.weight = weight
                tasks[task.id] = task
                if run.track_events:
                    run.emit(ev.FLOW_TASK_CREATED, node=node_id, task=task.id, assignee=uid, task_kind=kind)
            return None

        return enter

    def assign(self, run: Any, token: Token, node: Any, candidates: list[assignees.Candidate]) -> None:
        for c in candidates:
            self.open_task(run, token, node, c)

    def open_task(self, run: Any, token: Token, node: Any, c: assignees.Candidate) -> Task:
        task = run.new_task(
            node.id, token, c.user, self.task_kind, weight=c.weight, on_behalf_of=c.on_behalf_of
        )
        if node.deadline is not None:
            deadlines.arm(run, node, task)
        return task

    def on_task_done(self, run: Any, token: Token, node: Any, task: Task) -> Targets:
        """Fill: the first submission completes the node; the other candidates' tasks are withdrawn."""
        run.withdraw_tasks(node.id, token.id)
        return run.flow.out_targets[node.id]

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        return ctx.user_node_problems(node)


@register_node_type
class Fill(UserNode):
    name = "fill"
    spec = FillSpec
    task_kind = "fill"
