"""The inbox: tasks to do, done, cc'd to me, instances started by me — and acting on a task."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine.api.deps import PrincipalDep, SessionDep, SiteDep
from engine.api.errors import ERRORS
from engine.api.routers.flows import InstanceView, instance_view
from engine.errors import Forbidden
from engine.flows import Action
from engine.flows.actions import TASK_ACTIONS, editable_fields
from engine.flows.engine import _instance_of
from engine.runtime.flows import flow_engine
from engine.store.flows import inbox, inbox_counts

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], responses=ERRORS)

Box = Literal["todo", "done", "cc", "started"]


class Entry(BaseModel):
    task_id: str | None
    instance_id: int
    flow_key: str
    record_id: int | None
    node: str | None
    kind: str | None
    status: str
    created_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    decision: str | None


class InboxPage(BaseModel):
    box: Box
    total: int
    items: list[Entry]


class TaskDetail(BaseModel):
    id: str
    node: str
    kind: str
    status: str
    due_at: datetime | None
    actions: list[str] = Field(description="Actions this task takes")
    fields: dict[str, str] = Field(description="Field permissions at this node: editable / readonly / hidden")
    draft: dict[str, Any] | None
    instance: InstanceView


class TaskAction(BaseModel):
    action: str = Field(description="approve | reject | submit | save | transfer | delegate | resolve | "
                                    "add_signer | remove_signer (and the instance actions)")
    target: str | None = Field(default=None, description="reject: the upstream node to send back to")
    data: dict[str, Any] | None = Field(default=None, description="Values of fields editable at the node")
    users: list[int] = Field(default_factory=list, description="transfer/delegate: one user; signers: several")
    position: Literal["before", "after"] = "before"
    comment: str | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    assignees: list[int] = Field(default_factory=list, description="Chosen assignees of the next node")


@router.get("", response_model=InboxPage, summary="One box of my inbox, newest first, with its total")
def list_tasks(session: SessionDep, principal: PrincipalDep, box: Box = "todo", flow: str | None = None,
               node: str | None = None, overdue: bool = False, limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0)) -> InboxPage:
    from engine.store.base import utcnow

    entries, total = inbox(session, principal.user_id, box, flow_key=flow, node=node,
                           overdue_at=utcnow() if overdue else None, limit=limit, offset=offset)
    return InboxPage(box=box, total=total, items=[Entry.model_validate(e.__dict__) for e in entries])


@router.get("/counts", response_model=dict[str, int], summary="How many items each inbox box holds")
def counts(session: SessionDep, principal: PrincipalDep) -> dict[str, int]:
    return inbox_counts(session, principal.user_id)


@router.get("/{task_id}", response_model=TaskDetail, summary="A task with its node's field permissions")
def get_task(task_id: str, session: SessionDep, site: SiteDep, principal: PrincipalDep) -> TaskDetail:
    engine = flow_engine(session, site)
    inst = engine.instance(_instance_of(task_id))
    task = inst.tasks.get(task_id)
    if task is None or (principal.user_id not in (task.assignee, task.actor, task.owner) and not principal.is_admin):
        raise Forbidden("flow.task.not_assignee", task=task_id, user=principal.user_id)
    node = engine.flow(inst.flow_key, inst.flow_version).nodes[task.node]
    permissions = dict(getattr(node, "fields", {}) or {})
    if task.kind == "fill" and editable_fields(node) is None:
        permissions = {k: "editable" for k in inst.data} | permissions
    hidden = {k for k, v in permissions.items() if v == "hidden"}
    actions = ["submit", "save", "transfer", "delegate"] if task.kind == "fill" else (
        [] if task.kind == "cc" else sorted(a for a in TASK_ACTIONS if a != "submit"))
    return TaskDetail(id=task.id, node=task.node, kind=task.kind, status=task.status, due_at=task.due_at,
                      actions=actions, fields=permissions, draft=task.draft, instance=instance_view(inst, hidden))


@router.post("/{task_id}/actions", response_model=InstanceView, summary="Act on a task (only its assignee)")
def act(task_id: str, body: TaskAction, session: SessionDep, site: SiteDep, principal: PrincipalDep) -> InstanceView:
    engine = flow_engine(session, site)
    inst = engine.act(task_id, Action(
        body.action, principal.user_id, target=body.target, data=body.data, users=tuple(body.users),
        position=body.position, comment=body.comment, attachments=tuple(body.attachments),
        assignees=tuple(body.assignees)))
    return instance_view(inst)
