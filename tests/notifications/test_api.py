"""The inbox and the outbox over the API: my messages, delivery state, an admin's retry."""

from __future__ import annotations

from engine.runtime.site import Site
from engine.services import Notification, Recipient
from tests.helpers import auth, make_user


def test_a_user_reads_their_inbox_and_an_admin_sees_and_retries_dead_messages(site: Site, client) -> None:
    uid = make_user(site, "qian")
    make_user(site, "boss", admin=True)
    with site.session() as session:
        site.notifier(session).notify(Notification(to=[Recipient("user", uid)], channels=("inapp", "email"),
                                                   subject={"zh": "巡检提醒", "en": "Inspection due"}))
    mine = client.get("/api/v1/notifications/inbox", headers=auth(client, "qian", "zh-CN"))
    assert [m["title"] for m in mine.json()] == ["巡检提醒"]
    read = client.post(f"/api/v1/notifications/inbox/{mine.json()[0]['id']}/read", headers=auth(client, "qian"))
    assert read.json()["read_at"] is not None

    admin = auth(client, "boss")
    dead = client.get("/api/v1/notifications/outbox?status=dead", headers=admin).json()
    assert [(m["channel"], m["last_error"]) for m in dead] == [("email", "qian has no email address")]
    assert client.get("/api/v1/notifications/outbox", headers=auth(client, "qian")).status_code == 403
    retried = client.post(f"/api/v1/notifications/outbox/{dead[0]['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
