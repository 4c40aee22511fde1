"""Sensor readings and inbound webhooks come in over the API and become events; old readings
are purged by a self-re-arming durable timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from engine.runtime.bootstrap import wire
from engine.runtime.ingest import ingest_readings
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store import readings
from engine.store.models import SensorReading, Timer
from tests.helpers import auth, grant, make_user


def _gateway(site: Site, client) -> dict[str, str]:
    make_user(site, "gateway", roles=("integrator",))
    grant(site, "integrator", "system", "ingest", "create")
    return auth(client, "gateway")


def test_a_batch_of_readings_is_stored_and_each_is_a_sensor_event(site: Site, client) -> None:
    heard: list[tuple[str, float]] = []
    site.on_event("probe", "sensor.", lambda s, e, _: heard.append((e.subject, e.data["value"])))
    headers = _gateway(site, client)
    body = {"readings": [{"metric": "gas_holder_pressure", "source": "GH-1", "value": [4.1, 4.2, 4.3][i],
                          "at": f"2026-11-23T08:0{i}:00+08:00"} for i in range(3)]}
    response = client.post("/api/v1/ingest/readings", json=body, headers=headers)
    assert response.status_code == 202 and response.json() == {"accepted": 3}
    site.drain()
    assert sorted(heard) == [("gas_holder_pressure", 4.1), ("gas_holder_pressure", 4.2), ("gas_holder_pressure", 4.3)]
    with site.session() as session:
        newest = readings.last(session, "gas_holder_pressure", "GH-1", 2)
    assert [r.value for r in newest] == [4.3, 4.2]
    assert newest[0].at == datetime(2026, 11, 23, 0, 2, tzinfo=UTC)


def test_bad_readings_are_all_reported_and_none_stored(site: Site, client) -> None:
    headers = _gateway(site, client)
    body = {"readings": [{"metric": "p", "source": "a", "value": 1},
                         {"metric": "", "source": "a", "value": 2},
                         {"metric": "p", "source": "a", "value": 3, "at": "2026-11-23T08:00:00"}]}
    response = client.post("/api/v1/ingest/readings", json=body, headers=headers)
    assert response.status_code == 422
    assert sorted(p["path"] for p in response.json()["error"]["problems"]) == ["readings[1].metric",
                                                                               "readings[2].at"]
    with site.session() as session:
        assert session.execute(select(func.count()).select_from(SensorReading)).scalar_one() == 0


def test_ingest_needs_the_ingest_grant(site: Site, client) -> None:
    make_user(site, "visitor")
    response = client.post("/api/v1/ingest/readings", json={"readings": []}, headers=auth(client, "visitor"))
    assert response.status_code == 403


def test_an_inbound_webhook_becomes_an_event_with_its_body(site: Site, client) -> None:
    heard: list[tuple[str, dict]] = []
    site.on_event("probe", "webhook.", lambda s, e, _: heard.append((e.subject, dict(e.data))))
    headers = _gateway(site, client)
    response = client.post("/api/v1/ingest/webhooks/mes_stop", json={"line": "L2", "reason": "leak"}, headers=headers)
    assert response.status_code == 202
    site.drain()
    assert heard == [("mes_stop", {"line": "L2", "reason": "leak"})]


def test_readings_older_than_the_retention_are_purged_daily(settings) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    settings.sensor_retention_days = 30
    site = wire(Site(settings, clock=clock))
    now = clock.now()
    with site.session() as session:
        ingest_readings(session, site, [{"metric": "p", "source": "a", "value": 1, "at": now - timedelta(days=31)},
                                        {"metric": "p", "source": "a", "value": 2, "at": now - timedelta(days=29)}])
        ingest_readings(session, site, [{"metric": "p", "source": "a", "value": 3, "at": now}])
    site.drain()
    clock.advance(timedelta(days=1))
    site.drain()
    with site.session() as session:
        left = sorted(session.execute(select(SensorReading.value)).scalars())
        purge = session.execute(select(Timer).where(Timer.key == "readings:purge")).scalar_one()
    assert left == [2, 3]
    assert purge.status == "pending" and purge.due_at > clock.now()
    site.db.dispose()
