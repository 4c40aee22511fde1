"""Form definitions: validate, save a draft, publish, versions and their diff, the record JSON
Schema, which fields are visible for given data, migrations of old records, the import
template, and turning a workbook into a definition."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, require
from engine.api.errors import ERRORS
from engine.api.routers.records import XLSX, RecordsDep
from engine.errors import Problem
from engine.forms import check_form
from engine.forms.catalog import KIND, FormCatalog
from engine.forms.compiled import record_json_schema
from engine.forms.excel.export import template_xlsx
from engine.forms.excel.infer import infer_form
from engine.forms.migrations import migrate_records
from engine.forms.model import FormDefinition
from engine.forms.publishing import publish, save_draft
from engine.forms.versions import diff
from engine.store.access import Access, authorize
from engine.store.definitions import DefinitionRepository

router = APIRouter(prefix="/api/v1/forms", tags=["forms"], responses=ERRORS)
CanDesign = Annotated[Access, Depends(require("form", "design", key_param="key"))]
CanRead = Annotated[Access, Depends(require("form", "read", key_param="key"))]
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "https://safeflow.dev/schemas/form.schema.json"}}}}}


class ProblemOut(BaseModel):
    code: str
    message: str
    severity: str
    path: str | None = None
    line: int | None = None
    column: int | None = None


class CheckOut(BaseModel):
    ok: bool
    problems: list[ProblemOut]


class FormSummary(BaseModel):
    key: str
    version: int
    title: dict[str, str]
    published_at: datetime | None


class VersionOut(BaseModel):
    version: int
    status: str
    checksum: str
    created_at: datetime
    published_at: datetime | None
    note: str | None
    body: dict[str, Any] | None = None


class PublishedOut(BaseModel):
    version: int
    created: bool = Field(description="False when the body equalled the current version (nothing changed)")


class VisibilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] = Field(default_factory=dict)
    record_id: int | None = Field(default=None, description="Evaluate as an edit of this record")


class VisibilityOut(BaseModel):
    data: dict[str, Any] = Field(description="The data with defaults and formulas computed")
    fields: dict[str, dict[str, Any]] = Field(description='Per field ("due", "measures[2].price"): visible, '
                                                          "required, readonly, options offered")
    problems: list[ProblemOut]


class MigrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[dict[str, Any]]
    dry_run: bool = True


def _problems(problems: list[Problem], locale: str) -> list[ProblemOut]:
    return [ProblemOut(**p.to_dict(locale)) for p in problems]


async def _text(request: Request) -> str:
    return (await request.body()).decode("utf-8-sig", errors="replace")


def _version(row: Any, body: bool = False) -> VersionOut:
    return VersionOut(version=row.version, status=row.status, checksum=row.checksum, created_at=row.created_at,
                      published_at=row.published_at, note=row.note, body=row.body if body else None)


@router.get("", response_model=list[FormSummary], summary="Published forms")
def list_forms(session: SessionDep, principal: PrincipalDep) -> list[FormSummary]:
    repo = DefinitionRepository(session)
    out = []
    for key in repo.keys(KIND, include_drafts=False):
        row = repo.current(KIND, key)
        if row is not None:
            out.append(FormSummary(key=key, version=row.version, title=row.body.get("title", {}),
                                   published_at=row.published_at))
    return out


@router.post("/validate", response_model=CheckOut, openapi_extra=JSON_BODY,
             summary="Check a definition: every problem with line and column")
async def validate(request: Request, session: SessionDep, principal: PrincipalDep, locale: LocaleDep) -> CheckOut:
    _, problems = check_form(await _text(request), "definition", resolve_form=FormCatalog(session).definition)
    return CheckOut(ok=not any(p.severity == "error" for p in problems), problems=_problems(problems, locale))


@router.post("/from-excel", response_model=dict[str, Any],
             summary="Infer a form definition from an Excel form or checklist (to review, then save)")
def from_excel(file: UploadFile, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    authorize(session, principal, "form", "*", "design")
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        tmp.write(file.file.read())
        tmp.flush()
        body = infer_form(tmp.name)
    stem = Path(file.filename or "form").stem
    body["title"] = body.get("title") or {"zh": stem}
    return body


class FieldTypeOut(BaseModel):
    type: str
    widget: str = Field(description="The designer's widget for it")
    value_type: str | None = Field(description="Its type in expressions; null for layout items")
    computed: bool
    properties: dict[str, Any] = Field(description="JSON Schema of the item's definition properties")


@router.get("/field-types", response_model=list[FieldTypeOut], summary="Field types the designer can offer")
def field_types(principal: PrincipalDep) -> list[FieldTypeOut]:
    from engine.forms.fieldtypes import registry

    return [FieldTypeOut(type=name, widget=cls.widget, value_type=cls.value_type, computed=cls.computed,
                         properties=cls.model_json_schema(by_alias=True))
            for name, cls in sorted(registry().items())]


@router.get("/{key}", response_model=VersionOut, summary="The published definition new records use")
def current(key: str, session: SessionDep, access: CanRead) -> VersionOut:
    return _version(DefinitionRepository(session).require_current(KIND, key), body=True)


@router.put("/{key}/draft", response_model=VersionOut, openapi_extra=JSON_BODY, summary="Save a draft (validated)")
async def draft(key: str, request: Request, session: SessionDep, principal: PrincipalDep,
                access: CanDesign) -> VersionOut:
    return _version(save_draft(session, principal.actor, await _text(request), key=key, file="definition"), True)


@router.post("/{key}/publish", response_model=PublishedOut,
             summary="Publish the draft (or the body sent); old records keep their version")
async def publish_form(key: str, request: Request, session: SessionDep, principal: PrincipalDep,
                       access: CanDesign) -> PublishedOut:
    text = (await _text(request)).strip()
    published = publish(session, principal.actor, key, text or None)
    return PublishedOut(version=published.version, created=published.created)


@router.get("/{key}/versions", response_model=list[VersionOut], summary="Every version, drafts included")
def versions(key: str, session: SessionDep, access: CanRead) -> list[VersionOut]:
    return [_version(row) for row in DefinitionRepository(session).versions(KIND, key)]


@router.get("/{key}/versions/{version}", response_model=VersionOut, summary="One version's definition")
def version(key: str, version: int, session: SessionDep, access: CanRead) -> VersionOut:
    return _version(DefinitionRepository(session).require(KIND, key, version), body=True)


@router.get("/{key}/diff", response_model=list[dict[str, Any]], summary="What changed between two versions")
def version_diff(key: str, session: SessionDep, access: CanRead, a: int, b: int) -> list[dict[str, Any]]:
    repo = DefinitionRepository(session)
    old = FormDefinition.model_validate(repo.require(KIND, key, a).body)
    new = FormDefinition.model_validate(repo.require(KIND, key, b).body)
    return [c.to_dict() for c in diff(old, new)]


@router.get("/{key}/schema", response_model=dict[str, Any], summary="JSON Schema (2020-12) of this form's records")
def record_schema(key: str, records: RecordsDep, access: CanRead) -> dict[str, Any]:
    return record_json_schema(records.catalog.current(key).definition)


@router.post("/{key}/visibility", response_model=VisibilityOut,
             summary="Which fields are visible, required and read-only for this data, and computed values")
def visibility(key: str, body: VisibilityIn, records: RecordsDep, principal: PrincipalDep, access: CanRead,
               locale: LocaleDep) -> VisibilityOut:
    prepared = records.preview(key, body.data, record_id=body.record_id, principal=principal)
    states = prepared.evaluation.states if prepared.evaluation else {}
    hidden = access.hidden
    return VisibilityOut(data={k: v for k, v in prepared.data.items() if k not in hidden},
                         fields={k: s.to_dict() for k, s in states.items() if k.split("[")[0] not in hidden},
                         problems=_problems(prepared.forbidden + prepared.problems, locale))


@router.post("/{key}/migrations", response_model=dict[str, Any],
             summary="Move old records to the current version (dry run first; all or nothing)")
def migrate(key: str, body: MigrationIn, records: RecordsDep, principal: PrincipalDep, access: CanDesign,
            locale: LocaleDep) -> dict[str, Any]:
    report = migrate_records(records.session, principal.actor, key, body.steps, events=records.events,
                             dry_run=body.dry_run, ctx=records.eval_context())
    return report.to_dict(locale)


@router.get("/{key}/template.xlsx", summary="The import template", response_class=StreamingResponse)
def template(key: str, records: RecordsDep, access: CanRead, locale: LocaleDep) -> StreamingResponse:
    buffer = io.BytesIO()
    template_xlsx(records, key, buffer, locale=locale)
    buffer.seek(0)
    return StreamingResponse(buffer, media_type=XLSX,
                             headers={"Content-Disposition": f'attachment; filename="{key}-template.xlsx"'})


