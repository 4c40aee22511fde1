from typing import Any

from engine.runtime.site import Site
from tests.helpers import auth, grant, make_user


def test_an_admin_builds_a_department_tree_and_staffs_it(client: Any, site: Site) -> None:
    make_user(site, "admin1", admin=True)
    h = auth(client, "admin1")
    plant = client.post("/api/v1/departments", json={"code": "P", "name": "总厂"}, headers=h).json()
    shop = client.post("/api/v1/departments", json={"code": "W1", "name": "一车间", "parent_id": plant["id"]},
                       headers=h).json()
    assert shop["path"] == f"/{plant['id']}/{shop['id']}/"
    user = client.post("/api/v1/users", json={"username": "zhang", "name": "张三", "department_id": shop["id"],
                                               "password": "long-enough"}, headers=h).json()
    client.patch(f"/api/v1/departments/{shop['id']}", json={"head_id": user["id"]}, headers=h)
    director = {"key": "workshop_director", "name": {"zh": "车间主任", "en": "Workshop director"}}
    client.post("/api/v1/roles", json=director, headers=h)
    roles = client.post(f"/api/v1/users/{user['id']}/roles", json={"role": "workshop_director"}, headers=h).json()
    assert roles == [{"role": "workshop_director", "department_id": None}]
    tree = client.get("/api/v1/departments", headers=h).json()
    assert [d["code"] for d in tree] == ["P", "W1"] and tree[1]["head_id"] == user["id"]


def test_a_department_cannot_move_under_itself(client: Any, site: Site) -> None:
    make_user(site, "admin1", admin=True)
    h = auth(client, "admin1")
    top = client.post("/api/v1/departments", json={"code": "A", "name": "A"}, headers=h).json()
    child = client.post("/api/v1/departments", json={"code": "B", "name": "B", "parent_id": top["id"]},
                        headers=h).json()
    response = client.patch(f"/api/v1/departments/{top['id']}", json={"parent_id": child["id"]}, headers=h)
    assert response.status_code == 422
    assert response.json()["error"]["problems"][0]["path"] == "parent_id"
    assert client.get("/api/v1/departments", headers=h).json()[0]["parent_id"] is None


def test_moving_a_department_moves_its_subtree(client: Any, site: Site) -> None:
    make_user(site, "admin1", admin=True)
    h = auth(client, "admin1")
    a = client.post("/api/v1/departments", json={"code": "A", "name": "A"}, headers=h).json()
    b = client.post("/api/v1/departments", json={"code": "B", "name": "B"}, headers=h).json()
    c = client.post("/api/v1/departments", json={"code": "C", "name": "C", "parent_id": b["id"]}, headers=h).json()
    client.patch(f"/api/v1/departments/{b['id']}", json={"parent_id": a["id"]}, headers=h)
    paths = {d["code"]: d["path"] for d in client.get("/api/v1/departments", headers=h).json()}
    assert paths["C"] == f"/{a['id']}/{b['id']}/{c['id']}/"


def test_org_admin_rights_can_be_granted_to_a_role(client: Any, site: Site) -> None:
    make_user(site, "hr", roles=("hr",))
    grant(site, "hr", "system", "org", "update")
    response = client.post("/api/v1/users", json={"username": "new", "name": "New"}, headers=auth(client, "hr"))
    assert response.status_code == 201


def test_a_grant_with_an_unknown_scope_is_refused_with_its_field(client: Any, site: Site) -> None:
    make_user(site, "admin1", admin=True)
    h = auth(client, "admin1")
    client.post("/api/v1/roles", json={"key": "viewer", "name": {"zh": "查看", "en": "Viewer"}}, headers=h)
    response = client.post("/api/v1/roles/viewer/grants", json={"resource_kind": "form", "resource_key": "hazard",
                                                                "action": "peek", "scope": "galaxy"}, headers=h)
    assert response.status_code == 422
    assert {p["path"] for p in response.json()["error"]["problems"]} == {"action", "scope"}


def test_a_substitute_needs_an_aware_period(client: Any, site: Site) -> None:
    me = make_user(site, "away")
    other = make_user(site, "covering")
    h = auth(client, "away")
    naive = {"user_id": me, "substitute_id": other, "starts_at": "2026-12-01T00:00:00",
             "ends_at": "2026-12-08T00:00:00"}
    bad = client.post("/api/v1/delegations", json=naive, headers=h)
    assert bad.status_code == 422
    good = client.post("/api/v1/delegations", json={"user_id": me, "substitute_id": other,
                                                    "starts_at": "2026-12-01T00:00:00+08:00",
                                                    "ends_at": "2026-12-08T00:00:00+08:00"}, headers=h)
    assert good.status_code == 201


def test_a_new_substitute_period_schedules_the_hand_over_of_open_tasks(client: Any, site: Site) -> None:
    from sqlalchemy import select

    from engine.store.models import Timer

    me = make_user(site, "leaving")
    other = make_user(site, "covering")
    body = {"user_id": me, "substitute_id": other, "starts_at": "2026-12-01T00:00:00+08:00",
            "ends_at": "2026-12-08T00:00:00+08:00"}
    assert client.post("/api/v1/delegations", json=body, headers=auth(client, "leaving")).status_code == 201
    with site.session() as session:
        timer = session.execute(select(Timer)).scalar_one()
    assert timer.kind == "flow.handover" and timer.payload["substitute"] == other
    assert timer.due_at.isoformat() == "2026-11-30T16:00:00+00:00"
