"""Why did (or didn't) it fire: stored firings over the API and `safeflow rules explain`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config import get_settings
from tests.helpers import auth, grant, make_user
from tests.rules.support import Plant


def _five(plant: Plant) -> tuple[int, list[int]]:
    plant.publish_rules()
    area = plant.create("area", name="Tank farm")
    return area, [plant.create("hazard", title="leak", area=area, category="fire") for _ in range(6)]


def test_firings_are_listed_with_each_sub_condition_and_action(plant: Plant) -> None:
    from fastapi.testclient import TestClient

    from engine.api.app import create_app

    _area, ids = _five(plant)
    make_user(plant.site, "auditor", roles=("ehs_viewer",))
    grant(plant.site, "ehs_viewer", "rule", "*", "read")
    with TestClient(create_app(site=plant.site, run_worker=False)) as client:
        headers = auth(client, "auditor")
        fired = client.get("/api/v1/rules/hazard_cluster/firings?outcome=fired", headers=headers).json()
        quiet = client.get(f"/api/v1/rules/hazard_cluster/firings?record_id={ids[0]}", headers=headers).json()
        why = client.get(f"/api/v1/rules/hazard_cluster/explain?record_id={ids[2]}", headers=headers).json()
        denied = client.get("/api/v1/rules/hazard_cluster/firings", headers=auth(client, "wang"))
    [firing] = fired
    assert (firing["record_id"], firing["version"], firing["trigger"]) == (ids[5], 1, "record.created")
    condition = firing["conditions"][0]
    assert condition["value"] is True
    count = condition["children"][0]
    assert (count["value"], count["detail"]["within"], count["detail"]["where"]) == (
        6, "7d", f'area == {firing["event"]["data"]["area"]} and category == "fire"')
    assert [(a["kind"], a["outcome"]) for a in firing["actions"]] == [
        ("raise_alert", "2 dead, 2 sent"), ("update_record", f"updated hazard #{ids[5]}")]
    assert [(f["outcome"], f["conditions"][0]["children"][0]["value"]) for f in quiet] == [("not_matched", 1)]
    assert why["firings"][0]["outcome"] == "not_matched" and why["now"]["value"] is True
    assert denied.status_code == 403


def test_the_cli_explains_a_record_in_words(plant: Plant, monkeypatch: pytest.MonkeyPatch) -> None:
    _area, ids = _five(plant)
    monkeypatch.setenv("SAFEFLOW_DATABASE_URL", plant.site.settings.effective_database_url)
    monkeypatch.setenv("SAFEFLOW_DATA_DIR", str(plant.site.settings.data_dir))
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["rules", "explain", "hazard_cluster", "--record", str(ids[4])])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "record.created: not_matched" in result.output
    assert "count(hazard where area == h.area and category == h.category, within 7d) → 5" in result.output
    assert "Evaluated now against the record as it is" in result.output
