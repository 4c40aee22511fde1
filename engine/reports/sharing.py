"""Who sees which dashboard: read-only share links and the default dashboard of each role.

A share link carries no rights of its own: it shows the dashboard as its creator would see it,
with the creator's grants loaded on every view (so taking a right from the creator takes it
from the link), optionally narrowed to a scope and with filters fixed. The token is shown once;
only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.reports.query import Viewer
from engine.store import audit
from engine.store.access import SCOPES, Principal, authorize, load_principal
from engine.store.audit import Actor
from engine.store.models import Role
from engine.store.models.reports import RoleDashboard, ShareLink


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewShare:
    link: ShareLink
    token: str


def create_share(session: Session, principal: Principal, dashboard: str, *, now: datetime,
                 scope_cap: str | None = None, filters: dict[str, Any] | None = None,
                 expires_at: datetime | None = None, note: str | None = None) -> NewShare:
    """A link to `dashboard` showing what `principal` sees; they need `export` on it."""
    authorize(session, principal, "report", dashboard, "export")
    problems = []
    if scope_cap is not None and scope_cap not in SCOPES:
        problems.append(Problem("reports.bad_scope", {"value": scope_cap, "choices": ", ".join(SCOPES)},
                                path="scope"))
    if expires_at is not None and expires_at <= now:
        problems.append(Problem("reports.expiry_past", path="expires_at"))
    if problems:
        raise InvalidInput("reports.invalid", problems=problems)
    token = secrets.token_urlsafe(24)
    link = ShareLink(dashboard=dashboard, token_hash=_hash(token), created_by=principal.user_id, scope_cap=scope_cap,
                     filters=filters or None, expires_at=expires_at, note=note, created_at=now)
    session.add(link)
    session.flush()
    audit.append(session, principal.actor, "report.share", "report", dashboard,
                 {"share": link.id, "scope": scope_cap, "filters": filters, "expires_at": str(expires_at)})
    return NewShare(link, token)


def open_share(session: Session, token: str, now: datetime) -> tuple[ShareLink, Viewer]:
    """The link and the viewer it stands for; unknown, revoked and expired links are alike
    NotFound (a probe learns nothing)."""
    link = session.execute(select(ShareLink).where(ShareLink.token_hash == _hash(token))).scalar_one_or_none()
    if link is None or link.revoked_at is not None or (link.expires_at is not None and link.expires_at <= now):
        raise NotFound(what="share link")
    principal = load_principal(session, link.created_by)
    if principal is None:
        raise NotFound(what="share link")
    authorize(session, principal, "report", link.dashboard, "read")
    link.last_viewed_at = now
    return link, Viewer(principal, link.scope_cap)


def revoke_share(session: Session, principal: Principal, dashboard: str, share_id: int, now: datetime) -> ShareLink:
    link = session.get(ShareLink, share_id)
    if link is None or link.dashboard != dashboard:
        raise NotFound(what=f"share link {share_id}")
    if link.created_by != principal.user_id:
        authorize(session, principal, "report", dashboard, "design")
    link.revoked_at = link.revoked_at or now
    audit.append(session, principal.actor, "report.unshare", "report", dashboard, {"share": link.id})
    return link


def shares(session: Session, dashboard: str) -> list[ShareLink]:
    return list(session.execute(select(ShareLink).where(ShareLink.dashboard == dashboard)
                                .order_by(ShareLink.id)).scalars())


# --- default dashboards per role -----------------------------------------------------------------

def set_role_default(session: Session, actor: Actor, role_key: str, dashboard: str | None,
                     priority: int = 100) -> None:
    """The dashboard members of `role_key` open by default (None removes it)."""
    role_id = session.execute(select(Role.id).where(Role.key == role_key)).scalar_one_or_none()
    if role_id is None:
        raise NotFound(what=f"role {role_key}")
    session.execute(delete(RoleDashboard).where(RoleDashboard.role_id == role_id))
    if dashboard is not None:
        session.add(RoleDashboard(role_id=role_id, dashboard=dashboard, priority=priority))
    session.flush()
    audit.append(session, actor, "report.role_default", "role", role_key, {"dashboard": dashboard,
                                                                            "priority": priority})


def role_defaults(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(select(Role.key, RoleDashboard.dashboard, RoleDashboard.priority)
                           .join(RoleDashboard, RoleDashboard.role_id == Role.id).order_by(RoleDashboard.priority,
                                                                                           Role.key)).all()
    return [(r[0], r[1], r[2]) for r in rows]


def default_for(session: Session, principal: Principal, fallback: str | None = None) -> str | None:
    """The dashboard a person opens first: their roles' default with the lowest priority that
    they may read, else `fallback` (a personal dashboard) if they may read it."""
    candidates: list[str] = []
    if principal.role_ids:
        rows = session.execute(select(RoleDashboard.dashboard).where(RoleDashboard.role_id.in_(principal.role_ids))
                               .order_by(RoleDashboard.priority, RoleDashboard.dashboard)).scalars()
        candidates += list(rows)
    if fallback:
        candidates.append(fallback)
    for key in candidates:
        try:
            authorize(session, principal, "report", key, "read")
        except Forbidden:
            continue
        return key
    return None


i18n.register_messages(
    {
        "reports.bad_scope": {"zh-CN": "范围“{value}”无效（可选：{choices}）",
                              "en": "“{value}” is not a scope ({choices})"},
        "reports.expiry_past": {"zh-CN": "过期时间已过", "en": "The expiry time is in the past"},
    }
)
