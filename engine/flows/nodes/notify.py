"""cc (抄送) nodes: tell people, ask nothing of them, move on."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from engine.errors import Problem
from engine.flows.assignees import spec_users
from engine.flows.model import AssigneeSpec, NodeSpec, normalize_assignee
from engine.flows.nodes.base import NodeType, Targets, register_node_type
from engine.flows.state import CC
from engine.services import Notification, Recipient


class CcSpec(NodeSpec):
    type: Literal["cc"]
    to: list[AssigneeSpec] = Field(min_length=1)
    template: str | None = None
    channels: list[str] = Field(default_factory=lambda: ["inapp"])

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("to"), list):
            return {**raw, "to": [normalize_assignee(a) for a in raw["to"]]}
        return raw


@register_node_type
class Cc(NodeType):
    name = "cc"
    spec = CcSpec
    bpmn = "sendTask"

    def enter(self, run: Any, token: Any, node: Any) -> Targets:
        users: dict[int, None] = {}
        for spec in node.to:
            for uid in spec_users(run, node, spec):
                users.setdefault(uid, None)
        for uid in users:
            # A cc task is the "cc'd to me" inbox entry; it needs no action.
            run.new_task(node.id, token, uid, "cc", status=CC)
        if users:
            inst = run.instance
            run.notify(
                Notification(
                    to=[Recipient("user", uid) for uid in users],
                    template=node.template or "flow.cc",
                    channels=tuple(node.channels),
                    context={"flow": inst.flow_key, "instance": inst.id, "node": node.id},
                    source={"engine": "flows", "instance": inst.id, "node": node.id},
                )
            )
        run.record("cc", node=node.id, to=list(users))
        return run.flow.out_targets[node.id]

    def validate(self, node: Any, ctx: Any) -> list[Problem]:
        return ctx.assignee_problems(node, node.to, "to")
