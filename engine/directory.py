"""Who is who: the organisation as engines see it (users, departments, roles, substitutes).

Flows resolve assignees and rules resolve recipients through this protocol. The store provides
a SQL implementation; `StaticDirectory` serves simulations, dry runs and tests from a dict
(the `--org ORG.json` format documented in docs/org.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str
    department_id: int | None = None
    manager_id: int | None = None
    email: str | None = None
    phone: str | None = None
    active: bool = True
    locale: str | None = None


@dataclass(frozen=True)
class Delegation:
    """Out of office: `user_id`'s work goes to `substitute_id` between `starts_at` and `ends_at`."""

    user_id: int
    substitute_id: int
    starts_at: datetime
    ends_at: datetime
    # Flow keys it applies to; empty means every flow.
    flows: tuple[str, ...] = ()

    def applies(self, at: datetime, flow_key: str | None) -> bool:
        if not (self.starts_at <= at < self.ends_at):
            return False
        return not self.flows or (flow_key is not None and flow_key in self.flows)


class Directory(Protocol):
    def person(self, user_id: int) -> Person | None: ...

    def find_user(self, username: str) -> Person | None: ...

    def users_with_role(
        self, role: str, department_id: int | None = None, *, subtree: bool = False
    ) -> list[int]: ...

    def department_head(self, department_id: int) -> int | None: ...

    def parent_department(self, department_id: int) -> int | None: ...

    def manager_of(self, user_id: int) -> int | None:
        """The direct manager: the person's manager, else the head of their department (or of the
        nearest ancestor department whose head is someone else)."""
        ...

    def delegations_of(self, user_id: int) -> list[Delegation]: ...

    def admins(self) -> list[int]: ...


class _OrgTree(Protocol):
    def person(self, user_id: int) -> Person | None: ...

    def department_head(self, department_id: int) -> int | None: ...

    def parent_department(self, department_id: int) -> int | None: ...


def direct_manager(directory: _OrgTree, user_id: int) -> int | None:
    """The person's own manager, else the head of their department — or of the nearest ancestor
    department whose head is someone else (a department head reports to the level above)."""
    person = directory.person(user_id)
    if person is None:
        return None
    if person.manager_id is not None:
        return person.manager_id
    dept = person.department_id
    seen: set[int] = set()
    while dept is not None and dept not in seen:
        seen.add(dept)
        head = directory.department_head(dept)
        if head is not None and head != user_id:
            return head
        dept = directory.parent_department(dept)
    return None


@dataclass
class StaticDirectory:
    """An in-memory Directory, e.g. for `safeflow flow simulate --org ORG.json`."""

    people: dict[int, Person] = field(default_factory=dict)
    # department id -> (parent id, head user id, name)
    departments: dict[int, tuple[int | None, int | None, str]] = field(default_factory=dict)
    # role key -> list of (user id, department id or None)
    roles: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    delegations: list[Delegation] = field(default_factory=list)
    admin_ids: list[int] = field(default_factory=list)

    def person(self, user_id: int) -> Person | None:
        return self.people.get(user_id)

    def find_user(self, username: str) -> Person | None:
        return next((p for p in self.people.values() if p.username == username), None)

    def _subtree(self, department_id: int) -> set[int]:
        found = {department_id}
        changed = True
        while changed:
            changed = False
            for dept, (parent, _head, _name) in self.departments.items():
                if parent in found and dept not in found:
                    found.add(dept)
                    changed = True
        return found

    def users_with_role(
        self, role: str, department_id: int | None = None, *, subtree: bool = False
    ) -> list[int]:
        members = self.roles.get(role, [])
        if department_id is None:
            return sorted({uid for uid, _ in members})
        scope = self._subtree(department_id) if subtree else {department_id}
        out = set()
        for uid, dept in members:
            effective = dept
            if effective is None and uid in self.people:
                effective = self.people[uid].department_id
            if effective in scope:
                out.add(uid)
        return sorted(out)

    def department_head(self, department_id: int) -> int | None:
        entry = self.departments.get(department_id)
        return entry[1] if entry else None

    def parent_department(self, department_id: int) -> int | None:
        entry = self.departments.get(department_id)
        return entry[0] if entry else None

    def manager_of(self, user_id: int) -> int | None:
        return direct_manager(self, user_id)

    def delegations_of(self, user_id: int) -> list[Delegation]:
        return [d for d in self.delegations if d.user_id == user_id]

    def admins(self) -> list[int]:
        return list(self.admin_ids)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StaticDirectory:
        """Build from `{"users": [...], "departments": [...], "delegations": [...], "admins": [...]}`.

        users: {"id", "username", "name"?, "department"?, "manager"?, "roles"?: [role or
        {"role", "department"}], "email"?, "phone"?}; departments: {"id", "name"?, "parent"?,
        "head"?}; delegations: {"user", "substitute", "from", "to", "flows"?}; ids may be given as
        usernames where a user is meant; a delegation's "from"/"to" without an offset (or a bare
        date) is UTC.
        """
        directory = cls()
        users: Iterable[Mapping[str, Any]] = raw.get("users", [])
        by_name: dict[str, int] = {}
        for index, u in enumerate(users, start=1):
            uid = int(u.get("id", index))
            by_name[str(u.get("username", uid))] = uid

        def uid_of(value: Any) -> int | None:
            if value is None:
                return None
            if isinstance(value, int):
                return value
            return by_name.get(str(value), int(value) if str(value).isdigit() else None)

        for index, u in enumerate(raw.get("users", []), start=1):
            uid = int(u.get("id", index))
            directory.people[uid] = Person(
                id=uid,
                username=str(u.get("username", uid)),
                name=str(u.get("name", u.get("username", uid))),
                department_id=u.get("department"),
                manager_id=uid_of(u.get("manager")),
                email=u.get("email"),
                phone=u.get("phone"),
                active=bool(u.get("active", True)),
            )
            for role in u.get("roles", []):
                if isinstance(role, str):
                    directory.roles.setdefault(role, []).append((uid, None))
                else:
                    directory.roles.setdefault(role["role"], []).append((uid, role.get("department")))
        for d in raw.get("departments", []):
            head = uid_of(d.get("head"))
            directory.departments[int(d["id"])] = (d.get("parent"), head, str(d.get("name", d["id"])))
        for d in raw.get("delegations", []):
            directory.delegations.append(
                Delegation(
                    user_id=uid_of(d["user"]) or 0,
                    substitute_id=uid_of(d["substitute"]) or 0,
                    starts_at=_instant(d["from"]),
                    ends_at=_instant(d["to"]),
                    flows=tuple(d.get("flows", ())),
                )
            )
        directory.admin_ids = [x for x in (uid_of(a) for a in raw.get("admins", [])) if x is not None]
        return directory


def _instant(text: str) -> datetime:
    """An org file's time: offset-less times (and bare dates) are UTC, so they compare with the
    engine's aware clock instead of raising mid-simulation."""
    at = datetime.fromisoformat(str(text))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
