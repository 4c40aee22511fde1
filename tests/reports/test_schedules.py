"""Scheduled delivery: the dashboard's export e-mailed on a durable timer through the outbox
(a real SMTP server on loopback receives it), and the next run scheduled."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from engine.api.app import create_app
from engine.reports.schedules import next_run
from engine.store.models import OutboxMessage, Timer
from tests.helpers import auth, make_user
from tests.notifications.servers import smtp_server
from tests.reports.support import Plant
from tests.reports.test_widgets import EXAMPLE

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHROMIUM = os.environ.get("SAFEFLOW_TEST_CHROMIUM")


@pytest.mark.parametrize(("cadence", "weekday", "day", "after", "expected"), [
    # 2026-04-20 is a Monday; 12:00 in Shanghai is 04:00Z
    ("daily", None, None, "2026-04-20T04:00:00+00:00", "2026-04-21T00:00:00+00:00"),
    ("daily", None, None, "2026-04-19T23:00:00+00:00", "2026-04-20T00:00:00+00:00"),
    ("weekly", 0, None, "2026-04-20T04:00:00+00:00", "2026-04-27T00:00:00+00:00"),
    ("weekly", 4, None, "2026-04-20T04:00:00+00:00", "2026-04-24T00:00:00+00:00"),
    ("monthly", None, 1, "2026-04-20T04:00:00+00:00", "2026-05-01T00:00:00+00:00"),
])
def test_the_next_run_is_the_first_local_time_on_the_schedule(cadence, weekday, day, after, expected):
    assert next_run(cadence, weekday, day, "08:00", datetime.fromisoformat(after), SHANGHAI) == \
        datetime.fromisoformat(expected)


@pytest.fixture
def api(plant: Plant):
    with TestClient(create_app(site=plant.site, run_worker=False), raise_server_exceptions=False) as client:
        make_user(plant.site, "boss", admin=True)
        make_user(plant.site, "safety_manager", email="manager@example.test")
        client.put("/api/v1/dashboards/hazard_overview", headers=auth(client, "boss"),
                   json=json.loads(EXAMPLE.read_text(encoding="utf-8")))
        yield client


def schedule(api: TestClient, plant: Plant, fmt: str) -> dict:
    response = api.post("/api/v1/dashboards/hazard_overview/schedules", headers=auth(api, "boss"),
                        json={"format": fmt, "recipients": [{"kind": "email", "value": "manager@example.test"},
                                                            {"kind": "role", "value": "nobody_has_it"}],
                              "cadence": "weekly", "weekday": 0, "time": "08:00", "filters": {"area": ["A"]}})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_schedule_arms_a_durable_timer_for_its_next_run(api, plant):
    created = schedule(api, plant, "xlsx")
    # now is Monday 2026-04-20 12:00 in Shanghai: the next Monday 08:00 is 04-27 00:00Z
    assert created["next_at"].startswith("2026-04-27T00:00:00")
    with plant.site.session() as session:
        timer = session.execute(select(Timer).where(Timer.kind == "report.deliver")).scalar_one()
        assert timer.due_at == datetime(2026, 4, 27, tzinfo=UTC) and timer.payload == {"schedule": created["id"]}


def test_the_weekly_report_is_emailed_with_its_export_attached(api, plant):
    created = schedule(api, plant, "xlsx")
    plant.site.clock.set(datetime(2026, 4, 27, 0, 0, 5, tzinfo=UTC))
    with smtp_server() as mailbox:
        plant.site.settings.smtp_host, plant.site.settings.smtp_port = "127.0.0.1", mailbox.port
        plant.site.drain()
    [(recipients, message)] = mailbox.messages
    assert recipients == ["manager@example.test"] and message["Subject"] == "【隐患驾驶舱】2026-04-27"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "hazard_overview-20260427-0800.xlsx"
    book = load_workbook(io.BytesIO(attachment.get_content()))
    # filtered to area A: r1, r6 general, r2 major
    rows = [[c.value for c in row] for row in book["区域×级别"].iter_rows()]
    assert rows == [["区域", "级别", "隐患数"], ["一号区", "一般", 2], ["一号区", "重大", 1]]
    listed = api.get("/api/v1/dashboards/hazard_overview/schedules", headers=auth(api, "boss")).json()
    assert listed[0]["last_sent_at"].startswith("2026-04-27") and listed[0]["next_at"].startswith("2026-05-04")
    with plant.site.session() as session:
        statuses = [m.status for m in session.execute(select(OutboxMessage)).scalars()]
        assert statuses == ["sent"]
    assert created["id"] == listed[0]["id"]


@pytest.mark.skipif(not CHROMIUM, reason="Chromium not configured: set SAFEFLOW_TEST_CHROMIUM")
def test_a_pdf_report_is_attached_as_a_pdf(api, plant, monkeypatch):
    monkeypatch.setenv("SAFEFLOW_CHROMIUM", CHROMIUM or "")
    schedule(api, plant, "pdf")
    plant.site.clock.set(datetime(2026, 4, 27, 0, 0, 5, tzinfo=UTC))
    with smtp_server() as mailbox:
        plant.site.settings.smtp_host, plant.site.settings.smtp_port = "127.0.0.1", mailbox.port
        plant.site.drain()
    [(_, message)] = mailbox.messages
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_content().startswith(b"%PDF-")


def test_a_stopped_schedule_sends_nothing(api, plant):
    created = schedule(api, plant, "xlsx")
    response = api.delete(f"/api/v1/dashboards/hazard_overview/schedules/{created['id']}", headers=auth(api, "boss"))
    assert response.json()["active"] is False
    plant.site.clock.set(datetime(2026, 4, 27, 0, 0, 5, tzinfo=UTC))
    plant.site.drain()
    with plant.site.session() as session:
        assert session.execute(select(OutboxMessage)).first() is None


def test_a_bad_schedule_is_refused_with_its_place(api):
    response = api.post("/api/v1/dashboards/hazard_overview/schedules", headers=auth(api, "boss"),
                        json={"format": "doc", "recipients": [], "time": "25:00"})
    assert response.status_code == 422
    paths = {p["path"] for p in response.json()["error"]["problems"]}
    assert {"format", "recipients", "time"} <= paths
