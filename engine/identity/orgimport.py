"""Import an org chart (a plant has hundreds of people) from xlsx or CSV.

One row per person. Departments are given as paths ("总厂/一车间/焊接班") and created as needed;
managers are usernames and may point to rows further down; roles are keys or names. Every row
is checked first and all problems are reported with row and column; nothing is written unless
the whole file is good. Re-importing updates people instead of failing on them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.identity import org
from engine.store.audit import Actor
from engine.store.models import Department, Role, User

# Accepted headers per column, zh-CN and en, compared case-insensitively.
COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("username", "用户名", "账号", "login"),
    "name": ("name", "姓名"),
    "employee_no": ("employee_no", "工号", "employee no", "employee number"),
    "department": ("department", "部门"),
    "manager": ("manager", "直属上级", "上级"),
    "roles": ("roles", "角色"),
    "email": ("email", "邮箱"),
    "phone": ("phone", "手机", "电话"),
    "head": ("head", "部门负责人", "department head"),
}
TRUE_WORDS = {"1", "y", "yes", "true", "是", "√", "x"}
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    departments_created: int = 0
    problems: list[Problem] = field(default_factory=list)


def read_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        workbook.close()
    else:
        text = path.read_bytes().decode("utf-8-sig")
        rows = [list(r) for r in csv.reader(io.StringIO(text))]
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        return [], []
    return [str(c or "").strip() for c in rows[0]], rows[1:]


def _map_headers(headers: list[str], file: str) -> tuple[dict[str, int], list[Problem]]:
    index: dict[str, int] = {}
    for i, header in enumerate(headers):
        for key, names in COLUMNS.items():
            if header.lower() in names:
                index[key] = i
    problems = [
        Problem("orgimport.missing_column", {"column": key}, file=file, line=1)
        for key in ("username", "name") if key not in index
    ]
    return index, problems


def _cell(row: list[Any], index: dict[str, int], key: str) -> str:
    i = index.get(key)
    if i is None or i >= len(row) or row[i] is None:
        return ""
    value = row[i]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _split(value: str) -> list[str]:
    for sep in ("，", "、", ";", "；", "|"):
        value = value.replace(sep, ",")
    return [v.strip() for v in value.split(",") if v.strip()]


def import_org(session: Session, actor: Actor, path: Path, *, progress: Progress | None = None) -> ImportReport:
    headers, rows = read_rows(path)
    file = path.name
    index, problems = _map_headers(headers, file)
    if problems:
        raise InvalidInput("orgimport.failed", problems=problems)
    roles = _role_lookup(session)
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        problems.extend(_check_row(row, index, number, file, roles, seen))
    usernames_in_file = set(seen)
    existing = set(session.execute(select(User.username)).scalars())
    for number, row in enumerate(rows, start=2):
        manager = _cell(row, index, "manager")
        if manager and manager not in usernames_in_file and manager not in existing:
            problems.append(Problem("orgimport.unknown_manager", {"username": manager}, file=file, line=number,
                                    path=headers[index["manager"]]))
    if problems:
        raise InvalidInput("orgimport.failed", problems=problems)
    return _apply(session, actor, rows, index, roles, progress)


def _role_lookup(session: Session) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for role in session.execute(select(Role)).scalars():
        lookup[role.key.lower()] = role.key
        for label in (role.name or {}).values():
            lookup[str(label).lower()] = role.key
    return lookup


def _check_row(row: list[Any], index: dict[str, int], number: int, file: str, roles: dict[str, str],
               seen: dict[str, int]) -> Iterator[Problem]:
    username = _cell(row, index, "username")
    if not username:
        yield Problem("orgimport.required", {"column": "username"}, file=file, line=number, path="username")
    elif username in seen:
        yield Problem("orgimport.duplicate", {"username": username, "first": seen[username]}, file=file,
                      line=number, path="username")
    else:
        seen[username] = number
    if not _cell(row, index, "name"):
        yield Problem("orgimport.required", {"column": "name"}, file=file, line=number, path="name")
    for role in _split(_cell(row, index, "roles")):
        if role.lower() not in roles:
            yield Problem("orgimport.unknown_role", {"role": role}, file=file, line=number, path="roles")
    email = _cell(row, index, "email")
    if email and "@" not in email:
        yield Problem("orgimport.bad_email", {"value": email}, file=file, line=number, path="email")


def _department_for(session: Session, actor: Actor, path: str, report: ImportReport,
                    cache: dict[str, int]) -> int | None:
    parts = [p.strip() for p in path.replace("\\", "/").split("/") if p.strip()]
    if not parts:
        return None
    parent: int | None = None
    walked = ""
    for part in parts:
        walked = f"{walked}/{part}"
        if walked in cache:
            parent = cache[walked]
            continue
        found = session.execute(
            select(Department.id).where(Department.name == part,
                                        Department.parent_id.is_(None) if parent is None
                                        else Department.parent_id == parent)
        ).scalar_one_or_none()
        if found is None:
            code = f"D{session.execute(select(Department.id).order_by(Department.id.desc())).scalar() or 0:04d}"
            while session.execute(select(Department.id).where(Department.code == code)).first():
                code += "x"
            found = org.create_department(session, actor, code=code, name=part, parent_id=parent).id
            report.departments_created += 1
        cache[walked] = parent = found
    return parent


def _apply(session: Session, actor: Actor, rows: list[list[Any]], index: dict[str, int], roles: dict[str, str],
           progress: Progress | None) -> ImportReport:
    report = ImportReport()
    cache: dict[str, int] = {}
    ids: dict[str, int] = {}
    total = len(rows) * 2
    for done, row in enumerate(rows, start=1):
        username = _cell(row, index, "username")
        fields: dict[str, Any] = {
            "name": _cell(row, index, "name"),
            "department_id": _department_for(session, actor, _cell(row, index, "department"), report, cache),
        }
        for key in ("employee_no", "email", "phone"):
            if _cell(row, index, key):
                fields[key] = _cell(row, index, key)
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            user = org.create_user(session, actor, username=username, **fields)
            report.created += 1
        else:
            user = org.update_user(session, actor, user.id, **fields)
            report.updated += 1
        ids[username] = user.id
        for role in _split(_cell(row, index, "roles")):
            org.assign_role(session, actor, user.id, roles[role.lower()])
        if progress:
            progress(done, total)
    for done, row in enumerate(rows, start=len(rows) + 1):
        username = _cell(row, index, "username")
        manager = _cell(row, index, "manager")
        if manager:
            manager_id = ids.get(manager) or session.execute(
                select(User.id).where(User.username == manager)).scalar_one()
            org.update_user(session, actor, ids[username], manager_id=manager_id)
        if _cell(row, index, "head").lower() in TRUE_WORDS:
            user = session.get(User, ids[username])
            if user is not None and user.department_id is not None:
                org.update_department(session, actor, user.department_id, head_id=user.id)
        if progress:
            progress(done, total)
    return report


i18n.register_messages(
    {
        "orgimport.failed": {"zh-CN": "组织架构导入失败，共 {count} 处问题，未做任何更改",
                             "en": "Org import failed with {count} problem(s); nothing was changed"},
        "orgimport.missing_column": {"zh-CN": "缺少列：{column}", "en": "Missing column: {column}"},
        "orgimport.required": {"zh-CN": "{column} 必填", "en": "{column} is required"},
        "orgimport.duplicate": {"zh-CN": "用户名 {username} 与第 {first} 行重复",
                                "en": "Username {username} repeats row {first}"},
        "orgimport.unknown_role": {"zh-CN": "未知角色：{role}", "en": "Unknown role: {role}"},
        "orgimport.unknown_manager": {"zh-CN": "上级 {username} 不存在", "en": "Manager {username} does not exist"},
        "orgimport.bad_email": {"zh-CN": "邮箱格式不正确：{value}", "en": "Not an email address: {value}"},
    }
)
