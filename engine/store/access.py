"""Who may do what to which rows: principals, grants, and row scopes applied inside SQL.

A grant gives a role an action on a resource (a form, a flow, …) with a row scope (own,
department, department and below, all) and field rules (hidden / read-only). Scopes become
WHERE clauses, so a department-scoped user's query never returns another department's rows —
nothing is filtered in Python after loading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from engine.errors import Forbidden
from engine.store.audit import Actor
from engine.store.models import Department, Grant, Membership, Role, User

ACTIONS = ("design", "create", "read", "update", "delete", "approve", "export")
SCOPES = ("own", "department", "subtree", "all")  # narrowest to widest
RESOURCE_KINDS = ("form", "flow", "rule", "report", "pack", "system")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller as every engine sees it."""

    user_id: int
    username: str
    name: str
    department_id: int | None = None
    is_admin: bool = False
    roles: frozenset[str] = frozenset()
    role_ids: frozenset[int] = frozenset()
    locale: str | None = None
    api_key_id: int | None = None

    @property
    def actor(self) -> Actor:
        suffix = f" (api key {self.api_key_id})" if self.api_key_id else ""
        return Actor(id=self.user_id, name=self.username + suffix)


@dataclass(frozen=True)
class Access:
    """The effective permission for one action: the widest scope over the caller's grants, and
    field rules that survive the union (a field is hidden only if every grant hides it)."""

    scope: str
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    grants: tuple[int, ...] = field(default=(), compare=False)

    @property
    def unrestricted(self) -> bool:
        return self.scope == "all" and not self.hidden and not self.readonly


FULL_ACCESS = Access(scope="all")


def load_principal(session: Session, user_id: int, *, api_key_id: int | None = None) -> Principal | None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    rows = session.execute(
        select(Role.id, Role.key).join(Membership, Membership.role_id == Role.id).where(Membership.user_id == user_id)
    ).all()
    return Principal(
        user_id=user.id,
        username=user.username,
        name=user.name,
        department_id=user.department_id,
        is_admin=user.is_admin,
        roles=frozenset(r.key for r in rows),
        role_ids=frozenset(r.id for r in rows),
        locale=user.locale,
        api_key_id=api_key_id,
    )


def merge_grants(grants: Iterable[Grant]) -> Access | None:
    grants = list(grants)
    if not grants:
        return None
    scope = max((g.scope for g in grants), key=SCOPES.index)
    hidden: set[str] | None = None
    restricted: set[str] | None = None
    for grant in grants:
        rules = grant.fields or {}
        g_hidden = {k for k, v in rules.items() if v == "hidden"}
        g_restricted = {k for k, v in rules.items() if v in ("hidden", "readonly")}
        hidden = g_hidden if hidden is None else hidden & g_hidden
        restricted = g_restricted if restricted is None else restricted & g_restricted
    hidden = hidden or set()
    return Access(
        scope=scope,
        hidden=frozenset(hidden),
        readonly=frozenset((restricted or set()) - hidden),
        grants=tuple(g.id for g in grants),
    )


def access_for(session: Session, principal: Principal, kind: str, key: str, action: str) -> Access | None:
    if principal.is_admin:
        return FULL_ACCESS
    if not principal.role_ids:
        return None
    grants = session.execute(
        select(Grant).where(
            Grant.role_id.in_(principal.role_ids),
            Grant.resource_kind == kind,
            Grant.resource_key.in_((key, "*")),
            Grant.action == action,
        )
    ).scalars()
    return merge_grants(grants)


def authorize(session: Session, principal: Principal, kind: str, key: str, action: str) -> Access:
    access = access_for(session, principal, kind, key, action)
    if access is None:
        raise Forbidden("auth.no_grant", action=action, kind=kind, key=key)
    return access


def scope_clause(session: Session, principal: Principal, scope: str, owner_col: ColumnElement,
                 department_col: ColumnElement) -> ColumnElement[bool]:
    """The WHERE clause that limits rows to the scope; `true()` for "all"."""
    if scope == "all":
        return true()
    if scope == "own":
        return owner_col == principal.user_id
    if principal.department_id is None:
        # No department: only their own rows, never everyone's.
        return owner_col == principal.user_id
    if scope == "department":
        return or_(department_col == principal.department_id, owner_col == principal.user_id)
    if scope == "subtree":
        path = session.execute(
            select(Department.path).where(Department.id == principal.department_id)
        ).scalar_one_or_none()
        if path is None:
            return false()
        below = select(Department.id).where(Department.path.startswith(path, autoescape=True))
        return or_(department_col.in_(below), owner_col == principal.user_id)
    raise ValueError(f"unknown scope {scope!r}")
