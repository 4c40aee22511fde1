"""Records of a form: create, read, update (with the row version), delete, restore, list,
export, import, and the choices a relation field offers. Thin: parse, authorise, call the
record service."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, SiteDep, require
from engine.api.errors import ERRORS
from engine.forms.excel.export import export_xlsx
from engine.forms.excel.importer import error_report_xlsx, import_xlsx
from engine.forms.listing import ListQuery, relation_choices
from engine.forms.records import RecordService, RecordView
from engine.store.access import Access, authorize

router = APIRouter(prefix="/api/v1/records", tags=["records"], responses=ERRORS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def get_records(site: SiteDep, session: SessionDep) -> RecordService:
    return RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)


RecordsDep = Annotated[RecordService, Depends(get_records)]
CanCreate = Annotated[Access, Depends(require("form", "create", key_param="form"))]
CanRead = Annotated[Access, Depends(require("form", "read", key_param="form"))]
CanUpdate = Annotated[Access, Depends(require("form", "update", key_param="form"))]
CanDelete = Annotated[Access, Depends(require("form", "delete", key_param="form"))]
CanExport = Annotated[Access, Depends(require("form", "export", key_param="form"))]


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] = Field(description="Field values by key; formulas and serial numbers are computed")


class RecordPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] = Field(description="The fields to change (a sub-table is replaced whole)")
    row_version: int = Field(description="The row_version you read; a newer one on the server → 409")


class RecordOut(BaseModel):
    id: int
    form: str
    form_version: int
    data: dict[str, Any]
    status: str
    owner_id: int | None
    department_id: int | None
    row_version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    changed: list[str] = Field(default_factory=list, description="On update: the fields whose values changed")

    @classmethod
    def of(cls, view: RecordView) -> RecordOut:
        return cls(**view.__dict__)


class RecordPage(BaseModel):
    items: list[RecordOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class ImportOut(BaseModel):
    mode: str
    rows: int
    created: int
    failed_rows: int
    errors: list[dict[str, Any]]
    more_errors: int


class ChoicesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] = Field(default_factory=dict, description="The record being filled (what `record` is)")
    q: str | None = None
    limit: int = 20


class Choice(BaseModel):
    id: int
    label: str


@router.post("/{form}", response_model=RecordOut, status_code=201, summary="Create a record")
def create(form: str, body: RecordIn, records: RecordsDep, principal: PrincipalDep, access: CanCreate) -> RecordOut:
    return RecordOut.of(records.create(form, body.data, principal=principal, access=access))


@router.get("/{form}", response_model=RecordPage, summary="List records: filter, sort, search, keyset pages")
def list_records(
    form: str, records: RecordsDep, principal: PrincipalDep, access: CanRead,
    filter: Annotated[str | None, Query(description='An expression, e.g. level == "major" and score >= 160')] = None,
    sort: Annotated[list[str] | None, Query(description="Field keys, - for descending: -created_at")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    q: Annotated[str | None, Query(description="Words to search for in text fields")] = None,
    deleted: Annotated[bool, Query(description="List deleted records instead")] = False,
) -> RecordPage:
    query = ListQuery(filter=filter, sort=sort or ["-created_at"], cursor=cursor, limit=limit, search=q,
                      deleted=deleted)
    views, next_cursor = records.list(form, query, principal=principal, access=access)
    return RecordPage(items=[RecordOut.of(v) for v in views], next_cursor=next_cursor)


@router.get("/{form}/export.xlsx", summary="Export records to xlsx (labels as headers, sub-tables on own sheets)",
            response_class=StreamingResponse)
def export(form: str, records: RecordsDep, principal: PrincipalDep, access: CanExport, locale: LocaleDep,
           filter: str | None = None, q: str | None = None) -> StreamingResponse:
    # Kept open past this function: the response streams it, then closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    export_xlsx(records, form, spool, locale=locale, principal=principal, access=access,
                query=ListQuery(filter=filter, search=q))
    spool.seek(0)
    return StreamingResponse(spool, media_type=XLSX, background=BackgroundTask(spool.close),
                             headers={"Content-Disposition": f'attachment; filename="{form}.xlsx"'})


@router.post("/{form}/import", summary="Import records from xlsx with a per-row error report",
             responses={200: {"content": {XLSX: {}}, "description": "The report (JSON, or xlsx with format=xlsx)"}})
def import_records(form: str, file: UploadFile, records: RecordsDep, principal: PrincipalDep, access: CanCreate,
                   locale: LocaleDep, mode: Literal["all", "valid"] = "all",
                   format: Literal["json", "xlsx"] = "json") -> Any:
    report = import_xlsx(records, form, file.file, mode=mode, locale=locale, principal=principal, access=access)
    if format == "xlsx":
        buffer = io.BytesIO()
        error_report_xlsx(report, buffer, locale=locale)
        buffer.seek(0)
        return StreamingResponse(buffer, media_type=XLSX,
                                 headers={"Content-Disposition": f'attachment; filename="{form}-import.xlsx"'})
    return ImportOut(**report.to_dict(locale))


@router.post("/{form}/choices/{field}", response_model=list[Choice],
             summary="Records a relation field may point to, given the record being filled")
def choices(form: str, field: str, body: ChoicesIn, records: RecordsDep, principal: PrincipalDep,
            access: CanRead) -> list[Choice]:
    source = records.catalog.current(form)
    item = source.definition.field(field)
    target_key = getattr(item, "form", form)
    target_access = authorize(records.session, principal, "form", target_key, "read")
    target = records.catalog.current(target_key)
    found = relation_choices(records.session, source, target, field, body.data, records.eval_context(),
                             search=body.q, limit=body.limit, principal=principal, scope=target_access.scope)
    return [Choice(id=i, label=text) for i, text in found]


@router.get("/{form}/{record_id}", response_model=RecordOut, summary="Read a record")
def read(form: str, record_id: int, records: RecordsDep, principal: PrincipalDep, access: CanRead) -> RecordOut:
    return RecordOut.of(records.get(form, record_id, principal=principal, access=access))


@router.patch("/{form}/{record_id}", response_model=RecordOut,
              summary="Change fields; send the row_version you read (409 if someone changed it since)")
def patch(form: str, record_id: int, body: RecordPatch, records: RecordsDep, principal: PrincipalDep,
          access: CanUpdate) -> RecordOut:
    return RecordOut.of(records.update(form, record_id, body.data, row_version=body.row_version,
                                       principal=principal, access=access))


@router.delete("/{form}/{record_id}", response_model=RecordOut, summary="Soft-delete a record (restorable)")
def delete(form: str, record_id: int, records: RecordsDep, principal: PrincipalDep, access: CanDelete,
           row_version: int | None = None) -> RecordOut:
    return RecordOut.of(records.delete(form, record_id, row_version=row_version, principal=principal,
                                       access=access))


@router.post("/{form}/{record_id}/restore", response_model=RecordOut, summary="Restore a deleted record")
def restore(form: str, record_id: int, records: RecordsDep, principal: PrincipalDep, access: CanDelete) -> RecordOut:
    return RecordOut.of(records.restore(form, record_id, principal=principal, access=access))
