"""Flow analytics for any flow, with no setup: time per node (p50/p90), rework, overdue rate,
waiting work by person and department, and the bottleneck. Thin: authorise, call
engine.reports.flow_analytics."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field

from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, SiteDep, require
from engine.api.errors import ERRORS
from engine.api.routers.dashboards import DashboardOut, FiltersQuery, dashboard_out, parse_filters
from engine.errors import NotFound
from engine.reports import Viewer
from engine.reports.exports import MEDIA, export_run
from engine.reports.flow_analytics import bottleneck, flow_dashboard
from engine.reports.render import DashboardRun
from engine.store.access import Access
from engine.store.definitions import DefinitionRepository

router = APIRouter(prefix="/api/v1/flow-analytics", tags=["flows"], responses=ERRORS)
CanRead = Annotated[Access, Depends(require("flow", "read", key_param="flow"))]


class FlowAnalyticsOut(DashboardOut):
    bottleneck: dict[str, Any] | None = Field(
        default=None, description="The node with the largest share of task time: node, label, share, hours")


def _run(flow: str, session: Any, site: Any, principal: Any, locale: str, filters: str | None) -> DashboardRun:
    if DefinitionRepository(session).current("flow", flow) is None:
        raise NotFound(what=f"flow {flow}")
    return DashboardRun(session, flow_dashboard(flow), Viewer(principal), site.clock.now(), site.settings.tz, locale,
                        parse_filters(filters))


@router.get("/{flow}", response_model=FlowAnalyticsOut, summary="A flow's built-in analytics dashboard")
def flow_analytics(flow: str, session: SessionDep, site: SiteDep, principal: PrincipalDep, _access: CanRead,
                   locale: LocaleDep, filters: FiltersQuery = None) -> FlowAnalyticsOut:
    run = _run(flow, session, site, principal, locale, filters)
    outputs = run.all()
    out = dashboard_out(run, 1, outputs)
    return FlowAnalyticsOut(**out.model_dump(), bottleneck=bottleneck(outputs))


@router.get("/{flow}/export", summary="Export a flow's analytics (PDF, PNG, xlsx)",
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "The file"}})
def export_flow_analytics(flow: str, session: SessionDep, site: SiteDep, principal: PrincipalDep, _access: CanRead,
                          locale: LocaleDep, format: Literal["pdf", "png", "xlsx"] = "pdf",
                          filters: FiltersQuery = None,
                          widget: str | None = Query(default=None, description="Only this widget")) -> Response:
    content, name = export_run(_run(flow, session, site, principal, locale, filters), format, widget)
    return Response(content, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
