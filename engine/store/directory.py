"""The organisation read from the database, as the `engine.directory.Directory` protocol."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.directory import Delegation, Person, direct_manager
from engine.store.models import Delegation as DelegationRow
from engine.store.models import Department, Membership, Role, User


def _person(user: User) -> Person:
    return Person(
        id=user.id, username=user.username, name=user.name, department_id=user.department_id,
        manager_id=user.manager_id, email=user.email, phone=user.phone, active=user.active, locale=user.locale,
    )


class SqlDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def person(self, user_id: int) -> Person | None:
        user = self.session.get(User, user_id)
        return _person(user) if user else None

    def find_user(self, username: str) -> Person | None:
        user = self.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        return _person(user) if user else None

    def users_with_role(self, role: str, department_id: int | None = None, *, subtree: bool = False) -> list[int]:
        query = (
            select(Membership.user_id, Membership.department_id, User.department_id)
            .join(Role, Role.id == Membership.role_id)
            .join(User, User.id == Membership.user_id)
            .where(Role.key == role, User.active.is_(True))
        )
        rows = self.session.execute(query).all()
        if department_id is None:
            return sorted({r[0] for r in rows})
        scope = self._subtree(department_id) if subtree else {department_id}
        # A membership bound to a department counts there; an unbound one counts where the user is.
        return sorted({uid for uid, bound, home in rows if (bound if bound is not None else home) in scope})

    def _subtree(self, department_id: int) -> set[int]:
        path = self.session.execute(select(Department.path).where(Department.id == department_id)).scalar_one_or_none()
        if path is None:
            return set()
        below = select(Department.id).where(Department.path.startswith(path, autoescape=True))
        return set(self.session.execute(below).scalars())

    def department_head(self, department_id: int) -> int | None:
        return self.session.execute(
            select(Department.head_id).where(Department.id == department_id)
        ).scalar_one_or_none()

    def parent_department(self, department_id: int) -> int | None:
        return self.session.execute(
            select(Department.parent_id).where(Department.id == department_id)
        ).scalar_one_or_none()

    def manager_of(self, user_id: int) -> int | None:
        return direct_manager(self, user_id)

    def delegations_of(self, user_id: int) -> list[Delegation]:
        rows = self.session.execute(select(DelegationRow).where(DelegationRow.user_id == user_id)).scalars()
        return [
            Delegation(r.user_id, r.substitute_id, r.starts_at, r.ends_at, tuple(r.flows or ())) for r in rows
        ]

    def admins(self) -> list[int]:
        return list(
            self.session.execute(
                select(User.id).where(User.is_admin.is_(True), User.active.is_(True)).order_by(User.id)
            ).scalars()
        )

    def search(self, text: str, limit: int = 20) -> list[Person]:
        like = f"%{text}%"
        rows = self.session.execute(
            select(User).where(or_(User.username.ilike(like), User.name.ilike(like))).order_by(User.id).limit(limit)
        ).scalars()
        return [_person(u) for u in rows]
