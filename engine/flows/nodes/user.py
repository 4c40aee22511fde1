"""Nodes people work on. `fill`: someone completes or edits the record (the application)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from engine.errors import Problem
from engine.flows import assignees, deadlines, rejection
from engine.flows.model import UserNodeSpec
from engine.flows.nodes.base import NodeType, Targets, register_node_type
from engine.flows.state import Task, Token


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
