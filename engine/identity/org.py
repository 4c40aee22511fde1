"""Users, departments, roles, memberships and grants: the admin's writes, each audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import Conflict, InvalidInput, NotFound, Problem
from engine.identity.secrets import hash_password
from engine.store import audit
from engine.store.access import ACTIONS, RESOURCE_KINDS, SCOPES
from engine.store.audit import Actor
from engine.store.models import Delegation, Department, Grant, Membership, Role, User

USER_FIELDS = ("name", "email", "phone", "department_id", "manager_id", "employee_no", "active", "is_admin", "locale")


def _snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}


# --- departments -------------------------------------------------------------------------------

def get_department(session: Session, department_id: int) -> Department:
    dept = session.get(Department, department_id)
    if dept is None:
        raise NotFound(what=f"department {department_id}")
    return dept


def create_department(session: Session, actor: Actor, *, code: str, name: str, parent_id: int | None = None,
                      head_id: int | None = None, sort: int = 0) -> Department:
    if session.execute(select(Department.id).where(Department.code == code)).first():
        raise Conflict("org.department_exists", code=code)
    parent = get_department(session, parent_id) if parent_id is not None else None
    if head_id is not None:
        get_user(session, head_id)
    dept = Department(code=code, name=name, parent_id=parent_id, head_id=head_id, sort=sort, path="/")
    session.add(dept)
    session.flush()
    dept.path = f"{parent.path if parent else '/'}{dept.id}/"
    audit.append(session, actor, "department.create", "department", dept.id,
                 {"after": _snapshot(dept, ("code", "name", "parent_id", "head_id"))})
    return dept


def update_department(session: Session, actor: Actor, department_id: int, **changes: Any) -> Department:
    dept = get_department(session, department_id)
    before = _snapshot(dept, ("code", "name", "parent_id", "head_id", "sort"))
    if "parent_id" in changes and changes["parent_id"] != dept.parent_id:
        _move_department(session, dept, changes.pop("parent_id"))
    if changes.get("head_id") is not None:
        get_user(session, changes["head_id"])
    for key in ("code", "name", "head_id", "sort"):
        if key in changes:
            setattr(dept, key, changes[key])
    session.flush()
    audit.append(session, actor, "department.update", "department", dept.id,
                 _changes(before, _snapshot(dept, before.keys())))
    return dept


def _move_department(session: Session, dept: Department, new_parent_id: int | None) -> None:
    if new_parent_id is not None:
        parent = get_department(session, new_parent_id)
        if parent.path.startswith(dept.path):
            raise InvalidInput("org.department_cycle", problems=[Problem("org.department_cycle", {"id": dept.id},
                                                                         path="parent_id")])
        new_path = f"{parent.path}{dept.id}/"
    else:
        new_path = f"/{dept.id}/"
    old_path = dept.path
    subtree = select(Department).where(Department.path.startswith(old_path, autoescape=True))
    for sub in session.execute(subtree).scalars():
        sub.path = new_path + sub.path[len(old_path):]
    dept.parent_id = new_parent_id


def delete_department(session: Session, actor: Actor, department_id: int) -> None:
    dept = get_department(session, department_id)
    children = session.execute(select(func.count()).where(Department.parent_id == dept.id)).scalar_one()
    members = session.execute(select(func.count()).where(User.department_id == dept.id)).scalar_one()
    if children or members:
        raise Conflict("org.department_in_use", children=children, members=members)
    audit.append(session, actor, "department.delete", "department", dept.id,
                 {"before": _snapshot(dept, ("code", "name", "parent_id"))})
    session.delete(dept)


# --- users -------------------------------------------------------------------------------------

def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(what=f"user {user_id}")
    return user


def create_user(session: Session, actor: Actor, *, username: str, name: str | None = None,
                password: str | None = None, **fields: Any) -> User:
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict("org.user_exists", username=username)
    _check_refs(session, fields)
    user = User(username=username, name=name or username,
                password_hash=hash_password(password) if password else None)
    for key, value in fields.items():
        if key in USER_FIELDS:
            setattr(user, key, value)
    session.add(user)
    session.flush()
    audit.append(session, actor, "user.create", "user", user.id,
                 {"after": {"username": username, **_snapshot(user, USER_FIELDS)}})
    return user


def update_user(session: Session, actor: Actor, user_id: int, **changes: Any) -> User:
    user = get_user(session, user_id)
    _check_refs(session, changes)
    if changes.get("manager_id") == user_id:
        raise InvalidInput(problems=[Problem("org.self_manager", path="manager_id")])
    before = _snapshot(user, USER_FIELDS)
    for key, value in changes.items():
        if key in USER_FIELDS:
            setattr(user, key, value)
    if "active" in changes and not changes["active"]:
        user.token_version += 1
    session.flush()
    audit.append(session, actor, "user.update", "user", user.id, _changes(before, _snapshot(user, USER_FIELDS)))
    return user


def set_password(session: Session, actor: Actor, user_id: int, password: str, *, hashed: str | None = None) -> None:
    """`hashed`: `hash_password(password)`, computed once by a caller giving many users the same
    password (a demo's sample people: argon2 spends 0.1-0.4 s on a hash, by design)."""
    user = get_user(session, user_id)
    if len(password) < 8:
        raise InvalidInput(problems=[Problem("org.password_short", {"min": 8}, path="password")])
    user.password_hash = hashed if hashed is not None else hash_password(password)
    user.token_version += 1
    audit.append(session, actor, "user.password", "user", user.id, {})


def _check_refs(session: Session, fields: Mapping[str, Any]) -> None:
    problems = []
    if fields.get("department_id") is not None and session.get(Department, fields["department_id"]) is None:
        problems.append(Problem("org.unknown_department", {"id": fields["department_id"]}, path="department_id"))
    if fields.get("manager_id") is not None and session.get(User, fields["manager_id"]) is None:
        problems.append(Problem("org.unknown_user", {"id": fields["manager_id"]}, path="manager_id"))
    if problems:
        raise InvalidInput(problems=problems)


# --- roles, memberships, grants ----------------------------------------------------------------

def get_role(session: Session, key: str) -> Role:
    role = session.execute(select(Role).where(Role.key == key)).scalar_one_or_none()
    if role is None:
        raise NotFound(what=f"role {key}")
    return role


def create_role(session: Session, actor: Actor, *, key: str, name: Mapping[str, str],
                description: Mapping[str, str] | None = None, builtin: bool = False) -> Role:
    if session.execute(select(Role.id).where(Role.key == key)).first():
        raise Conflict("org.role_exists", key=key)
    role = Role(key=key, name=dict(name), description=dict(description) if description else None, builtin=builtin)
    session.add(role)
    session.flush()
    audit.append(session, actor, "role.create", "role", key, {"after": {"name": role.name}})
    return role


def ensure_role(session: Session, actor: Actor, key: str, name: Mapping[str, str]) -> Role:
    role = session.execute(select(Role).where(Role.key == key)).scalar_one_or_none()
    return role or create_role(session, actor, key=key, name=name)


def delete_role(session: Session, actor: Actor, key: str) -> None:
    role = get_role(session, key)
    audit.append(session, actor, "role.delete", "role", key, {"before": {"name": role.name}})
    session.delete(role)


def assign_role(session: Session, actor: Actor, user_id: int, role_key: str,
                department_id: int | None = None) -> Membership:
    role = get_role(session, role_key)
    get_user(session, user_id)
    if department_id is not None:
        get_department(session, department_id)
    existing = session.execute(
        select(Membership).where(Membership.user_id == user_id, Membership.role_id == role.id,
                                 Membership.department_id.is_(department_id) if department_id is None
                                 else Membership.department_id == department_id)
    ).scalar_one_or_none()
    if existing:
        return existing
    membership = Membership(user_id=user_id, role_id=role.id, department_id=department_id)
    session.add(membership)
    session.flush()
    audit.append(session, actor, "role.assign", "user", user_id, {"after": {"role": role_key,
                                                                             "department_id": department_id}})
    return membership


def revoke_role(session: Session, actor: Actor, user_id: int, role_key: str) -> None:
    role = get_role(session, role_key)
    session.execute(delete(Membership).where(Membership.user_id == user_id, Membership.role_id == role.id))
    audit.append(session, actor, "role.revoke", "user", user_id, {"before": {"role": role_key}})


def roles_of(session: Session, user_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Role.key, Membership.department_id).join(Membership, Membership.role_id == Role.id)
        .where(Membership.user_id == user_id).order_by(Role.key)
    ).all()
    return [{"role": r.key, "department_id": r.department_id} for r in rows]


def validate_grant(kind: str, key: str, action: str, scope: str, fields: Mapping[str, str] | None) -> list[Problem]:
    problems = []
    if kind not in RESOURCE_KINDS:
        problems.append(Problem("org.bad_choice", {"value": kind, "choices": ", ".join(RESOURCE_KINDS)},
                                path="resource_kind"))
    if action not in ACTIONS:
        problems.append(Problem("org.bad_choice", {"value": action, "choices": ", ".join(ACTIONS)}, path="action"))
    if scope not in SCOPES:
        problems.append(Problem("org.bad_choice", {"value": scope, "choices": ", ".join(SCOPES)}, path="scope"))
    if not key:
        problems.append(Problem("org.required", path="resource_key"))
    for field_key, rule in (fields or {}).items():
        if rule not in ("hidden", "readonly"):
            problems.append(Problem("org.bad_choice", {"value": rule, "choices": "hidden, readonly"},
                                    path=f"fields.{field_key}"))
    return problems


def grant(session: Session, actor: Actor, role_key: str, *, kind: str, key: str, action: str,
          scope: str = "all", fields: Mapping[str, str] | None = None) -> Grant:
    problems = validate_grant(kind, key, action, scope, fields)
    if problems:
        raise InvalidInput(problems=problems)
    role = get_role(session, role_key)
    row = session.execute(
        select(Grant).where(Grant.role_id == role.id, Grant.resource_kind == kind, Grant.resource_key == key,
                            Grant.action == action)
    ).scalar_one_or_none()
    if row is None:
        row = Grant(role_id=role.id, resource_kind=kind, resource_key=key, action=action)
        session.add(row)
    row.scope = scope
    row.fields = dict(fields) if fields else None
    session.flush()
    audit.append(session, actor, "grant.set", "role", role_key,
                 {"after": {"kind": kind, "key": key, "action": action, "scope": scope, "fields": row.fields}})
    return row


def revoke_grant(session: Session, actor: Actor, grant_id: int) -> None:
    row = session.get(Grant, grant_id)
    if row is None:
        raise NotFound(what=f"grant {grant_id}")
    audit.append(session, actor, "grant.revoke", "grant", grant_id,
                 {"before": {"kind": row.resource_kind, "key": row.resource_key, "action": row.action}})
    session.delete(row)


def add_delegation(session: Session, actor: Actor, *, user_id: int, substitute_id: int, starts_at: datetime,
                   ends_at: datetime, flows: list[str] | None = None, note: str | None = None) -> Delegation:
    get_user(session, user_id)
    get_user(session, substitute_id)
    problems = []
    if user_id == substitute_id:
        problems.append(Problem("org.self_substitute", path="substitute_id"))
    if ends_at <= starts_at:
        problems.append(Problem("org.bad_range", path="ends_at"))
    if problems:
        raise InvalidInput(problems=problems)
    row = Delegation(user_id=user_id, substitute_id=substitute_id, starts_at=starts_at, ends_at=ends_at,
                     flows=flows or None, note=note)
    session.add(row)
    session.flush()
    audit.append(session, actor, "delegation.create", "user", user_id,
                 {"after": {"substitute_id": substitute_id, "from": starts_at.isoformat(), "to": ends_at.isoformat()}})
    return row


i18n.register_messages(
    {
        "org.department_exists": {"zh-CN": "部门编码 {code} 已存在", "en": "Department code {code} already exists"},
        "org.department_cycle": {"zh-CN": "不能把部门移到它自己的下级", "en": "A department cannot move under itself"},
        "org.department_in_use": {
            "zh-CN": "部门仍有 {children} 个下级部门和 {members} 名成员，不能删除",
            "en": "The department still has {children} sub-departments and {members} members",
        },
        "org.user_exists": {"zh-CN": "用户名 {username} 已存在", "en": "Username {username} already exists"},
        "org.self_manager": {"zh-CN": "不能把自己设为上级", "en": "A user cannot be their own manager"},
        "org.self_substitute": {"zh-CN": "不能由自己代理自己", "en": "A user cannot substitute for themselves"},
        "org.bad_range": {"zh-CN": "结束时间必须晚于开始时间", "en": "The end must be after the start"},
        "org.password_short": {"zh-CN": "密码至少 {min} 位", "en": "The password needs at least {min} characters"},
        "org.unknown_department": {"zh-CN": "部门 {id} 不存在", "en": "Department {id} does not exist"},
        "org.unknown_user": {"zh-CN": "用户 {id} 不存在", "en": "User {id} does not exist"},
        "org.role_exists": {"zh-CN": "角色 {key} 已存在", "en": "Role {key} already exists"},
        "org.bad_choice": {
            "zh-CN": "“{value}”无效，可选：{choices}",
            "en": "\"{value}\" is not valid; expected one of: {choices}",
        },
        "org.required": {"zh-CN": "必填", "en": "Required"},
    }
)
