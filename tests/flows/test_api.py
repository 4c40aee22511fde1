"""The flow API: start for a record, the inbox with filters and counts, task actions, instance
detail with history and an SVG diagram."""

from __future__ import annotations

from tests.flows.helpers import apply_node, linear
from tests.flows.test_persistence import publish
from tests.helpers import auth, grant, make_user

FLOW = linear(apply_node(fields={"title": "editable", "secret": "hidden"}),
              {"id": "tell", "type": "cc", "to": [{"user": "erin"}]},
              {"id": "l1", "type": "approve", "mode": "countersign",
               "assignees": [{"user": "bob"}, {"user": "carol"}], "fields": {"secret": "hidden"}},
              key="permit")


def setup(site, client):
    ids = {name: make_user(site, name, roles=("worker",) if name == "alice" else ()) for name in
           ("alice", "bob", "carol", "erin", "mallory")}
    grant(site, "worker", "flow", "permit", "create")
    publish(site, FLOW)
    headers = {name: auth(client, name) for name in ids}
    return ids, headers


def started(site, client):
    ids, headers = setup(site, client)
    response = client.post("/api/v1/flows/permit/instances", json={"data": {"title": "weld", "secret": "x"}},
                           headers=headers["alice"])
    assert response.status_code == 201, response.text
    return ids, headers, response.json()


def todo(client, headers):
    return client.get("/api/v1/tasks", params={"box": "todo"}, headers=headers).json()


def test_starting_needs_a_grant(site, client):
    _ids, headers = setup(site, client)
    response = client.post("/api/v1/flows/permit/instances", json={"data": {}}, headers=headers["bob"])
    assert response.status_code == 403


def test_the_inbox_and_task_actions(site, client):
    _ids, headers, inst = started(site, client)
    assert inst["open"] == ["apply"]
    page = todo(client, headers["alice"])
    assert page["total"] == 1 and page["items"][0]["node"] == "apply"
    task_id = page["items"][0]["task_id"]
    detail = client.get(f"/api/v1/tasks/{task_id}", headers=headers["alice"]).json()
    assert detail["fields"]["title"] == "editable" and "submit" in detail["actions"]
    response = client.post(f"/api/v1/tasks/{task_id}/actions", json={"action": "submit", "data": {"title": "w2"}},
                           headers=headers["alice"])
    assert response.status_code == 200, response.text
    assert response.json()["open"] == ["l1"]
    assert client.get("/api/v1/tasks/counts", headers=headers["erin"]).json()["cc"] == 1
    counts = client.get("/api/v1/tasks/counts", headers=headers["alice"]).json()
    assert counts == {"todo": 0, "done": 1, "cc": 0, "started": 1}
    bob_task = todo(client, headers["bob"])["items"][0]["task_id"]
    # someone else cannot act on bob's task, and nothing changes
    refused = client.post(f"/api/v1/tasks/{bob_task}/actions", json={"action": "approve"},
                          headers=headers["mallory"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "flow.task.not_assignee"
    assert todo(client, headers["bob"])["total"] == 1
    client.post(f"/api/v1/tasks/{bob_task}/actions", json={"action": "approve"}, headers=headers["bob"])
    twice = client.post(f"/api/v1/tasks/{bob_task}/actions", json={"action": "approve"},
                        headers={**headers["bob"], "Accept-Language": "en"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "flow.task.not_open"
    assert twice.json()["error"]["message"] == f"Task {bob_task} is no longer open (done)"
    carol_task = todo(client, headers["carol"])["items"][0]["task_id"]
    done = client.post(f"/api/v1/tasks/{carol_task}/actions", json={"action": "approve", "comment": "ok"},
                       headers=headers["carol"]).json()
    assert done["status"] == "completed"
    # acting again on a decided task (a double click, a second tab) is a clear 409 naming its state
    again = client.post(f"/api/v1/tasks/{carol_task}/actions", json={"action": "approve"},
                        headers={**headers["carol"], "Accept-Language": "en"})
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert error["code"] == "flow.instance.not_running" and "(completed)" in error["message"]
    bob_again = client.post(f"/api/v1/tasks/{bob_task}/actions", json={"action": "approve"},
                            headers={**headers["bob"], "Accept-Language": "zh-CN"})
    assert bob_again.status_code == 409 and "（已完成）" in bob_again.json()["error"]["message"]
    filtered = client.get("/api/v1/tasks", params={"box": "done", "flow": "permit", "node": "l1"},
                          headers=headers["carol"]).json()
    assert filtered["total"] == 1


def test_instance_detail_hides_fields_hidden_at_the_callers_node(site, client):
    _ids, headers, inst = started(site, client)
    task_id = todo(client, headers["alice"])["items"][0]["task_id"]
    client.post(f"/api/v1/tasks/{task_id}/actions", json={"action": "submit"}, headers=headers["alice"])
    mine = client.get(f"/api/v1/flows/instances/{inst['id']}", headers=headers["alice"]).json()
    assert mine["data"] == {"title": "weld", "secret": "x"}
    assert [h["action"] for h in mine["history"]][:3] == ["started", "submit", "cc"]
    bobs = client.get(f"/api/v1/flows/instances/{inst['id']}", headers=headers["bob"]).json()
    assert bobs["data"] == {"title": "weld"}
    assert client.get(f"/api/v1/flows/instances/{inst['id']}", headers=headers["mallory"]).status_code == 403


def test_the_diagram_is_svg_marking_where_the_instance_stands(site, client):
    _ids, headers, inst = started(site, client)
    response = client.get(f"/api/v1/flows/instances/{inst['id']}/diagram.svg", headers=headers["alice"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert svg.startswith("<svg") and 'data-node="apply"' in svg and "#e8890c" in svg  # open: orange


def test_instance_actions_urge_and_unknown(site, client):
    _ids, headers, inst = started(site, client)
    response = client.post(f"/api/v1/flows/instances/{inst['id']}/actions",
                           json={"action": "urge", "target": "apply"}, headers=headers["alice"])
    assert response.status_code == 200
    assert response.json()["history"][-1]["action"] == "urge"
    bad = client.post(f"/api/v1/flows/instances/{inst['id']}/actions", json={"action": "explode"},
                      headers=headers["alice"])
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["path"] == "action"


def test_an_unknown_instance_action_is_named_in_the_error_message(site, client):
    _ids, headers, inst = started(site, client)
    bad = client.post(f"/api/v1/flows/instances/{inst['id']}/actions", json={"action": "explode"},
                      headers={**headers["alice"], "Accept-Language": "en"})
    assert bad.status_code == 422
    message = bad.json()["error"]["message"]
    assert message.startswith('Unknown action "explode"') and "{" not in message
