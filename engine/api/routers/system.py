"""Health, version and login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

import engine
from engine.api.deps import PrincipalDep, SessionDep, SiteDep
from engine.api.errors import ERRORS
from engine.errors import Unauthorized
from engine.identity import auth
from engine.identity.org import roles_of
from engine.store import migrate

router = APIRouter()


class Health(BaseModel):
    status: str
    version: str
    database: str
    dialect: str
    schema_current: bool


@router.get("/health", response_model=Health, summary="Liveness and database status", tags=["system"])
def health(site: SiteDep) -> Health:
    ok = site.db.ping()
    current = ok and migrate.is_current(site.db.engine)
    return Health(status="ok" if ok else "degraded", version=engine.__version__,
                  database="ok" if ok else "unreachable", dialect=site.db.dialect, schema_current=current)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/api/v1/auth/token", response_model=Token, responses=ERRORS, tags=["auth"],
             summary="Log in with username and password (OAuth2 password flow)")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], site: SiteDep) -> Token:
    # Own units of work rather than the request session: a failed attempt must still be audited
    # after the login's transaction rolls back (and SQLite allows one writer at a time).
    try:
        with site.session() as session:
            issued = auth.login(session, form.username, form.password,
                                secret=site.settings.effective_secret_key(), minutes=site.settings.token_minutes)
    except Unauthorized:
        with site.session() as audit_session:
            auth.record_failed_login(audit_session, form.username)
        raise
    return Token(access_token=issued.access_token, expires_in=issued.expires_in)


class Me(BaseModel):
    id: int
    username: str
    name: str
    department_id: int | None
    is_admin: bool
    roles: list[dict]
    locale: str | None


@router.get("/api/v1/me", response_model=Me, responses=ERRORS, tags=["auth"], summary="Who am I")
def me(principal: PrincipalDep, session: SessionDep) -> Me:
    return Me(id=principal.user_id, username=principal.username, name=principal.name,
              department_id=principal.department_id, is_admin=principal.is_admin,
              roles=roles_of(session, principal.user_id), locale=principal.locale)
