"""Request-scoped dependencies: the site, a unit-of-work session, the caller, their locale, and
the one permission check every route uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import Unauthorized
from engine.identity.auth import principal_from_api_key, principal_from_token
from engine.runtime.site import Site
from engine.store.access import Access, Principal, authorize

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An integrator's API key")


def get_site(request: Request) -> Site:
    return request.app.state.site


SiteDep = Annotated[Site, Depends(get_site)]


def get_session(site: SiteDep) -> Iterator[Session]:
    """One transaction per request, committed when the handler returns (before the response is
    sent, so a failed commit is an error the client sees) and rolled back on any error."""
    with site.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_locale(request: Request) -> str:
    explicit = request.query_params.get("lang")
    if explicit:
        return i18n.normalize_locale(explicit)
    header = request.headers.get("accept-language")
    if header:
        return i18n.normalize_locale(header)
    site: Site = request.app.state.site
    return site.settings.locale


LocaleDep = Annotated[str, Depends(get_locale)]


def get_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    site: Site = request.app.state.site
    if api_key:
        principal = principal_from_api_key(session, api_key)
    elif token:
        principal = principal_from_token(session, token, secret=site.settings.effective_secret_key())
    else:
        raise Unauthorized()
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(kind: str, action: str, key: str | None = None, *, key_param: str | None = None) -> Callable[..., Access]:
    """A dependency granting `action` on a resource: a fixed key, or the path parameter
    `key_param` (e.g. the form in /records/{form}). Raises 403 with the reason otherwise."""

    def dependency(request: Request, session: SessionDep, principal: PrincipalDep) -> Access:
        resource = key if key is not None else request.path_params.get(key_param or "key", "*")
        return authorize(session, principal, kind, resource, action)

    return dependency


def check_org_admin(session: Session, principal: Principal) -> None:
    """Organisation admin: a site admin, or a role granted system/org/update."""
    authorize(session, principal, "system", "org", "update")


def require_admin(principal: PrincipalDep, session: SessionDep) -> Principal:
    check_org_admin(session, principal)
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
