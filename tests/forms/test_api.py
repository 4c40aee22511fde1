"""The records, forms and files API: thin routes over the engine, errors as located JSON."""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import load_workbook

from tests.forms.support import HAZARD, label, publish_form, with_row_defaults
from tests.forms.test_files import PDF, png_bytes
from tests.helpers import auth, grant, make_user


def _admin(client: Any, locale: str = "en") -> dict[str, str]:
    make_user(client.app.state.site, "root", admin=True)
    return auth(client, "root", locale)


def test_create_read_patch_with_row_version_and_a_stale_patch_is_409(client: Any) -> None:
    publish_form(client.app.state.site, HAZARD)
    headers = _admin(client)
    created = client.post("/api/v1/records/hazard", json={"data": {"title": "Oil", "l": 2, "e": 3, "c": 4}},
                          headers=headers)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["data"]["score"] == 24
    ok = client.patch(f"/api/v1/records/hazard/{record['id']}",
                      json={"data": {"title": "Oil leak"}, "row_version": record["row_version"]}, headers=headers)
    assert ok.status_code == 200 and ok.json()["changed"] == ["title"]
    stale = client.patch(f"/api/v1/records/hazard/{record['id']}",
                         json={"data": {"title": "x"}, "row_version": record["row_version"]}, headers=headers)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "record.stale"


def test_a_patch_adding_sub_table_rows_gives_them_their_defaults(client: Any) -> None:
    publish_form(client.app.state.site, with_row_defaults())
    headers = _admin(client)
    record = client.post("/api/v1/records/hazard", json={"data": {
        "title": "Oil", "l": 4, "measures": [{"action": "Clean", "state": "done"}]}}, headers=headers).json()
    rows = [*record["data"]["measures"], {"action": "Fence off"}]
    patched = client.patch(f"/api/v1/records/hazard/{record['id']}",
                           json={"data": {"measures": rows}, "row_version": record["row_version"]}, headers=headers)
    assert patched.status_code == 200, patched.text
    first, added = patched.json()["data"]["measures"]
    assert first == record["data"]["measures"][0]
    assert (added["state"], added["weight"], added["open_cost"]) == ("open", 5, 50)
    preview = client.post("/api/v1/forms/hazard/visibility", json={
        "record_id": record["id"], "data": {"measures": [*rows, {"action": "Sign"}]}}, headers=headers).json()
    assert preview["data"]["measures"][2]["state"] == "open"


def test_an_invalid_record_is_422_with_every_problem_in_the_callers_language(client: Any) -> None:
    publish_form(client.app.state.site, HAZARD)
    headers = _admin(client, "zh-CN")
    response = client.post("/api/v1/records/hazard", json={"data": {"level": "x", "l": "many"}}, headers=headers)
    assert response.status_code == 422
    problems = {p["path"]: p["message"] for p in response.json()["error"]["problems"]}
    assert problems["title"] == "必填" and "可选项" in problems["level"] and "整数" in problems["l"]


def test_without_a_grant_the_api_refuses_and_without_a_login_it_asks_for_one(client: Any) -> None:
    publish_form(client.app.state.site, HAZARD)
    make_user(client.app.state.site, "guest")
    assert client.get("/api/v1/records/hazard").status_code == 401
    assert client.get("/api/v1/records/hazard", headers=auth(client, "guest")).status_code == 403


def test_list_filters_sorts_and_pages(client: Any) -> None:
    publish_form(client.app.state.site, HAZARD)
    headers = _admin(client)
    for n in range(5):
        client.post("/api/v1/records/hazard", json={"data": {"title": f"t{n}", "l": n, "e": 1, "c": 1}},
                    headers=headers)
    page = client.get("/api/v1/records/hazard", params={"filter": "score >= 2", "sort": "-score", "limit": 2},
                      headers=headers).json()
    assert [r["data"]["score"] for r in page["items"]] == [4, 3]
    rest = client.get("/api/v1/records/hazard", params={"filter": "score >= 2", "sort": "-score",
                                                        "cursor": page["next_cursor"]}, headers=headers).json()
    assert [r["data"]["score"] for r in rest["items"]] == [2] and rest["next_cursor"] is None
    bad = client.get("/api/v1/records/hazard", params={"filter": "score >>= 2"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["path"] == "filter"


def test_a_role_with_field_rules_does_not_see_hidden_fields(client: Any) -> None:
    site = client.app.state.site
    publish_form(site, HAZARD)
    make_user(site, "worker", roles=("worker",))
    grant(site, "worker", "form", "hazard", "create", fields={"c": "hidden"})
    grant(site, "worker", "form", "hazard", "read", scope="own", fields={"c": "hidden"})
    headers = auth(client, "worker")
    created = client.post("/api/v1/records/hazard", json={"data": {"title": "a"}}, headers=headers)
    assert created.status_code == 201 and "c" not in created.json()["data"]
    refused = client.post("/api/v1/records/hazard", json={"data": {"title": "a", "c": 5}}, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["problems"][0]["path"] == "c"


def test_the_visibility_endpoint_answers_for_given_data(client: Any) -> None:
    publish_form(client.app.state.site, HAZARD)
    headers = _admin(client)
    answer = client.post("/api/v1/forms/hazard/visibility", json={"data": {
        "level": "major", "measures": [{"action": "a", "qty": 0}, {"action": "b", "qty": 2, "price": 3}]}},
        headers=headers).json()
    assert answer["fields"]["due"] == {"visible": True, "required": True, "readonly": False}
    assert answer["fields"]["measures[0].price"]["visible"] is False
    assert answer["fields"]["measures[1].price"]["required"] is True
    assert answer["data"]["total"] == 6


def test_definitions_validate_draft_publish_version_and_diff(client: Any) -> None:
    headers = _admin(client)
    body = json.loads(json.dumps(HAZARD))
    body["fields"][3]["visible_if"] = 'levle == "major"'
    text = json.dumps(body, indent=2, ensure_ascii=False)
    checked = client.post("/api/v1/forms/validate", content=text, headers=headers).json()
    error = next(p for p in checked["problems"] if p["severity"] == "error")
    assert not checked["ok"] and error["path"] == "fields[3].visible_if" and error["line"] > 1
    assert client.put("/api/v1/forms/hazard/draft", content=text, headers=headers).status_code == 422
    assert client.put("/api/v1/forms/hazard/draft", content=json.dumps(HAZARD), headers=headers).status_code == 200
    assert client.post("/api/v1/forms/hazard/publish", headers=headers).json() == {"version": 1, "created": True}
    changed = json.loads(json.dumps(HAZARD))
    changed["fields"].append({"type": "text", "key": "extra", "label": label("附加", "Extra")})
    assert client.post("/api/v1/forms/hazard/publish", content=json.dumps(changed), headers=headers).json()[
        "version"] == 2
    versions = client.get("/api/v1/forms/hazard/versions", headers=headers).json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "retired"), (2, "published")]
    changes = client.get("/api/v1/forms/hazard/diff", params={"a": 1, "b": 2}, headers=headers).json()
    assert changes == [{"kind": "added", "key": "extra", "property": None, "before": None,
                        "after": {"type": "text", "key": "extra", "label": {"zh": "附加", "en": "Extra"}}}]
    schema = client.get("/api/v1/forms/hazard/schema", headers=headers).json()
    assert schema["required"] == ["title"] and "extra" in schema["properties"]


def test_upload_then_download_with_the_records_permissions(client: Any) -> None:
    site = client.app.state.site
    body = json.loads(json.dumps(HAZARD))
    body["fields"].append({"type": "image", "key": "photo", "label": label("照片", "Photo")})
    publish_form(site, body)
    headers = _admin(client)
    lying = client.post("/api/v1/files", params={"form": "hazard", "field": "photo"},
                        files={"file": ("photo.jpg", PDF, "image/jpeg")}, headers=headers)
    assert lying.status_code == 422 and lying.json()["error"]["code"] == "file.lies"
    uploaded = client.post("/api/v1/files", params={"form": "hazard", "field": "photo"},
                           files={"file": ("photo.png", png_bytes(), "image/png")}, headers=headers).json()
    record = client.post("/api/v1/records/hazard", json={"data": {"title": "a", "photo": uploaded["id"]}},
                         headers=headers).json()
    assert record["data"]["photo"] == uploaded["id"]
    got = client.get(f"/api/v1/files/{uploaded['id']}", headers=headers)
    assert got.status_code == 200 and got.content == png_bytes() and got.headers["content-type"] == "image/png"
    assert client.get(f"/api/v1/files/{uploaded['id']}/thumbnail", headers=headers).status_code == 200
    make_user(site, "other", roles=("reader",))
    grant(site, "reader", "form", "hazard", "read", scope="own")
    assert client.get(f"/api/v1/files/{uploaded['id']}", headers=auth(client, "other")).status_code == 404


def test_export_template_and_import_over_the_api(client: Any) -> None:
    publish_form(client.app.state.site, HAZARD)
    headers = _admin(client, "zh-CN")
    client.post("/api/v1/records/hazard", json={"data": {"title": "甲", "measures": [{"action": "清理"}]}},
                headers=headers)
    exported = client.get("/api/v1/records/hazard/export.xlsx", headers=headers)
    assert exported.status_code == 200
    assert load_workbook(io.BytesIO(exported.content)).sheetnames == ["隐患上报", "整改措施"]
    template = client.get("/api/v1/forms/hazard/template.xlsx", headers=headers)
    assert template.status_code == 200
    imported = client.post("/api/v1/records/hazard/import", params={"mode": "valid"},
                           files={"file": ("h.xlsx", exported.content)}, headers=headers).json()
    assert (imported["created"], imported["errors"]) == (1, [])


def test_relation_choices_follow_the_fields_filter(client: Any) -> None:
    site = client.app.state.site
    publish_form(site, {"key": "area", "title": label("区域", "Area"), "title_field": "name", "fields": [
        {"type": "text", "key": "name", "label": label("名称", "Name")},
        {"type": "text", "key": "plant", "label": label("厂", "Plant")}]})
    publish_form(site, {"key": "visit", "title": label("巡查", "Visit"), "fields": [
        {"type": "text", "key": "plant", "label": label("厂", "Plant")},
        {"type": "relation", "key": "area", "form": "area", "label": label("区域", "Area"),
         "filter": "plant == record.plant"}]})
    headers = _admin(client)
    for name, plant in (("East", "P1"), ("West", "P2"), ("North", "P1")):
        client.post("/api/v1/records/area", json={"data": {"name": name, "plant": plant}}, headers=headers)
    found = client.post("/api/v1/records/visit/choices/area", json={"data": {"plant": "P1"}}, headers=headers)
    assert [c["label"] for c in found.json()] == ["East", "North"]


def test_from_excel_over_the_api_returns_a_definition(client: Any, tmp_path: Any) -> None:
    from openpyxl import Workbook

    headers = _admin(client)
    workbook = Workbook()
    workbook.active.append(["设备", "数量"])
    workbook.active.append(["叉车", 2])
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = client.post("/api/v1/forms/from-excel", files={"file": ("设备台账.xlsx", buffer.getvalue())},
                       headers=headers).json()
    assert [f["type"] for f in body["fields"]] == ["text", "integer"]


def test_the_designer_can_list_field_types_with_their_widgets(client: Any) -> None:
    types = client.get("/api/v1/forms/field-types", headers=_admin(client)).json()
    by_name = {t["type"]: t for t in types}
    assert len(types) >= 30 and by_name["signature"]["widget"] == "signature-pad"
    assert "max_length" in by_name["text"]["properties"]["properties"]


def test_a_relation_outside_its_filter_is_refused_on_write(client: Any) -> None:
    site = client.app.state.site
    publish_form(site, {"key": "area", "title": label("区域", "Area"), "title_field": "name", "fields": [
        {"type": "text", "key": "name", "label": label("名称", "Name")},
        {"type": "text", "key": "plant", "label": label("厂", "Plant")}]})
    publish_form(site, {"key": "visit", "title": label("巡查", "Visit"), "fields": [
        {"type": "text", "key": "plant", "label": label("厂", "Plant")},
        {"type": "relation", "key": "area", "form": "area", "label": label("区域", "Area"),
         "filter": "plant == record.plant"}]})
    headers = _admin(client)
    west = client.post("/api/v1/records/area", json={"data": {"name": "West", "plant": "P2"}}, headers=headers)
    refused = client.post("/api/v1/records/visit", json={"data": {"plant": "P1", "area": west.json()["id"]}},
                          headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["problems"][0]["path"] == "area"
    ok = client.post("/api/v1/records/visit", json={"data": {"plant": "P2", "area": west.json()["id"]}},
                     headers=headers)
    assert ok.status_code == 201


def test_a_relation_to_an_unknown_form_is_refused_when_publishing(client: Any) -> None:
    headers = _admin(client)
    body = {"key": "visit", "title": label("巡查", "Visit"), "fields": [
        {"type": "relation", "key": "area", "form": "nowhere", "label": label("区域", "Area")}]}
    response = client.post("/api/v1/forms/visit/publish", content=json.dumps(body), headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["problems"][0]["code"] == "form.unknown_form"
