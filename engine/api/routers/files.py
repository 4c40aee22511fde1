"""Uploads and downloads. An upload names the form and field it is for, so that field's kinds
and size limit apply; a download is allowed to whoever may read the record holding the file
(and see that field), or, before it is attached, to its uploader."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel

from engine import i18n
from engine.api.deps import PrincipalDep, SessionDep, SiteDep
from engine.api.errors import ERRORS
from engine.api.routers.records import RecordsDep
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.forms.fieldtypes.media import _Media
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.files import UploadRules, open_blob, store_upload, thumbnail
from engine.store.access import Principal, authorize
from engine.store.models import StoredFile

router = APIRouter(prefix="/api/v1/files", tags=["files"], responses=ERRORS)


class FileOut(BaseModel):
    id: int
    filename: str
    size: int
    content_type: str
    sha256: str
    record_id: int | None


def _out(row: StoredFile) -> FileOut:
    return FileOut(id=row.id, filename=row.filename, size=row.size, content_type=row.content_type, sha256=row.sha256,
                   record_id=row.record_id)


@router.post("", response_model=FileOut, status_code=201, summary="Upload a file for a form's image/file field")
def upload(file: UploadFile, site: SiteDep, records: RecordsDep, principal: PrincipalDep,
           form: str = Query(description="The form the file is for"),
           field: str = Query(description="The image, file or signature field; `table.column` for "
                                          "one in a sub-table")) -> FileOut:
    authorize(records.session, principal, "form", form, "create")
    item = _media_field(records.catalog.current(form).definition, field)
    if not isinstance(item, _Media):
        raise InvalidInput(problems=[Problem("files.not_media_field", {"name": field}, path="field")])
    limit_mb = min(site.settings.max_upload_mb, item.max_size_mb or site.settings.max_upload_mb)
    rules = UploadRules(accept=item.accepted(), max_bytes=int(limit_mb * 1048576))
    row = store_upload(records.session, site.settings.files_dir, file.file, filename=file.filename, rules=rules,
                       created_by=principal.user_id, form=form)
    return _out(row)


def _media_field(definition: Any, path: str) -> Any:
    """The field a path names: `photos`, or `items.photo` for a column of a sub-table (a photo
    per checklist row)."""
    parent, _, child = path.partition(".")
    item = definition.field(parent)
    if child and isinstance(item, SubtableField):
        return next((column for column in item.value_fields() if column.key == child), None)
    return None if child else item


def _readable(row: StoredFile, records: RecordsDep, principal: Principal) -> None:
    if row.record_id is None:
        if row.created_by != principal.user_id and not principal.is_admin:
            raise NotFound(what=f"file #{row.id}")
        return
    view = records.get(row.form or "", row.record_id, principal=principal, deleted=None)
    definition = records.catalog.version(view.form, view.form_version).definition
    refs = {ref for item in definition.value_fields() for kind, ref in item.references(view.data.get(item.key))
            if kind == "file"}
    if row.id not in refs:  # the field holding it is hidden from the caller
        raise Forbidden("files.hidden")


def _row(session: SessionDep, file_id: int) -> StoredFile:
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound(what=f"file #{file_id}")
    return row


@router.get("/{file_id}", summary="Download a file", response_class=FileResponse)
def download(file_id: int, site: SiteDep, session: SessionDep, records: RecordsDep,
             principal: PrincipalDep) -> FileResponse:
    row = _row(session, file_id)
    _readable(row, records, principal)
    return FileResponse(open_blob(site.settings.files_dir, row), media_type=row.content_type,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/{file_id}/thumbnail", summary="A JPEG thumbnail of an image, for lists", response_class=FileResponse)
def thumb(file_id: int, site: SiteDep, session: SessionDep, records: RecordsDep, principal: PrincipalDep,
          size: int = Query(default=256, ge=32, le=1024)) -> FileResponse:
    row = _row(session, file_id)
    _readable(row, records, principal)
    return FileResponse(thumbnail(site.settings.files_dir, row, size), media_type="image/jpeg",
                        headers={"X-Content-Type-Options": "nosniff"})


i18n.register_messages(
    {
        "files.not_media_field": {"zh-CN": "“{name}”不是图片/文件/签名字段",
                                  "en": "“{name}” is not an image, file or signature field"},
        "files.hidden": {"zh-CN": "无权查看该文件", "en": "You may not see this file"},
    }
)
