"""Grants, row scopes in SQL, and field rules."""

import pytest
from sqlalchemy import select

from engine.errors import Forbidden
from engine.runtime.site import Site
from engine.store.access import Access, authorize, load_principal, merge_grants, scope_clause
from engine.store.models import Grant, Record
from tests.helpers import grant, make_department, make_user


def _record(site: Site, owner: int, department: int | None, title: str) -> None:
    with site.session() as session:
        session.add(Record(form="hazard", form_version=1, owner_id=owner, department_id=department,
                           data={"title": title}))


def _titles(site: Site, user_id: int, scoped: bool = True) -> list[str]:
    with site.session() as session:
        principal = load_principal(session, user_id)
        assert principal is not None
        query = select(Record.data).where(Record.form == "hazard").order_by(Record.id)
        if scoped:
            access = authorize(session, principal, "form", "hazard", "read")
            query = query.where(scope_clause(session, principal, access.scope, Record.owner_id, Record.department_id))
        return [row["title"] for row in session.execute(query).scalars()]


@pytest.fixture
def plant(site: Site) -> dict[str, int]:
    top = make_department(site, "PLANT")
    shop1 = make_department(site, "W1", parent=top)
    team = make_department(site, "W1-T1", parent=shop1)
    shop2 = make_department(site, "W2", parent=top)
    ids = {"top": top, "shop1": shop1, "team": team, "shop2": shop2}
    ids["alice"] = make_user(site, "alice", roles=("viewer",), department=shop1)
    ids["bob"] = make_user(site, "bob", department=shop2)
    ids["carol"] = make_user(site, "carol", department=team)
    _record(site, ids["alice"], shop1, "shop1 by alice")
    _record(site, ids["bob"], shop2, "shop2 by bob")
    _record(site, ids["carol"], team, "team by carol")
    _record(site, ids["bob"], shop1, "shop1 by bob")
    return ids


def test_a_user_without_a_grant_is_refused(site: Site, plant: dict[str, int]) -> None:
    with pytest.raises(Forbidden) as caught, site.session() as session:
        principal = load_principal(session, plant["bob"])
        assert principal is not None
        authorize(session, principal, "form", "hazard", "read")
    assert caught.value.status == 403
    assert "hazard" in caught.value.message("en")


def test_department_scope_never_returns_another_departments_rows(site: Site, plant: dict[str, int]) -> None:
    grant(site, "viewer", "form", "hazard", "read", scope="department")
    assert _titles(site, plant["alice"], scoped=False) == [
        "shop1 by alice", "shop2 by bob", "team by carol", "shop1 by bob"]  # the unscoped query would leak
    assert _titles(site, plant["alice"]) == ["shop1 by alice", "shop1 by bob"]


def test_subtree_scope_includes_departments_below(site: Site, plant: dict[str, int]) -> None:
    grant(site, "viewer", "form", "hazard", "read", scope="subtree")
    assert _titles(site, plant["alice"]) == ["shop1 by alice", "team by carol", "shop1 by bob"]


def test_own_scope_shows_only_the_callers_rows(site: Site, plant: dict[str, int]) -> None:
    grant(site, "viewer", "form", "hazard", "read", scope="own")
    assert _titles(site, plant["alice"]) == ["shop1 by alice"]


def test_a_wildcard_grant_covers_every_form(site: Site, plant: dict[str, int]) -> None:
    grant(site, "viewer", "form", "*", "read", scope="all")
    assert len(_titles(site, plant["alice"])) == 4


def test_the_widest_scope_of_several_roles_wins(site: Site, plant: dict[str, int]) -> None:
    grant(site, "viewer", "form", "hazard", "read", scope="own")
    grant(site, "auditor", "form", "hazard", "read", scope="all")
    with site.session() as session:
        from engine.identity import org
        from tests.helpers import SETUP

        org.assign_role(session, SETUP, plant["alice"], "auditor")
    assert len(_titles(site, plant["alice"])) == 4


def test_admins_see_everything(site: Site, plant: dict[str, int]) -> None:
    boss = make_user(site, "boss", admin=True)
    assert len(_titles(site, boss)) == 4


def test_a_field_is_hidden_only_if_every_grant_hides_it() -> None:
    merged = merge_grants([
        Grant(id=1, scope="own", fields={"cost": "hidden", "reporter": "hidden"}),
        Grant(id=2, scope="department", fields={"cost": "hidden", "reporter": "readonly"}),
    ])
    assert merged == Access(scope="department", hidden=frozenset({"cost"}), readonly=frozenset({"reporter"}))


def test_a_grant_without_field_rules_lifts_them() -> None:
    merged = merge_grants([Grant(id=1, scope="own", fields={"cost": "hidden"}), Grant(id=2, scope="own", fields=None)])
    assert merged is not None and not merged.hidden and not merged.readonly
