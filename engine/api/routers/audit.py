"""The audit log: browse, verify the hash chain, export to xlsx."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from engine.api.deps import LocaleDep, PrincipalDep, SessionDep
from engine.api.errors import ERRORS
from engine.runtime.auditlog import export_xlsx
from engine.store import audit
from engine.store.access import authorize

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERRORS)


class Entry(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str
    diff: Any
    prev_hash: str
    hash: str


class Verification(BaseModel):
    ok: bool
    checked: int
    bad_id: int | None
    reason: str | None
    message: str


def _check(session: Any, principal: Any) -> None:
    authorize(session, principal, "system", "audit", "read")


@router.get("", response_model=list[Entry], summary="Audit entries by actor, object and time range")
def list_entries(session: SessionDep, principal: PrincipalDep, actor_id: int | None = None,
                 object_type: str | None = None, object_id: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 200) -> list[Entry]:
    _check(session, principal)
    rows = audit.query(session, actor_id=actor_id, object_type=object_type, object_id=object_id, since=since,
                       until=until)
    out = []
    for row in rows:
        out.append(Entry.model_validate(row._asdict()))
        if len(out) >= min(limit, 5000):
            break
    return out


@router.get("/verify", response_model=Verification, summary="Recompute the hash chain")
def verify(session: SessionDep, principal: PrincipalDep, locale: LocaleDep) -> Verification:
    _check(session, principal)
    result = audit.verify(session)
    return Verification(ok=result.ok, checked=result.checked, bad_id=result.bad_id, reason=result.reason,
                        message=result.message(locale))


@router.get("/export.xlsx", summary="Export entries to xlsx", response_class=StreamingResponse)
def export(session: SessionDep, principal: PrincipalDep, locale: LocaleDep, actor_id: int | None = None,
           object_type: str | None = None, object_id: str | None = None, since: datetime | None = None,
           until: datetime | None = None) -> StreamingResponse:
    _check(session, principal)
    buffer = io.BytesIO()
    export_xlsx(session, buffer, locale=locale, actor_id=actor_id, object_type=object_type, object_id=object_id,
                since=since, until=until)
    buffer.seek(0)
    return StreamingResponse(
        buffer, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="audit.xlsx"'},
    )
