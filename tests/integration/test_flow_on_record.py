"""A flow running on a stored record keeps the record current: what people fill in a flow is
what lists, dashboards and rules see, validated and recomputed by the form engine."""

from typing import Any

from engine.runtime.site import Site
from engine.store.models import Record
from tests.flows.helpers import linear
from tests.flows.test_persistence import publish
from tests.forms.support import hazard, publish_form, records
from tests.helpers import auth, grant, make_user

FLOW = linear(
    {"id": "assess", "type": "fill", "assignee": "initiator", "fields": {"l": "editable", "e": "editable",
                                                                       "c": "editable", "title": "readonly"}},
    {"id": "check", "type": "approve", "assignee": {"user": "boss"}},
    key="hazard_flow", form="hazard",
)


def _setup(site: Site, client: Any) -> tuple[dict[str, dict[str, str]], int]:
    make_user(site, "worker", roles=("reporter",))
    make_user(site, "boss")
    grant(site, "reporter", "flow", "hazard_flow", "create")
    publish_form(site, hazard())
    publish(site, FLOW)
    with site.session() as session:
        record_id = records(site, session).create("hazard", {"title": "Oil on the floor", "l": 1, "e": 1,
                                                              "c": 1}).id
    return {"worker": auth(client, "worker"), "boss": auth(client, "boss")}, record_id


def _record(site: Site, record_id: int) -> Record:
    with site.session() as session:
        row = session.get(Record, record_id)
        assert row is not None
        return row


def test_filled_fields_reach_the_record_with_formulas_recomputed(site: Site, client: Any) -> None:
    headers, record_id = _setup(site, client)
    started = client.post("/api/v1/flows/hazard_flow/instances", json={"record_id": record_id},
                          headers=headers["worker"])
    assert started.status_code == 201, started.text
    assert _record(site, record_id).status == "running"
    task = client.get("/api/v1/tasks", params={"box": "todo"}, headers=headers["worker"]).json()["items"][0]
    done = client.post(f"/api/v1/tasks/{task['task_id']}/actions",
                       json={"action": "submit", "data": {"l": 3, "e": 6, "c": 15}}, headers=headers["worker"])
    assert done.status_code == 200, done.text
    row = _record(site, record_id)
    assert (row.data["l"], row.data["e"], row.data["c"], row.data["score"]) == (3, 6, 15, 270)
    assert done.json()["data"]["score"] == 270
    boss_task = client.get("/api/v1/tasks", params={"box": "todo"}, headers=headers["boss"]).json()["items"][0]
    client.post(f"/api/v1/tasks/{boss_task['task_id']}/actions", json={"action": "approve"}, headers=headers["boss"])
    assert _record(site, record_id).status == "completed"


def test_data_the_form_refuses_fails_the_step_and_changes_nothing(site: Site, client: Any) -> None:
    headers, record_id = _setup(site, client)
    client.post("/api/v1/flows/hazard_flow/instances", json={"record_id": record_id}, headers=headers["worker"])
    task = client.get("/api/v1/tasks", params={"box": "todo"}, headers=headers["worker"]).json()["items"][0]
    refused = client.post(f"/api/v1/tasks/{task['task_id']}/actions",
                          json={"action": "submit", "data": {"l": 3, "e": 60, "c": 15}}, headers=headers["worker"])
    assert refused.status_code == 422, refused.text
    assert any(p.get("path") == "e" for p in refused.json()["error"]["problems"])
    assert _record(site, record_id).data["e"] == 1
    still = client.get("/api/v1/tasks", params={"box": "todo"}, headers=headers["worker"]).json()
    assert still["total"] == 1 and still["items"][0]["node"] == "assess"


def test_an_automation_node_creates_a_real_record_and_queues_a_signed_webhook(site: Site, client: Any) -> None:
    from sqlalchemy import select

    from engine.store.models import OutboxMessage

    make_user(site, "worker", roles=("reporter",))
    grant(site, "reporter", "flow", "follow", "create")
    publish_form(site, {"key": "task", "title": {"zh": "任务", "en": "Task"},
                        "fields": [{"type": "text", "key": "title", "label": {"zh": "标题", "en": "Title"}}]})
    publish(site, linear({"id": "out", "type": "automation", "actions": [
        {"create_record": {"form": "task", "values": {"title": "follow up"}}},
        {"webhook": {"url": "http://127.0.0.1:9/hook", "body": {"kind": "permit"}}}]}, key="follow"))
    started = client.post("/api/v1/flows/follow/instances", json={"data": {}}, headers=auth(client, "worker"))
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "completed"
    with site.session() as session:
        tasks = session.execute(select(Record.data).where(Record.form == "task")).scalars().all()
        hooks = session.execute(select(OutboxMessage).where(OutboxMessage.channel == "webhook")).scalars().all()
    assert tasks == [{"title": "follow up"}]
    assert len(hooks) == 1 and hooks[0].recipient == "http://127.0.0.1:9/hook"


def test_a_gateway_right_after_a_fill_sees_the_formulas_of_what_was_filled(site: Site, client: Any) -> None:
    """score = l × e × c is a formula of the form: the branch after the assessment must see the
    new score, not the one stored before the task was submitted."""
    make_user(site, "worker", roles=("reporter",))
    make_user(site, "boss")
    make_user(site, "chief")
    grant(site, "reporter", "flow", "graded", "create")
    publish_form(site, hazard())
    publish(site, {
        "key": "graded", "form": "hazard",
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "assess", "type": "fill", "assignee": "initiator",
                   "fields": {"l": "editable", "e": "editable", "c": "editable"}},
                  {"id": "grade", "type": "exclusive"},
                  {"id": "major", "type": "approve", "assignee": {"user": "chief"}},
                  {"id": "minor", "type": "approve", "assignee": {"user": "boss"}},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "assess"}, {"from": "assess", "to": "grade"},
                  {"from": "grade", "to": "major", "when": "score >= 160"},
                  {"from": "grade", "to": "minor", "default": True},
                  {"from": "major", "to": "end"}, {"from": "minor", "to": "end"}]})
    with site.session() as session:
        record_id = records(site, session).create("hazard", {"title": "Solvent leak", "l": 1, "e": 1, "c": 1}).id
    worker = auth(client, "worker")
    started = client.post("/api/v1/flows/graded/instances", json={"record_id": record_id}, headers=worker)
    assert started.status_code == 201, started.text
    task = client.get("/api/v1/tasks", params={"box": "todo"}, headers=worker).json()["items"][0]
    done = client.post(f"/api/v1/tasks/{task['task_id']}/actions",
                       json={"action": "submit", "data": {"l": 3, "e": 6, "c": 15}}, headers=worker)
    assert done.status_code == 200, done.text
    assert _record(site, record_id).data["score"] == 270
    chief = client.get("/api/v1/tasks", params={"box": "todo"}, headers=auth(client, "chief")).json()
    boss = client.get("/api/v1/tasks", params={"box": "todo"}, headers=auth(client, "boss")).json()
    assert [t["node"] for t in chief["items"]] == ["major"] and boss["total"] == 0
