"""Print templates: publish one (checked first), list them, and print a record with one — as
HTML for the browser's print dialog or as PDF. Thin: parse, authorise, call engine.reports."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body
from fastapi.responses import Response
from pydantic import BaseModel

from engine import i18n
from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, SiteDep
from engine.api.errors import ERRORS, ProblemBody
from engine.forms.catalog import FormCatalog
from engine.forms.records import RecordService
from engine.reports.chromium import print_pdf
from engine.reports.print_context import print_context
from engine.reports.printing import PrintCatalog, render_html
from engine.store.access import authorize

router = APIRouter(prefix="/api/v1/prints", tags=["prints"], responses=ERRORS)


class PrintSummary(BaseModel):
    key: str
    form: str
    title: str
    paper: str


class PrintPublished(BaseModel):
    key: str
    version: int
    warnings: list[ProblemBody]


@router.get("", response_model=list[PrintSummary], summary="Print templates (optionally of one form)")
def list_prints(session: SessionDep, principal: PrincipalDep, locale: LocaleDep,
                form: str | None = None) -> list[PrintSummary]:
    out = []
    for t in PrintCatalog(session).all():
        if form is None or t.meta.form == form:
            out.append(PrintSummary(key=t.key, form=t.meta.form, title=i18n.localized(t.meta.title, locale) or t.key,
                                    paper=t.meta.paper))
    return out


@router.put("/{key}", response_model=PrintPublished, summary="Publish a print template (Jinja2 HTML, sandboxed)")
def publish_print(key: str, session: SessionDep, principal: PrincipalDep, locale: LocaleDep,
                  text: str = Body(media_type="text/html", description="The template text")) -> PrintPublished:
    from engine.reports.printing import parse_template

    template, _ = parse_template(key, text)
    if template is not None:
        authorize(session, principal, "form", template.meta.form, "design")
    version, warnings = PrintCatalog(session).publish(principal.actor, key, text)
    return PrintPublished(key=key, version=version, warnings=[ProblemBody(**w.to_dict(locale)) for w in warnings])


@router.get("/{key}/records/{record_id}", summary="A record printed with the template (HTML or PDF)",
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "The document"},
                       503: {"description": "Chromium is not installed (PDF)"}})
def print_record(key: str, record_id: int, session: SessionDep, site: SiteDep, principal: PrincipalDep,
                 locale: LocaleDep, format: Literal["html", "pdf"] = "html") -> Response:
    template = PrintCatalog(session).current(key)
    records = RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)
    caller = records.caller(template.meta.form, "read", principal)
    record = records.get(template.meta.form, record_id, principal=principal, access=caller.access)
    definition = FormCatalog(session).version(template.meta.form, record.form_version).definition
    context = print_context(session, definition, record, files_dir=site.settings.files_dir, now=site.clock.now(),
                            tz=site.settings.tz, locale=locale, hidden=caller.hidden)
    html = render_html(template, context)
    if format == "html":
        return Response(html, media_type="text/html; charset=utf-8")
    name = f"{key}-{record_id}.pdf"
    return Response(print_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
