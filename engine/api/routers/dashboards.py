"""Dashboards: list, publish, the definition with its data and Plotly figures (global filters,
per-widget refresh), drill-down to the records behind a point, and exports (xlsx, PNG, PDF).
Thin: parse, authorise, call engine.reports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from engine import i18n
from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, SiteDep, require
from engine.api.errors import ERRORS, ProblemBody
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.reports import Viewer
from engine.reports.catalog import DashboardCatalog
from engine.reports.drill import drill
from engine.reports.exports import MEDIA, export_run
from engine.reports.render import DashboardRun, WidgetOutput, file_images
from engine.reports.sharing import default_for
from engine.runtime import reports as report_runtime
from engine.runtime.site import Site
from engine.store.access import Access, authorize

router = APIRouter(prefix="/api/v1/dashboards", tags=["dashboards"], responses=ERRORS)
CanRead = Annotated[Access, Depends(require("report", "read", key_param="key"))]
CanDesign = Annotated[Access, Depends(require("report", "design", key_param="key"))]
CanExport = Annotated[Access, Depends(require("report", "export", key_param="key"))]


class DashboardSummary(BaseModel):
    key: str
    version: int
    title: str
    description: str | None = None


class WidgetOut(BaseModel):
    id: str
    type: str
    title: str
    data: dict[str, Any] | None = Field(default=None, description="columns (typed, labelled) and rows")
    figure: dict[str, Any] | None = Field(default=None, description="Plotly figure JSON: {data, layout}")
    summary: dict[str, Any] | None = Field(default=None, description="KPI value/status, map colours …")
    error: dict[str, Any] | None = Field(default=None, description="Why this widget could not be shown")


class DashboardOut(BaseModel):
    key: str
    version: int
    title: str
    refresh_seconds: int | None
    definition: dict[str, Any]
    filters: dict[str, Any] = Field(description="The filter values applied (defaults filled in)")
    generated_at: datetime
    widgets: list[WidgetOut]


class PublishOut(BaseModel):
    key: str
    version: int
    warnings: list[ProblemBody]


class FiltersIn(BaseModel):
    filters: dict[str, Any] = Field(default_factory=dict,
                                    description='{"date": "this_month" | {"from", "to"}, "department": id, '
                                                '"<select filter>": value or [values]}')


class DrillIn(FiltersIn):
    point: dict[str, Any] = Field(description="The clicked point's dimension values (the figure's customdata)")
    measure: str | None = Field(default=None, description="Also apply this measure's condition")
    cursor: int | None = None
    limit: int = Field(default=50, ge=1, le=200)


class DrillOut(BaseModel):
    form: str
    records: list[dict[str, Any]]
    next_cursor: int | None
    filter: list[dict[str, Any]] = Field(description="The conditions applied, for the record list's header")


def parse_filters(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInput("reports.invalid", problems=[Problem("reports.filters_not_json", path="filters")])
    return value


FiltersQuery = Annotated[str | None, Query(description='Filter values as JSON, e.g. {"area": ["A"]}')]


def dashboard_run(site: Site, session: Any, key: str, viewer: Viewer, locale: str, filters: dict[str, Any]
                  ) -> tuple[DashboardRun, int]:
    dashboard, version = DashboardCatalog(session).current(key)
    run = DashboardRun(session, dashboard, viewer, site.clock.now(), site.settings.tz, locale, filters,
                       image=file_images(session, site.settings.files_dir))
    return run, version


def dashboard_out(run: DashboardRun, version: int, outputs: list[WidgetOutput], *, figures: bool = True
                  ) -> DashboardOut:
    d = run.dashboard
    applied = {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in run.values.items()}
    return DashboardOut(key=d.key, version=version, title=i18n.localized(d.title, run.locale),
                        refresh_seconds=d.refresh_seconds, definition=d.body(), filters=applied,
                        generated_at=run.now, widgets=[WidgetOut(**o.to_dict(run.locale, figure=figures))
                                                       for o in outputs])


@router.get("", response_model=list[DashboardSummary], summary="Published dashboards the caller may open")
def list_dashboards(session: SessionDep, principal: PrincipalDep, locale: LocaleDep) -> list[DashboardSummary]:
    catalog = DashboardCatalog(session)
    out = []
    for key in catalog.published():
        try:
            authorize(session, principal, "report", key, "read")
        except Forbidden:
            continue
        dashboard, version = catalog.current(key)
        out.append(DashboardSummary(key=key, version=version, title=i18n.localized(dashboard.title, locale),
                                    description=i18n.localized(dashboard.description, locale) or None))
    return out


@router.get("/default", response_model=DashboardSummary | None,
            summary="The dashboard the caller opens first (their roles' default, else `personal`)")
def my_default(session: SessionDep, principal: PrincipalDep, locale: LocaleDep,
               personal: str | None = Query(default=None, description="Fallback dashboard key")
               ) -> DashboardSummary | None:
    key = default_for(session, principal, personal)
    if key is None:
        return None
    dashboard, version = DashboardCatalog(session).current(key)
    return DashboardSummary(key=key, version=version, title=i18n.localized(dashboard.title, locale))


@router.put("/{key}", response_model=PublishOut, summary="Publish a dashboard definition (checked first)")
def publish_dashboard(key: str, session: SessionDep, site: SiteDep, principal: PrincipalDep, _access: CanDesign,
                      locale: LocaleDep, body: dict[str, Any] = Body(description="The dashboard definition")
                      ) -> PublishOut:
    published = report_runtime.publish_dashboard(session, site, principal.actor, body, key=key)
    return PublishOut(key=key, version=published.version,
                      warnings=[ProblemBody(**p.to_dict(locale)) for p in published.warnings])


@router.get("/{key}", response_model=DashboardOut,
            summary="The dashboard: definition, each widget's data and Plotly figure, with filters")
def get_dashboard(key: str, session: SessionDep, site: SiteDep, principal: PrincipalDep, _access: CanRead,
                  locale: LocaleDep, filters: FiltersQuery = None,
                  figures: bool = Query(default=True, description="Include the Plotly figures")) -> DashboardOut:
    run, version = dashboard_run(site, session, key, Viewer(principal), locale, parse_filters(filters))
    return dashboard_out(run, version, run.all(), figures=figures)


@router.post("/{key}/query", response_model=DashboardOut, summary="The dashboard with filters in the body")
def query_dashboard(key: str, body: FiltersIn, session: SessionDep, site: SiteDep, principal: PrincipalDep,
                    _access: CanRead, locale: LocaleDep) -> DashboardOut:
    run, version = dashboard_run(site, session, key, Viewer(principal), locale, body.filters)
    return dashboard_out(run, version, run.all())


def _widget(run: DashboardRun, widget_id: str) -> Any:
    widget = run.dashboard.widget(widget_id)
    if widget is None:
        raise NotFound(what=f"widget {widget_id}")
    return widget


@router.get("/{key}/widgets/{widget_id}", response_model=WidgetOut,
            summary="One widget's data and figure (auto-refresh of a single tile)")
def get_widget(key: str, widget_id: str, session: SessionDep, site: SiteDep, principal: PrincipalDep,
               _access: CanRead, locale: LocaleDep, filters: FiltersQuery = None) -> WidgetOut:
    run, _ = dashboard_run(site, session, key, Viewer(principal), locale, parse_filters(filters))
    return WidgetOut(**run.widget(_widget(run, widget_id)).to_dict(locale))


@router.post("/{key}/widgets/{widget_id}/drill", response_model=DrillOut,
             summary="The records behind a clicked point (bar, slice, cell, map area)")
def drill_widget(key: str, widget_id: str, body: DrillIn, session: SessionDep, site: SiteDep,
                 principal: PrincipalDep, _access: CanRead, locale: LocaleDep) -> DrillOut:
    run, _ = dashboard_run(site, session, key, Viewer(principal), locale, body.filters)
    page = drill(run, _widget(run, widget_id), body.point, measure=body.measure, cursor=body.cursor,
                 limit=body.limit)
    return DrillOut(**page.__dict__)


@router.get("/{key}/export", summary="Export the dashboard (PDF, PNG) or widget data (xlsx)",
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "The file"},
                       503: {"description": "Chromium is not installed (PNG/PDF)"}})
def export_dashboard(key: str, session: SessionDep, site: SiteDep, principal: PrincipalDep, _access: CanExport,
                     locale: LocaleDep, format: Literal["pdf", "png", "xlsx"] = "pdf",
                     widget: str | None = Query(default=None, description="Only this widget"),
                     filters: FiltersQuery = None) -> Response:
    run, _ = dashboard_run(site, session, key, Viewer(principal), locale, parse_filters(filters))
    content, name = export_run(run, format, widget)
    return Response(content, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


i18n.register_messages({"reports.filters_not_json": {"zh-CN": "filters 应为 JSON 对象",
                                                     "en": "filters must be a JSON object"}})
