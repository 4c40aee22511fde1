"""Users, departments, roles, grants, substitutes, API keys and the org-chart import."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, UploadFile
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select

from engine import i18n
from engine.api.deps import AdminDep, PrincipalDep, SessionDep, SiteDep, check_org_admin
from engine.api.errors import ERRORS
from engine.directory import Delegation as DirectoryDelegation
from engine.errors import Forbidden, InvalidInput, Problem
from engine.identity import auth, org
from engine.identity.orgimport import import_org
from engine.runtime.flows import schedule_hand_over
from engine.store.models import ApiKey, Delegation, Department, Grant, Role, User

router = APIRouter(prefix="/api/v1", responses=ERRORS)
Label = dict[str, str]


# --- users ---------------------------------------------------------------------------------

class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@\-]+$")
    name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=8)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=32)
    employee_no: str | None = None
    department_id: int | None = None
    manager_id: int | None = None
    is_admin: bool = False
    locale: Literal["zh-CN", "en"] | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = None
    employee_no: str | None = None
    department_id: int | None = None
    manager_id: int | None = None
    active: bool | None = None
    is_admin: bool | None = None
    locale: Literal["zh-CN", "en"] | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    name: str
    email: str | None
    phone: str | None
    employee_no: str | None
    department_id: int | None
    manager_id: int | None
    active: bool
    is_admin: bool
    locale: str | None


@router.get("/users", response_model=list[UserOut], tags=["org"], summary="List or search people")
def list_users(session: SessionDep, _: PrincipalDep, q: str | None = None, department_id: int | None = None,
               limit: int = 200, offset: int = 0) -> list[User]:
    query = select(User).order_by(User.id).limit(min(limit, 1000)).offset(offset)
    if q:
        query = query.where(User.username.ilike(f"%{q}%") | User.name.ilike(f"%{q}%"))
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return list(session.execute(query).scalars())


@router.post("/users", response_model=UserOut, status_code=201, tags=["org"], summary="Create a user")
def create_user(body: UserIn, session: SessionDep, admin: AdminDep) -> User:
    return org.create_user(session, admin.actor, **body.model_dump())


@router.get("/users/{user_id}", response_model=UserOut, tags=["org"], summary="One user")
def get_user(user_id: int, session: SessionDep, _: PrincipalDep) -> User:
    return org.get_user(session, user_id)


@router.patch("/users/{user_id}", response_model=UserOut, tags=["org"], summary="Change a user")
def update_user(user_id: int, body: UserPatch, session: SessionDep, admin: AdminDep) -> User:
    return org.update_user(session, admin.actor, user_id, **body.model_dump(exclude_unset=True))


class PasswordIn(BaseModel):
    password: str = Field(min_length=8)
    current_password: str | None = None


@router.post("/users/{user_id}/password", status_code=204, tags=["org"], summary="Set a password")
def set_password(user_id: int, body: PasswordIn, session: SessionDep, principal: PrincipalDep) -> None:
    if user_id != principal.user_id:
        check_org_admin(session, principal)
    org.set_password(session, principal.actor, user_id, body.password)


class RoleAssignment(BaseModel):
    role: str
    department_id: int | None = None


@router.get("/users/{user_id}/roles", response_model=list[RoleAssignment], tags=["org"])
def user_roles(user_id: int, session: SessionDep, _: PrincipalDep) -> list[dict[str, Any]]:
    org.get_user(session, user_id)
    return org.roles_of(session, user_id)


@router.post("/users/{user_id}/roles", response_model=list[RoleAssignment], tags=["org"], summary="Give a role")
def assign_role(user_id: int, body: RoleAssignment, session: SessionDep, admin: AdminDep) -> list[dict[str, Any]]:
    org.assign_role(session, admin.actor, user_id, body.role, body.department_id)
    return org.roles_of(session, user_id)


@router.delete("/users/{user_id}/roles/{role}", status_code=204, tags=["org"], summary="Take a role away")
def revoke_role(user_id: int, role: str, session: SessionDep, admin: AdminDep) -> None:
    org.revoke_role(session, admin.actor, user_id, role)


# --- departments -----------------------------------------------------------------------------

class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    parent_id: int | None = None
    head_id: int | None = None
    sort: int = 0


class DepartmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = None
    name: str | None = None
    parent_id: int | None = None
    head_id: int | None = None
    sort: int | None = None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    parent_id: int | None
    head_id: int | None
    path: str
    sort: int


@router.get("/departments", response_model=list[DepartmentOut], tags=["org"], summary="The department tree")
def list_departments(session: SessionDep, _: PrincipalDep) -> list[Department]:
    return list(session.execute(select(Department).order_by(Department.path, Department.sort)).scalars())


@router.post("/departments", response_model=DepartmentOut, status_code=201, tags=["org"])
def create_department(body: DepartmentIn, session: SessionDep, admin: AdminDep) -> Department:
    return org.create_department(session, admin.actor, **body.model_dump())


@router.patch("/departments/{department_id}", response_model=DepartmentOut, tags=["org"])
def update_department(department_id: int, body: DepartmentPatch, session: SessionDep, admin: AdminDep) -> Department:
    return org.update_department(session, admin.actor, department_id, **body.model_dump(exclude_unset=True))


@router.delete("/departments/{department_id}", status_code=204, tags=["org"])
def delete_department(department_id: int, session: SessionDep, admin: AdminDep) -> None:
    org.delete_department(session, admin.actor, department_id)


# --- roles and grants ------------------------------------------------------------------------

class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    name: Label
    description: Label | None = None


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    key: str
    name: Label
    description: Label | None
    builtin: bool


@router.get("/roles", response_model=list[RoleOut], tags=["org"])
def list_roles(session: SessionDep, _: PrincipalDep) -> list[Role]:
    return list(session.execute(select(Role).order_by(Role.key)).scalars())


@router.post("/roles", response_model=RoleOut, status_code=201, tags=["org"])
def create_role(body: RoleIn, session: SessionDep, admin: AdminDep) -> Role:
    return org.create_role(session, admin.actor, key=body.key, name=body.name, description=body.description)


@router.delete("/roles/{key}", status_code=204, tags=["org"])
def delete_role(key: str, session: SessionDep, admin: AdminDep) -> None:
    org.delete_role(session, admin.actor, key)


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource_kind: str
    resource_key: str
    action: str
    scope: str = "all"
    fields: dict[str, str] | None = None


class GrantOut(GrantIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


@router.get("/roles/{key}/grants", response_model=list[GrantOut], tags=["org"], summary="What a role may do")
def list_grants(key: str, session: SessionDep, _: AdminDep) -> list[Grant]:
    role = org.get_role(session, key)
    return list(session.execute(select(Grant).where(Grant.role_id == role.id).order_by(Grant.id)).scalars())


@router.post("/roles/{key}/grants", response_model=GrantOut, tags=["org"], summary="Grant an action")
def add_grant(key: str, body: GrantIn, session: SessionDep, admin: AdminDep) -> Grant:
    return org.grant(session, admin.actor, key, kind=body.resource_kind, key=body.resource_key, action=body.action,
                     scope=body.scope, fields=body.fields)


@router.delete("/grants/{grant_id}", status_code=204, tags=["org"])
def delete_grant(grant_id: int, session: SessionDep, admin: AdminDep) -> None:
    org.revoke_grant(session, admin.actor, grant_id)


# --- substitutes -----------------------------------------------------------------------------

class DelegationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int
    substitute_id: int
    starts_at: datetime
    ends_at: datetime
    flows: list[str] | None = None
    note: str | None = None


class DelegationOut(DelegationIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


@router.post("/delegations", response_model=DelegationOut, status_code=201, tags=["org"],
             summary="Out of office: hand approvals to a substitute for a period")
def add_delegation(body: DelegationIn, session: SessionDep, principal: PrincipalDep, site: SiteDep) -> Delegation:
    if body.user_id != principal.user_id:
        check_org_admin(session, principal)
    problems = [Problem("request.naive_datetime", path=name) for name in ("starts_at", "ends_at")
                if getattr(body, name).tzinfo is None]
    if problems:
        raise InvalidInput(problems=problems)
    row = org.add_delegation(session, principal.actor, **body.model_dump())
    # Open approvals move to the substitute when the absence starts (a durable timer).
    schedule_hand_over(session, site, DirectoryDelegation(row.user_id, row.substitute_id, row.starts_at,
                                                          row.ends_at, tuple(row.flows or ())))
    return row


@router.get("/delegations", response_model=list[DelegationOut], tags=["org"])
def list_delegations(session: SessionDep, principal: PrincipalDep, user_id: int | None = None) -> list[Delegation]:
    query = select(Delegation).order_by(Delegation.starts_at)
    if user_id is not None:
        query = query.where(Delegation.user_id == user_id)
    return list(session.execute(query).scalars())


# --- API keys --------------------------------------------------------------------------------

class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    user_id: int | None = None
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="Shown once; only a hash is kept")


@router.get("/api-keys", response_model=list[ApiKeyOut], tags=["auth"], summary="My API keys (all, for admins)")
def list_api_keys(session: SessionDep, principal: PrincipalDep) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not principal.is_admin:
        query = query.where(ApiKey.user_id == principal.user_id)
    return list(session.execute(query).scalars())


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, tags=["auth"], summary="Create an API key")
def create_api_key(body: ApiKeyIn, session: SessionDep, principal: PrincipalDep) -> ApiKeyCreated:
    user_id = body.user_id or principal.user_id
    if user_id != principal.user_id:
        check_org_admin(session, principal)
    row, key = auth.create_api_key(session, principal.actor, user_id, body.name, body.expires_at)
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key)


@router.delete("/api-keys/{key_id}", status_code=204, tags=["auth"], summary="Revoke an API key")
def revoke_api_key(key_id: int, session: SessionDep, principal: PrincipalDep) -> None:
    row = session.get(ApiKey, key_id)
    if row is not None and row.user_id != principal.user_id and not principal.is_admin:
        raise Forbidden()
    auth.revoke_api_key(session, principal.actor, key_id)


# --- org chart import ------------------------------------------------------------------------

class ImportResult(BaseModel):
    created: int
    updated: int
    departments_created: int


@router.post("/org/import", response_model=ImportResult, tags=["org"],
             summary="Import people and departments from xlsx or CSV (all or nothing)")
def import_org_chart(file: UploadFile, session: SessionDep, admin: AdminDep) -> ImportResult:
    suffix = Path(file.filename or "org.csv").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InvalidInput(problems=[Problem("orgimport.bad_type", {"suffix": suffix}, path="file")])
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(file.file.read())
        tmp.flush()
        report = import_org(session, admin.actor, Path(tmp.name))
    return ImportResult(created=report.created, updated=report.updated,
                        departments_created=report.departments_created)


i18n.register_messages(
    {
        "request.naive_datetime": {
            "zh-CN": "时间必须带时区（例如 2026-11-22T08:00:00+08:00）",
            "en": "Give the time with its offset (e.g. 2026-11-22T08:00:00+08:00)",
        },
        "orgimport.bad_type": {
            "zh-CN": "只支持 .xlsx 或 .csv 文件，收到 {suffix}",
            "en": "Only .xlsx or .csv, got {suffix}",
        },
    }
)
