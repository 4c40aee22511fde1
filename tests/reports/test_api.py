"""The dashboards, datasets and static routes over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from tests.helpers import auth, grant, make_user
from tests.reports.support import NOW, Plant, reader
from tests.reports.test_widgets import EXAMPLE


@pytest.fixture
def api(plant: Plant) -> Iterator[TestClient]:
    with TestClient(create_app(site=plant.site, run_worker=False), raise_server_exceptions=False) as client:
        make_user(plant.site, "boss", admin=True)
        response = client.put("/api/v1/dashboards/hazard_overview", headers=auth(client, "boss"),
                              json=json.loads(EXAMPLE.read_text(encoding="utf-8")))
        assert response.status_code == 200, response.text
        yield client


def dashboard_reader(plant: Plant, name: str, department: str, scope: str) -> str:
    reader(plant.site, name, plant.departments[department], scope)
    grant(plant.site, f"reader_{name}", "report", "hazard_overview", "read")
    return name


def widget(body: dict[str, Any], widget_id: str) -> dict[str, Any]:
    return next(w for w in body["widgets"] if w["id"] == widget_id)


def test_publishing_a_dashboard_returns_its_version(api):
    headers = auth(api, "boss")
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    again = api.put("/api/v1/dashboards/hazard_overview", headers=headers, json=body)
    assert again.json() == {"key": "hazard_overview", "version": 1, "warnings": []}
    body["title"] = {"zh": "隐患驾驶舱（新）", "en": "Hazard cockpit (new)"}
    assert api.put("/api/v1/dashboards/hazard_overview", headers=headers, json=body).json()["version"] == 2


def test_a_bad_definition_is_refused_with_every_problem_located_and_nothing_stored(api):
    headers = auth(api, "boss")
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    body["widgets"][0]["dataset"]["measures"][0]["where"] = 'stat == "closed"'
    body["widgets"][4]["dataset"]["dimensions"][0]["field"] = "zone"
    response = api.put("/api/v1/dashboards/hazard_overview", headers=headers, json=body)
    assert response.status_code == 422
    paths = [p["path"] for p in response.json()["error"]["problems"]]
    # the renamed dimension also leaves the bar's x axis without its column
    assert sorted(paths) == ["widgets[0].dataset.measures[0].where", "widgets[4].dataset.dimensions[0].field",
                             "widgets[4].x"]
    assert api.get("/api/v1/dashboards/hazard_overview", headers=headers).json()["version"] == 1


def test_the_dashboard_comes_with_its_definition_data_and_figures(api):
    response = api.get("/api/v1/dashboards/hazard_overview", headers=auth(api, "boss", "en"))
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Hazard cockpit" and body["refresh_seconds"] == 300 and len(body["widgets"]) == 15
    levels = widget(body, "levels")
    assert levels["data"]["rows"] == [["general", 4], ["major", 3]]
    assert levels["data"]["columns"][0]["labels"] == {"general": "General", "major": "Major"}
    assert levels["figure"]["data"][0]["type"] == "pie"
    assert widget(body, "closed_rate")["summary"]["status"] == "yellow"


def test_a_department_scoped_viewer_gets_only_their_departments_numbers(api, plant):
    name = dashboard_reader(plant, "d2_lead", "D2", "department")
    body = api.get("/api/v1/dashboards/hazard_overview", headers=auth(api, name)).json()
    # D2 holds r3 (B, general, open) and r4 (B, major, closed)
    assert widget(body, "levels")["data"]["rows"] == [["general", 1], ["major", 1]]
    assert widget(body, "pipeline")["figure"]["data"][0]["x"] == [2, 1, 0]
    assert [a["measure"] for a in widget(body, "floor")["summary"]["areas"]] == [0, 2, 0, 0]


def test_without_a_grant_on_the_dashboard_the_viewer_is_refused(api, plant):
    reader(plant.site, "nosy", plant.departments["D1"], "all")
    response = api.get("/api/v1/dashboards/hazard_overview", headers=auth(api, "nosy"))
    assert response.status_code == 403


def test_without_a_grant_on_the_form_each_widget_says_so(api, plant):
    grant(plant.site, "wall", "report", "hazard_overview", "read")
    make_user(plant.site, "wallboard", roles=("wall",))
    body = api.get("/api/v1/dashboards/hazard_overview", headers=auth(api, "wallboard")).json()
    assert all(w["error"]["code"] == "auth.no_grant" for w in body["widgets"])


def test_dashboard_filters_come_as_json_and_bad_values_are_located(api):
    headers = auth(api, "boss")
    filters = json.dumps({"area": ["A"], "date": {"from": "2026-01-01", "to": "2026-01-31"}})
    body = api.get("/api/v1/dashboards/hazard_overview", headers=headers, params={"filters": filters}).json()
    assert widget(body, "levels")["data"]["rows"] == [["general", 1], ["major", 1]]
    assert body["filters"]["date"] == {"from": "2026-01-01", "to": "2026-01-31"}
    bad = api.post("/api/v1/dashboards/hazard_overview/query", headers=headers,
                   json={"filters": {"date": "last_century", "zone": 1}})
    assert bad.status_code == 422
    assert {p["path"] for p in bad.json()["error"]["problems"]} == {"filters.zone", "filters.date"}


def test_one_widget_can_be_refreshed_on_its_own(api):
    response = api.get("/api/v1/dashboards/hazard_overview/widgets/pareto", headers=auth(api, "boss"))
    assert response.status_code == 200 and response.json()["figure"]["data"][0]["y"] == [3, 2, 2]
    assert api.get("/api/v1/dashboards/hazard_overview/widgets/nope", headers=auth(api, "boss")).status_code == 404


def test_drilling_into_a_bar_lists_the_records_behind_it(api, plant):
    response = api.post("/api/v1/dashboards/hazard_overview/widgets/by_area/drill", headers=auth(api, "boss"),
                        json={"point": {"area": "A", "level": "general"}})
    assert response.status_code == 200
    body = response.json()
    assert body["form"] == "hazard"
    assert [r["id"] for r in body["records"]] == [plant.records["r6"], plant.records["r1"]]


def test_drilling_into_a_month_of_a_trend_lists_that_local_month(api, plant):
    response = api.post("/api/v1/dashboards/hazard_overview/widgets/trend/drill", headers=auth(api, "boss"),
                        json={"point": {"created_at_month": "2026-04"}, "limit": 1})
    body = response.json()
    assert [r["id"] for r in body["records"]] == [plant.records["r7"]] and body["next_cursor"] is not None
    rest = api.post("/api/v1/dashboards/hazard_overview/widgets/trend/drill", headers=auth(api, "boss"),
                    json={"point": {"created_at_month": "2026-04"}, "cursor": body["next_cursor"]}).json()
    assert [r["id"] for r in rest["records"]] == [plant.records["r6"]] and rest["next_cursor"] is None


def test_drilling_applies_the_measure_condition_and_the_viewer_scope(api, plant):
    name = dashboard_reader(plant, "d1_lead", "D1", "department")
    response = api.post("/api/v1/dashboards/hazard_overview/widgets/pipeline/drill", headers=auth(api, name),
                        json={"point": {}, "measure": "quick"})
    # fixed on the spot: r1 and r5, both in D1
    assert [r["id"] for r in response.json()["records"]] == [plant.records["r5"], plant.records["r1"]]
    unknown = api.post("/api/v1/dashboards/hazard_overview/widgets/by_area/drill", headers=auth(api, name),
                       json={"point": {"zone": "A"}})
    assert unknown.status_code == 422 and unknown.json()["error"]["problems"][0]["path"] == "point.zone"


def test_a_share_link_shows_the_dashboard_read_only_without_logging_in(api, plant):
    headers = auth(api, "boss")
    created = api.post("/api/v1/dashboards/hazard_overview/shares", headers=headers,
                       json={"scope": "department", "filters": {"area": ["B"]}})
    assert created.status_code == 201
    url = created.json()["url"]
    shown = api.get(url)
    assert shown.status_code == 200
    # boss has no department: "department" scope falls back to their own records — none
    assert widget(shown.json(), "levels")["data"]["rows"] == []
    assert api.post(url).status_code == 405
    share_id = created.json()["id"]
    listed = api.get("/api/v1/dashboards/hazard_overview/shares", headers=headers).json()
    assert [(s["id"], s["token"], s["scope"]) for s in listed] == [(share_id, None, "department")]
    api.delete(f"/api/v1/dashboards/hazard_overview/shares/{share_id}", headers=headers)
    assert api.get(url).status_code == 404


def test_a_share_link_keeps_its_fixed_filters_and_the_creators_rights(api, plant):
    name = dashboard_reader(plant, "p1_head", "P1", "subtree")
    grant(plant.site, f"reader_{name}", "report", "hazard_overview", "export")
    created = api.post("/api/v1/dashboards/hazard_overview/shares", headers=auth(api, name),
                       json={"filters": {"area": ["A"]},
                             "expires_at": (NOW + timedelta(days=7)).isoformat()}).json()
    shown = api.get(created["url"], params={"filters": json.dumps({"area": ["C"]})}).json()
    # P1's records in area A: r1, r2 (the viewer cannot widen the fixed filter)
    assert widget(shown, "levels")["data"]["rows"] == [["general", 1], ["major", 1]]
    assert api.get("/api/v1/shared/not-a-token").status_code == 404


def test_roles_open_their_default_dashboard(api, plant):
    headers = auth(api, "boss")
    grant(plant.site, "manager", "report", "*", "read")
    make_user(plant.site, "mgr", roles=("manager",))
    assert api.put("/api/v1/dashboard-defaults/manager", headers=headers,
                   json={"dashboard": "hazard_overview", "priority": 10}).status_code == 200
    assert api.get("/api/v1/dashboards/default", headers=auth(api, "mgr")).json()["key"] == "hazard_overview"
    make_user(plant.site, "worker")
    assert api.get("/api/v1/dashboards/default", headers=auth(api, "worker"),
                   params={"personal": "hazard_overview"}).json() is None
    listed = api.get("/api/v1/dashboard-defaults", headers=headers).json()
    assert listed == [{"role": "manager", "dashboard": "hazard_overview", "priority": 10}]


def test_datasets_query_is_typed_json_in_and_out(api, plant):
    name = dashboard_reader(plant, "d1_view", "D1", "department")
    body = {"dataset": {"source": {"form": "hazard"}, "dimensions": [{"field": "created_at", "bucket": "month"}],
                        "measures": [{"key": "n", "agg": "count"},
                                     {"key": "avg", "agg": "avg", "field": "score"}]},
            "range": {"from": "2026-01-01", "to": "2026-03-31"}, "explain": True}
    response = api.post("/api/v1/datasets/query", headers=auth(api, name, "en"), json=body)
    assert response.status_code == 200
    out = response.json()
    # D1: r1 (Jan, 10), r2 (Jan, 40), r5 (Feb, 30)
    assert out["rows"] == [["2026-01", 2, 25.0], ["2026-02", 1, 30.0]]
    assert [(c["key"], c["role"], c["type"]) for c in out["columns"]] == [
        ("created_at_month", "dimension", "text"), ("n", "measure", "integer"), ("avg", "measure", "number")]
    assert out["period"] == {"from": "2026-01-01", "to": "2026-03-31"} and "GROUP BY" in out["sql"]


def test_a_bad_dataset_query_is_refused_with_located_problems(api):
    body = {"dataset": {"source": {"form": "hazard"}, "measures": [{"key": "s", "agg": "sum", "field": "area"}],
                        "filter": "score >"}}
    response = api.post("/api/v1/datasets/query", headers=auth(api, "boss"), json=body)
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    assert [p["path"] for p in problems] == ["dataset.filter", "dataset.measures[0].field"]
    shape = api.post("/api/v1/datasets/query", headers=auth(api, "boss"),
                     json={"dataset": {"source": {"form": "hazard"}, "measures": [{"key": "n", "agg": "median"}]}})
    assert shape.status_code == 422


def test_plotly_js_is_served_from_the_plotly_package(api):
    response = api.get("/static/plotly.min.js")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert b"plotly.js" in response.content[:500] and len(response.content) > 1_000_000


def test_the_openapi_schema_documents_every_report_route(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/dashboards/{key}", "/api/v1/dashboards/{key}/widgets/{widget_id}/drill",
                 "/api/v1/datasets/query", "/api/v1/shared/{token}", "/api/v1/dashboards/{key}/export",
                 "/api/v1/prints/{key}/records/{record_id}"):
        for operation in paths[path].values():
            assert operation["summary"]


def test_clicking_a_map_area_lists_its_records(api, plant):
    body = api.get("/api/v1/dashboards/hazard_overview/widgets/floor", headers=auth(api, "boss")).json()
    clicked = body["figure"]["data"][2]["customdata"][0]  # area C's polygon
    response = api.post("/api/v1/dashboards/hazard_overview/widgets/floor/drill", headers=auth(api, "boss"),
                        json={"point": {"area": clicked[0]}})
    assert [r["id"] for r in response.json()["records"]] == [plant.records["r7"], plant.records["r5"]]
