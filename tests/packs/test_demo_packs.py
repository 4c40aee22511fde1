"""`safeflow demo` for the permits and inspections packs: permits walked through their eight
flows with crews, gas tests and checklists filled in, and the schedules' inspections carried
out (or missed), so both cockpits show real numbers on the first start.

SQLite only and small N, like test_demo.py: what matters here is what the data look like."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.config import Settings
from engine.runtime.demo import generate_demo
from engine.runtime.site import Site
from engine.store.models import Record, StoredTask
from tests.helpers import auth, make_user
from tests.packs.test_demo import UNTIL, db_url  # noqa: F401  (the SQLite-only database)


def _records(site: Site, form: str) -> list[dict[str, Any]]:
    with site.session() as session:
        rows = session.execute(select(Record.id, Record.data).where(Record.form == form).order_by(Record.id)).all()
        return [{"id": rid, **data} for rid, data in rows]


def _widgets(client: Any, key: str) -> dict[str, Any]:
    """The dashboard as an administrator sees it, over the demo's year."""
    make_user(client.app.state.site, "boss", admin=True)
    response = client.get(f"/api/v1/dashboards/{key}", headers=auth(client, "boss"),
                          params={"filters": json.dumps({"date": {"from": "2026-01-01", "to": "2026-12-31"}})})
    assert response.status_code == 200, response.text
    widgets = {w["id"]: w for w in response.json()["widgets"]}
    assert not [w["id"] for w in widgets.values() if w["error"]]
    return widgets


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_permits_demo_walks_the_eight_flows(site: Site, settings: Settings, client: Any) -> None:
    report = generate_demo(settings, ["permits"], 30, days=30, until=UNTIL)
    assert report.created["certificate"] == 19 and report.created["permit"] == 18
    permits = _records(site, "permit")
    kinds, states = Counter(p["kind"] for p in permits), Counter(p["state"] for p in permits)
    assert len(kinds) >= 5 and kinds.most_common(1)[0][0] in ("hot_work", "height"), kinds
    assert states["closed"] >= len(permits) // 2 and len(states) >= 3, states
    assert len({p["level"] for p in permits}) >= 5

    started = [p for p in permits if p.get("work_started_at")]
    for permit in started:  # what the start check demands held for every permit that started
        assert permit["certs_ok"] and permit["measures_done"] and permit["measures_open"] == 0, permit["no"]
        assert permit["workers"] and permit["guardian_checkin_at"] and len(permit["jsa"]) >= 2
        assert _at(permit["work_started_at"]) < _at(permit["planned_end"])
        confirmed = [m for m in permit["measures"] if m["involved"] == "yes"]
        assert confirmed and all(m["confirmed_by"] == permit["work_leader"] for m in confirmed)
        if permit["gas_required"]:
            times = [_at(g["sampled_at"]) for g in permit["gas"]]
            assert times == sorted(times) and permit["start_gas_ok"]
            assert _at(permit["work_started_at"]) - max(t for t in times if t <= _at(permit["work_started_at"])) \
                <= timedelta(minutes=30)
    samples = [g for p in permits for g in p.get("gas") or []]
    assert samples and any(not g["passed"] for g in samples)  # a failed first sample, re-tested
    for permit in (p for p in permits if p["kind"] in ("hot_work", "temp_power", "lifting")):
        assert all(w["cert_no"] for w in permit["workers"])
    # An expired certificate on the crew or the guardian: flagged, and the start check never let it start.
    flagged = [p for p in permits if p.get("certs_ok") is False]
    assert flagged and not any(p.get("work_started_at") for p in flagged)
    with site.session() as session:
        retested = session.execute(select(StoredTask.record_id).where(
            StoredTask.node == "start_check", StoredTask.decision == "reject")).scalars().all()
    assert retested and all(len(next(p for p in permits if p["id"] == r)["gas"]) >= 2 for r in retested)

    widgets = _widgets(client, "permits_overview")
    assert widgets["by_kind_level"]["data"]["rows"] and len(widgets["kind_level_table"]["data"]["rows"]) >= 5
    assert widgets["approval_time"]["summary"]["value"] > 0
    open_late = [p for p in permits if p["state"] in ("approved", "working", "suspended", "expired")
                 and _at(p["planned_end"]) < datetime.now(UTC)]
    assert open_late and widgets["overdue_closeout"]["summary"]["value"] == len(open_late)
    assert len(widgets["by_unit"]["data"]["rows"]) >= 3


def test_inspections_demo_carries_out_the_schedules(site: Site, settings: Settings, client: Any) -> None:
    report = generate_demo(settings, ["inspections"], 4, days=21, until=UNTIL)
    assert report.created["inspection_plan"] == 8 and "inspection" not in report.created  # the schedules wrote them
    inspections = _records(site, "inspection")
    states = Counter(i["state"] for i in inspections)
    assert states["done"] >= 10 and states["missed"] >= 1, states
    for done in (i for i in inspections if i["state"] == "done"):
        assert done["checkin_ok"] and done["items_checked"] == len(done["items"]) > 0
        assert all(r["photo"] for r in done["items"] if r["result"] == "fail")
        assert _at(done["due_at"]) - timedelta(hours=12) <= _at(done["checked_in_at"])
    raised = sum(i["hazards_raised"] or 0 for i in inspections)
    hazards = [h for h in _records(site, "hazard") if h.get("spot") and " / " in h["spot"]]
    assert raised >= 1 and len(hazards) == raised

    widgets = _widgets(client, "inspections_overview")
    rate = widgets["completion"]["summary"]["value"]
    assert 0 < rate < 1 and rate == states["done"] / (states["done"] + states["missed"])
    findings = [i["findings"] for i in inspections if i["state"] == "done"]
    assert widgets["findings_per_inspection"]["summary"]["value"] == sum(findings) / len(findings) > 0
    assert widgets["missed"]["summary"]["value"] == states["missed"]
    assert widgets["hazards_raised"]["summary"]["value"] == raised
