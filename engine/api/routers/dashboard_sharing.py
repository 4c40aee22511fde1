"""Sharing dashboards: read-only links (created, listed, revoked; opened without logging in) and
the default dashboard of each role. Thin: parse, authorise, call engine.reports.sharing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from engine.api.deps import (
    AdminDep,
    PrincipalDep,
    SessionDep,
    SiteDep,
    get_locale,
    get_session,
    get_site,
    require,
)
from engine.api.errors import ERRORS
from engine.api.routers.dashboards import DashboardOut, FiltersQuery, dashboard_out, dashboard_run, parse_filters
from engine.reports.catalog import DashboardCatalog
from engine.reports.render import parse_filter_values
from engine.reports.schedules import ScheduleSpec, cancel_schedule, create_schedule
from engine.reports.sharing import create_share, open_share, revoke_share, role_defaults, set_role_default, shares
from engine.store.access import Access
from engine.store.models.reports import ReportSchedule, ShareLink

router = APIRouter(prefix="/api/v1", tags=["dashboards"], responses=ERRORS)
CanShare = Annotated[Access, Depends(require("report", "export", key_param="key"))]


class ShareIn(BaseModel):
    scope: Literal["own", "department", "subtree", "all"] | None = Field(
        default=None, description="Show at most this scope of rows (default: what you see)")
    filters: dict[str, Any] | None = Field(default=None, description="Filter values fixed for viewers of the link")
    expires_at: datetime | None = None
    note: str | None = Field(default=None, max_length=500)


class ShareOut(BaseModel):
    id: int
    dashboard: str
    scope: str | None
    filters: dict[str, Any] | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_by: int
    created_at: datetime
    note: str | None = None
    token: str | None = Field(default=None, description="Shown once, when the link is created")
    url: str | None = Field(default=None, description="The read-only view (shown once)")

    @classmethod
    def of(cls, link: ShareLink, token: str | None = None) -> ShareOut:
        return cls(id=link.id, dashboard=link.dashboard, scope=link.scope_cap, filters=link.filters,
                   expires_at=link.expires_at, revoked_at=link.revoked_at, created_by=link.created_by,
                   created_at=link.created_at, note=link.note, token=token,
                   url=f"/api/v1/shared/{token}" if token else None)


class RoleDefaultIn(BaseModel):
    dashboard: str | None = Field(description="The dashboard key; null removes the default")
    priority: int = Field(default=100, description="Lower wins when a person has several roles")


class RoleDefaultOut(BaseModel):
    role: str
    dashboard: str
    priority: int


@router.post("/dashboards/{key}/shares", response_model=ShareOut, status_code=201,
             summary="Create a read-only link to the dashboard (needs export on it)")
def share(key: str, body: ShareIn, session: SessionDep, site: SiteDep, principal: PrincipalDep,
          _access: CanShare) -> ShareOut:
    dashboard, _ = DashboardCatalog(session).current(key)
    if body.filters:
        parse_filter_values(dashboard, body.filters, site.clock.now().astimezone(site.settings.tz).date())
    new = create_share(session, principal, key, now=site.clock.now(), scope_cap=body.scope, filters=body.filters,
                       expires_at=body.expires_at, note=body.note)
    return ShareOut.of(new.link, new.token)


@router.get("/dashboards/{key}/shares", response_model=list[ShareOut], summary="The dashboard's share links")
def list_shares(key: str, session: SessionDep, _access: CanShare) -> list[ShareOut]:
    return [ShareOut.of(link) for link in shares(session, key)]


@router.delete("/dashboards/{key}/shares/{share_id}", response_model=ShareOut, summary="Revoke a share link")
def unshare(key: str, share_id: int, session: SessionDep, site: SiteDep, principal: PrincipalDep,
            _access: CanShare) -> ShareOut:
    return ShareOut.of(revoke_share(session, principal, key, share_id, site.clock.now()))


@router.get("/shared/{token}", response_model=DashboardOut,
            summary="A shared dashboard, read-only, without logging in")
def shared(token: str, session: Annotated[Any, Depends(get_session)], site: Annotated[Any, Depends(get_site)],
           locale: Annotated[str, Depends(get_locale)], filters: FiltersQuery = None) -> DashboardOut:
    link, viewer = open_share(session, token, site.clock.now())
    values = {**parse_filters(filters), **(link.filters or {})}
    run, version = dashboard_run(site, session, link.dashboard, viewer, locale, values)
    return dashboard_out(run, version, run.all())


@router.get("/dashboard-defaults", response_model=list[RoleDefaultOut],
            summary="Each role's default dashboard (admin)")
def list_role_defaults(session: SessionDep, _admin: AdminDep) -> list[RoleDefaultOut]:
    return [RoleDefaultOut(role=r, dashboard=d, priority=p) for r, d, p in role_defaults(session)]


@router.put("/dashboard-defaults/{role}", response_model=list[RoleDefaultOut],
            summary="Set the dashboard a role opens by default (admin)")
def put_role_default(role: str, body: RoleDefaultIn, session: SessionDep, admin: AdminDep) -> list[RoleDefaultOut]:
    if body.dashboard is not None:
        DashboardCatalog(session).current(body.dashboard)
    set_role_default(session, admin.actor, role, body.dashboard, body.priority)
    return [RoleDefaultOut(role=r, dashboard=d, priority=p) for r, d, p in role_defaults(session)]


class ScheduleOut(BaseModel):
    id: int
    dashboard: str
    format: str
    recipients: list[dict[str, Any]]
    cadence: str
    weekday: int | None
    day: int | None
    time: str
    filters: dict[str, Any] | None
    locale: str
    active: bool
    next_at: datetime | None
    last_sent_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, row: ReportSchedule) -> ScheduleOut:
        return cls.model_validate(row, from_attributes=True)


@router.post("/dashboards/{key}/schedules", response_model=ScheduleOut, status_code=201,
             summary="E-mail the dashboard's export on a schedule (e.g. every Monday 08:00)")
def schedule(key: str, body: ScheduleSpec, session: SessionDep, site: SiteDep, principal: PrincipalDep,
             _access: CanShare) -> ScheduleOut:
    row = create_schedule(session, principal, key, body, now=site.clock.now(), tz=site.settings.tz,
                          timers=site.timers(session))
    return ScheduleOut.of(row)


@router.get("/dashboards/{key}/schedules", response_model=list[ScheduleOut], summary="The dashboard's schedules")
def list_schedules(key: str, session: SessionDep, _access: CanShare) -> list[ScheduleOut]:
    rows = session.execute(select(ReportSchedule).where(ReportSchedule.dashboard == key)
                           .order_by(ReportSchedule.id)).scalars()
    return [ScheduleOut.of(r) for r in rows]


@router.delete("/dashboards/{key}/schedules/{schedule_id}", response_model=ScheduleOut,
               summary="Stop a scheduled delivery")
def unschedule(key: str, schedule_id: int, session: SessionDep, site: SiteDep, principal: PrincipalDep,
               _access: CanShare) -> ScheduleOut:
    cancel_schedule(session, principal, key, schedule_id, site.timers(session))
    row = session.get(ReportSchedule, schedule_id)
    return ScheduleOut.of(row)
