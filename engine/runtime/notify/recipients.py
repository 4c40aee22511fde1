"""From "who" as rules and flows say it (a role, a user field, someone's manager) to people and
raw addresses, through the Directory protocol — so simulations resolve against a static org."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.directory import Directory, Person
from engine.services import Recipient


@dataclass(frozen=True)
class Resolved:
    people: list[Person]
    # Raw addresses given by an integrator, per kind: email, phone, url.
    addresses: list[tuple[str, str]]
    unresolved: list[str]


def _user_ids(value: object) -> list[int]:
    items: Iterable[object] = value if isinstance(value, list | tuple | set) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            out.append(int(item))
    return out


def resolve(directory: Directory, recipients: Sequence[Recipient]) -> Resolved:
    """People (deduplicated, active only, in the order named) and raw addresses."""
    ids: list[int] = []
    addresses: list[tuple[str, str]] = []
    unresolved: list[str] = []
    for r in recipients:
        if r.kind in ("user", "field"):
            found = _user_ids(r.value)
        elif r.kind == "role":
            found = directory.users_with_role(str(r.value), r.scope.get("department"),
                                              subtree=bool(r.scope.get("subtree")))
        elif r.kind == "manager_of":
            found = [m for m in (directory.manager_of(u) for u in _user_ids(r.value)) if m is not None]
        elif r.kind in ("email", "phone", "url"):
            addresses.append((r.kind, str(r.value)))
            continue
        else:
            found = []
        if not found:
            unresolved.append(f"{r.kind}:{r.value}")
        ids.extend(found)
    people: list[Person] = []
    seen: set[int] = set()
    for uid in ids:
        if uid in seen:
            continue
        seen.add(uid)
        person = directory.person(uid)
        if person is not None and person.active:
            people.append(person)
    return Resolved(people, addresses, unresolved)
