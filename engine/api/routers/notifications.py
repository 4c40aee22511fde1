"""Notifications: my in-app inbox, and the outbox's delivery state per message for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from engine.api.deps import AdminDep, PrincipalDep, SessionDep, SiteDep
from engine.api.errors import ERRORS
from engine.errors import NotFound
from engine.store import outbox
from engine.store.models import InboxMessage, OutboxMessage

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=ERRORS)


class InboxItem(BaseModel):
    id: int
    title: str
    body: str
    link: str | None
    source: dict[str, Any] | None
    created_at: datetime
    read_at: datetime | None


class OutboxItem(BaseModel):
    id: int
    channel: str
    recipient: str
    user_id: int | None
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    source: dict[str, Any] | None
    created_at: datetime
    sent_at: datetime | None


@router.get("/inbox", response_model=list[InboxItem], summary="My in-app messages, newest first")
def inbox(session: SessionDep, principal: PrincipalDep, unread: bool = False, limit: int = 50) -> list[InboxItem]:
    query = select(InboxMessage).where(InboxMessage.user_id == principal.user_id)
    if unread:
        query = query.where(InboxMessage.read_at.is_(None))
    rows = session.execute(query.order_by(InboxMessage.id.desc()).limit(min(limit, 500))).scalars()
    return [InboxItem.model_validate(r, from_attributes=True) for r in rows]


@router.post("/inbox/{message_id}/read", response_model=InboxItem, summary="Mark one of my messages read")
def mark_read(message_id: int, session: SessionDep, principal: PrincipalDep, site: SiteDep) -> InboxItem:
    row = session.get(InboxMessage, message_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound(what=f"message {message_id}")
    row.read_at = row.read_at or site.clock.now()
    return InboxItem.model_validate(row, from_attributes=True)


@router.get("/outbox", response_model=list[OutboxItem], summary="Delivery state of outgoing messages (admin)")
def list_outbox(session: SessionDep, _admin: AdminDep, status: str | None = None, channel: str | None = None,
                limit: int = 100) -> list[OutboxItem]:
    query = select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    rows = session.execute(query.order_by(OutboxMessage.id.desc()).limit(min(limit, 1000))).scalars()
    return [OutboxItem.model_validate(r, from_attributes=True) for r in rows]


@router.post("/outbox/{message_id}/retry", response_model=OutboxItem,
             summary="Queue a dead or failed message for another round of attempts (admin)")
def retry(message_id: int, session: SessionDep, _admin: AdminDep, site: SiteDep) -> OutboxItem:
    if not outbox.retry(session, message_id, site.clock.now()):
        raise NotFound(what=f"dead or failed message {message_id}")
    session.expire_all()
    return OutboxItem.model_validate(session.get(OutboxMessage, message_id), from_attributes=True)
