"""Approve nodes: single, sequential (依次), countersign (会签), or-sign (或签), vote (票签)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from engine.errors import Problem
from engine.flows import approval, rejection
from engine.flows.assignees import Candidate
from engine.flows.model import UserNodeSpec
from engine.flows.nodes.base import Targets, register_node_type
from engine.flows.nodes.user import UserNode
from engine.flows.state import DONE, LIVE_TASK, WITHDRAWN, Task, Token


class ApproveSpec(UserNodeSpec):
    type: Literal["approve"]
    mode: Literal["single", "sequential", "countersign", "or_sign", "vote"] = "single"
    # vote: the share of the total weight that must approve (0.5 = half, 1 = everyone).
    pass_ratio: float | None = Field(default=None, gt=0, le=1)
    # veto: one rejection rejects the node at once; count: rejections are counted like votes and
    # the node rejects once passing can no longer happen. Default: veto, except for vote.
    reject_policy: Literal["veto", "count"] | None = None

    kind_is_approval: ClassVar[bool] = True


@register_node_type
class Approve(UserNode):
    name = "approve"
    spec = ApproveSpec
    task_kind = "approve"

    def assign(self, run: Any, token: Token, node: Any, candidates: list[Candidate]) -> None:
        if node.mode == "sequential":
            first, rest = candidates[0], candidates[1:]
            if rest:
                run.instance.node_state[node.id] = {
                    "queue": [[c.user, c.weight, c.on_behalf_of] for c in rest]
                }
            self.open_task(run, token, node, first)
            return
        super().assign(run, token, node, candidates)

    def on_task_done(self, run: Any, token: Token, node: Any, task: Task) -> Targets:
        inst = run.instance
        node_id = node.id
        state = inst.node_state.get(node_id)
        queue: list[list[Any]] = state["queue"] if state else []
        mode = node.mode
        veto = (node.reject_policy or ("count" if mode == "vote" else "veto")) == "veto"
        visit = inst.visits.get(node_id, 0)
        token_id = token.id
        tasks = [t for t in inst.tasks.values() if t.node == node_id and t.visit == visit and t.token == token_id]
        result = approval.outcome(
            mode,
            tasks,
            queued_weight=sum(q[1] for q in queue) if queue else 0.0,
            pass_ratio=node.pass_ratio if node.pass_ratio is not None else 0.5,
            veto=veto,
        )
        if result == "pending":
            if (
                mode == "sequential"
                and queue
                and not any(t.status in LIVE_TASK and t.parent is None for t in tasks)
            ):
                user, weight, on_behalf_of = queue.pop(0)
                self.open_task(run, token, node, Candidate(user, weight, on_behalf_of))
            return None
        run.withdraw_tasks(node_id, token_id)
        if state is not None:
            inst.node_state.pop(node_id, None)
        if result == "pass":
            return run.flow.out_targets[node_id]
        action = run.action
        target = action.target if action is not None and action.kind == "reject" else None
        rejection.reject(run, token, node, target=target, by=task.actor)
        return None

    def plan_done(self, flow: Any, node: Any) -> Any:
        """`on_task_done` for single, or-sign and countersign nodes, for the common case of an
        approval by a top-level task: single and or-sign pass on it (a rejection would already
        have ended the node), a countersign passes once no other task of the visit is open.
        Anything else (a rejection, added signers, a task not done) goes to `on_task_done`."""
        generic = self.on_task_done
        mode = node.mode
        if mode not in ("single", "or_sign", "countersign"):
            return generic
        node_id, out = node.id, flow.out_targets[node.id]
        every = mode == "countersign"

        def done(run: Any, token: Token, spec: Any, task: Task) -> Targets:
            if task.status != DONE or task.decision != "approve" or task.parent is not None:
                return generic(run, token, spec, task)
            inst = run.instance
            token_id = token.id
            if every:
                visit = inst.visits.get(node_id, 0)
                for other in inst.tasks.values():
                    if other.node == node_id and other.visit == visit and other.token == token_id:
                        if other.status == DONE:
                            if other.decision == "reject" and other.parent is None:
                                return generic(run, token, spec, task)
                        elif other.status != WITHDRAWN and other.parent is None:
                            return None  # still waiting for someone
            run.withdraw_tasks(node_id, token_id)
            if node_id in inst.node_state:
                del inst.node_state[node_id]
            return out

        return done

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        problems = super().validate(node, ctx)
        if node.pass_ratio is not None and node.mode != "vote":
            problems.append(ctx.problem("flow.approve.ratio_without_vote", node.id, path="pass_ratio"))
        return problems
