"""Names ↔ ids for Excel: people by username (or unique display name), departments by code (or
unique name). Loaded once per import/export, so 100,000 rows cost two queries, not 200,000."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.forms.fieldtypes import ValueContext
from engine.store.models import Department, User


class _Index:
    def __init__(self, rows: list[tuple[int, str, str]]) -> None:
        self.by_id = {i: primary for i, primary, _ in rows}
        self.by_name: dict[str, int | None] = {}
        for i, primary, _ in rows:
            self.by_name[primary.lower()] = i
        for i, _, display in rows:
            key = display.lower()
            if key in self.by_name and self.by_name[key] != i:
                if key not in {p.lower() for _, p, _ in rows}:
                    self.by_name[key] = None  # two people share the name: ambiguous, refuse
            else:
                self.by_name.setdefault(key, i)

    def find(self, name: str) -> int | None:
        return self.by_name.get(name.strip().lower())


def value_context(session: Session, tz: ZoneInfo, locale: str) -> ValueContext:
    users: _Index | None = None
    departments: _Index | None = None

    def user_index() -> _Index:
        nonlocal users
        if users is None:
            users = _Index([tuple(r) for r in session.execute(select(User.id, User.username, User.name))])
        return users

    def department_index() -> _Index:
        nonlocal departments
        if departments is None:
            departments = _Index([tuple(r) for r in session.execute(
                select(Department.id, Department.code, Department.name))])
        return departments

    return ValueContext(
        tz=tz,
        locale=locale,
        user_by_name=lambda name: user_index().find(name),
        user_name=lambda i: user_index().by_id.get(i),
        department_by_name=lambda name: department_index().find(name),
        department_name=lambda i: department_index().by_id.get(i),
    )
