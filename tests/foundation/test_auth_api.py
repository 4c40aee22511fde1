from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.identity.secrets import issue_token
from engine.runtime.site import Site
from engine.store.models import AuditEntry, User
from tests.helpers import PASSWORD, auth, make_user, token


def test_health_answers_with_version_and_database_status(client: Any) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["schema_current"] is True


def test_openapi_docs_are_served(client: Any) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/v1/auth/token" in schema["paths"]
    assert "ErrorBody" in schema["components"]["schemas"]


def test_login_with_a_wrong_password_is_401(client: Any, site: Site) -> None:
    make_user(site, "wang")
    response = client.post("/api/v1/auth/token", data={"username": "wang", "password": "nope"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "auth.bad_credentials", "message": "Wrong username or password"}


def test_unknown_user_and_wrong_password_look_the_same(client: Any) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.bad_credentials"


def test_no_token_is_401(client: Any) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.unauthorized"


def test_a_token_identifies_the_caller(client: Any, site: Site) -> None:
    make_user(site, "li", roles=("safety_officer",))
    me = client.get("/api/v1/me", headers=auth(client, "li")).json()
    assert me["username"] == "li"
    assert me["roles"] == [{"role": "safety_officer", "department_id": None}]


def test_an_expired_token_is_refused(client: Any, site: Site) -> None:
    uid = make_user(site, "zhao")
    old = issue_token(uid, 0, site.settings.effective_secret_key(), 5, now=datetime.now(UTC) - timedelta(hours=1))
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.token_expired"


def test_changing_the_password_revokes_earlier_tokens(client: Any, site: Site) -> None:
    make_user(site, "sun")
    headers = auth(client, "sun")
    me = client.get("/api/v1/me", headers=headers).json()
    assert client.post(f"/api/v1/users/{me['id']}/password", json={"password": "a-new-password"},
                       headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert token(client, "sun", "a-new-password")


def test_a_forged_token_is_refused(client: Any, site: Site) -> None:
    uid = make_user(site, "qian")
    forged = issue_token(uid, 0, "not-the-site-secret-" + "y" * 32, 5)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "auth.token_invalid"


def test_errors_speak_the_request_locale(client: Any) -> None:
    zh = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()
    en = client.get("/api/v1/me?lang=en").json()
    assert zh["error"]["message"] == "未登录或凭证无效"
    assert en["error"]["message"] == "Not authenticated or invalid credentials"


def test_an_api_key_acts_as_its_user_until_revoked(client: Any, site: Site) -> None:
    make_user(site, "integrator")
    headers = auth(client, "integrator")
    created = client.post("/api/v1/api-keys", json={"name": "MES bridge"}, headers=headers)
    assert created.status_code == 201
    key = created.json()["key"]
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).json()["username"] == "integrator"
    client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=headers)
    refused = client.get("/api/v1/me", headers={"X-API-Key": key})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.bad_api_key"


def test_only_a_hash_of_an_api_key_is_stored(client: Any, site: Site) -> None:
    make_user(site, "mes")
    key = client.post("/api/v1/api-keys", json={"name": "k"}, headers=auth(client, "mes")).json()["key"]
    with site.session() as session:
        from engine.store.models import ApiKey

        stored = session.execute(select(ApiKey)).scalar_one()
    assert key not in (stored.key_hash, stored.prefix) and stored.key_hash != key


def test_a_user_without_the_grant_gets_403(client: Any, site: Site) -> None:
    make_user(site, "worker")
    response = client.post("/api/v1/users", json={"username": "x", "name": "X"}, headers=auth(client, "worker"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "auth.no_grant"


def test_an_invalid_request_lists_every_problem_and_changes_nothing(client: Any, site: Site) -> None:
    make_user(site, "boss", admin=True)
    headers = auth(client, "boss")
    with site.session() as session:
        users_before = session.execute(select(func.count()).select_from(User)).scalar_one()
    response = client.post("/api/v1/users", json={"username": "bad name!", "email": "not-an-email", "extra": 1},
                           headers=headers)
    assert response.status_code == 422
    paths = {p["path"] for p in response.json()["error"]["problems"]}
    assert {"username", "name", "email", "extra"} <= paths
    with site.session() as session:
        assert session.execute(select(func.count()).select_from(User)).scalar_one() == users_before


def test_a_duplicate_username_is_a_409(client: Any, site: Site) -> None:
    make_user(site, "boss", admin=True)
    make_user(site, "taken")
    response = client.post("/api/v1/users", json={"username": "taken", "name": "T"},
                           headers=auth(client, "boss", "zh-CN"))
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "用户名 taken 已存在"


def test_logins_are_audited(client: Any, site: Site) -> None:
    make_user(site, "audited")
    client.post("/api/v1/auth/token", data={"username": "audited", "password": PASSWORD})
    client.post("/api/v1/auth/token", data={"username": "audited", "password": "wrong"})
    with site.session() as session:
        actions = list(session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())
    assert actions[-2:] == ["auth.login", "auth.login_failed"]
