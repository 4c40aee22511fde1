"""Flow instances: start one for a record, read it with its history, draw it, act on it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, SiteDep
from engine.api.errors import ERRORS
from engine.errors import Forbidden
from engine.flows import Action
from engine.flows.diagram import render_svg
from engine.flows.instance_actions import INSTANCE_ACTIONS
from engine.flows.state import FlowInstance
from engine.runtime.flows import flow_engine
from engine.store.access import access_for
from engine.store.models import Record

router = APIRouter(prefix="/api/v1/flows", tags=["flows"], responses=ERRORS)


class StartRequest(BaseModel):
    record_id: int | None = Field(default=None, description="The record the instance runs on")
    data: dict[str, Any] | None = Field(default=None, description="Record data when no record is given")
    version: int | None = Field(default=None, description="A published version (default: the current)")


class TaskView(BaseModel):
    id: str
    node: str
    kind: str
    status: str
    assignee: int
    decision: str | None = None
    actor: int | None = None
    created_at: datetime
    completed_at: datetime | None = None
    due_at: datetime | None = None
    on_behalf_of: int | None = None
    owner: int | None = None


class InstanceView(BaseModel):
    id: int
    flow_key: str
    flow_version: int
    status: str
    initiator: int
    record_id: int | None
    data: dict[str, Any]
    open: list[str]
    completed: list[str]
    tasks: list[TaskView]
    history: list[dict[str, Any]]
    error: dict[str, Any] | None
    started_at: datetime
    ended_at: datetime | None
    diagram: str = Field(description="URL of the SVG diagram of where the instance stands")


class InstanceAction(BaseModel):
    action: str = Field(description="withdraw | urge | comment | jump | retry | cancel")
    target: str | None = Field(default=None, description="urge: the node; jump: where to")
    comment: str | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list)


def instance_view(inst: FlowInstance, hidden: set[str] | None = None) -> InstanceView:
    data = {k: v for k, v in inst.data.items() if not hidden or k not in hidden}
    return InstanceView(
        id=inst.id, flow_key=inst.flow_key, flow_version=inst.flow_version, status=inst.status,
        initiator=inst.initiator, record_id=inst.record_id, data=data, open=inst.open_nodes(),
        completed=list(inst.completed), tasks=[TaskView.model_validate(t.to_dict()) for t in inst.tasks.values()],
        history=inst.history, error=inst.error, started_at=inst.started_at, ended_at=inst.ended_at,
        diagram=f"/api/v1/flows/instances/{inst.id}/diagram.svg",
    )


def readable(session: Any, principal: Any, inst: FlowInstance, flow: Any) -> set[str]:
    """May the caller see this instance? Returns the fields hidden from them (empty = all)."""
    if principal.is_admin or inst.initiator == principal.user_id:
        return set()
    if access_for(session, principal, "flow", inst.flow_key, "read") is not None:
        return set()
    mine = {t.node for t in inst.tasks.values() if principal.user_id in (t.assignee, t.actor, t.owner)}
    if not mine:
        raise Forbidden("flow.instance.not_yours", id=inst.id)
    hidden: set[str] = set()
    for node_id in mine:
        fields = getattr(flow.nodes[node_id], "fields", {}) or {}
        hidden |= {k for k, v in fields.items() if v == "hidden"}
    return hidden


@router.post("/{key}/instances", response_model=InstanceView, status_code=201,
             summary="Start an instance of a flow for a record")
def start_instance(key: str, body: StartRequest, session: SessionDep, site: SiteDep,
                   principal: PrincipalDep) -> InstanceView:
    from engine.store.access import authorize

    authorize(session, principal, "flow", key, "create")
    data = dict(body.data or {})
    if body.record_id is not None:
        record = session.get(Record, body.record_id)
        if record is None or record.deleted_at is not None:
            from engine.errors import NotFound

            raise NotFound("error.not_found", what=f"record {body.record_id}")
        data = dict(record.data)
    engine = flow_engine(session, site)
    inst = engine.start(key, data, principal.user_id, version=body.version, record_id=body.record_id)
    return instance_view(inst)


@router.get("/instances/{instance_id}", response_model=InstanceView,
            summary="An instance with its tasks, history and where it stands")
def get_instance(instance_id: int, session: SessionDep, site: SiteDep, principal: PrincipalDep) -> InstanceView:
    engine = flow_engine(session, site)
    inst = engine.instance(instance_id)
    hidden = readable(session, principal, inst, engine.flow(inst.flow_key, inst.flow_version))
    return instance_view(inst, hidden)


@router.get("/instances/{instance_id}/diagram.svg", summary="SVG diagram of the instance's position",
            response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def get_diagram(instance_id: int, session: SessionDep, site: SiteDep, principal: PrincipalDep,
                locale: LocaleDep) -> Response:
    engine = flow_engine(session, site)
    inst = engine.instance(instance_id)
    flow = engine.flow(inst.flow_key, inst.flow_version)
    readable(session, principal, inst, flow)
    return Response(render_svg(flow.definition, inst, locale), media_type="image/svg+xml")


@router.post("/instances/{instance_id}/actions", response_model=InstanceView,
             summary="Withdraw, urge, comment on, or (admin) jump / retry / cancel an instance")
def instance_action(instance_id: int, body: InstanceAction, session: SessionDep, site: SiteDep,
                    principal: PrincipalDep) -> InstanceView:
    if body.action not in INSTANCE_ACTIONS:
        from engine.errors import InvalidInput, Problem

        raise InvalidInput("flow.action.unknown", problems=[Problem(
            "flow.action.unknown", {"action": body.action, "known": ", ".join(sorted(INSTANCE_ACTIONS))},
            path="action")])
    engine = flow_engine(session, site)
    inst = engine.act_on_instance(instance_id, Action(
        body.action, principal.user_id, target=body.target, comment=body.comment,
        attachments=tuple(body.attachments)))
    return instance_view(inst)
