"""Small builders tests share: people with roles and departments, tokens, auth headers."""

from __future__ import annotations

from typing import Any

from engine.identity import org
from engine.runtime.site import Site
from engine.store.audit import Actor

SETUP = Actor.system("test")
PASSWORD = "correct horse battery"


def make_department(site: Site, code: str, name: str | None = None, parent: int | None = None) -> int:
    with site.session() as session:
        return org.create_department(session, SETUP, code=code, name=name or code, parent_id=parent).id


def make_user(site: Site, username: str, *, roles: tuple[str, ...] = (), department: int | None = None,
              admin: bool = False, **fields: Any) -> int:
    with site.session() as session:
        user = org.create_user(session, SETUP, username=username, name=fields.pop("name", username),
                               password=PASSWORD, department_id=department, is_admin=admin, **fields)
        for role in roles:
            org.ensure_role(session, SETUP, role, {"zh": role, "en": role})
            org.assign_role(session, SETUP, user.id, role)
        return user.id


def grant(site: Site, role: str, kind: str, key: str, action: str, scope: str = "all",
          fields: dict[str, str] | None = None) -> None:
    with site.session() as session:
        org.ensure_role(session, SETUP, role, {"zh": role, "en": role})
        org.grant(session, SETUP, role, kind=kind, key=key, action=action, scope=scope, fields=fields)


def token(client: Any, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def auth(client: Any, username: str, locale: str = "en") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, username)}", "Accept-Language": locale}
