"""The same tick and delivery functions run as Celery tasks on a real Redis broker."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from engine.events import Event
from engine.runtime.site import Site
from engine.runtime.worker import broker_waker, make_celery
from engine.store.models import OutboxMessage
from tests.notifications.servers import http_receiver

REDIS_URL = os.environ.get("SAFEFLOW_TEST_REDIS_URL")
pytestmark = [pytest.mark.redis,
              pytest.mark.skipif(not REDIS_URL, reason="Redis not configured: set SAFEFLOW_TEST_REDIS_URL")]


def test_a_celery_worker_runs_listeners_and_delivers_the_outbox_woken_by_the_commit(site: Site) -> None:
    from celery.contrib.testing.worker import start_worker

    site.settings.broker_url = REDIS_URL or ""
    site.settings.celery_queue = f"safeflow-test-{uuid.uuid4().hex[:8]}"
    app = make_celery(site.settings, site=site)
    site.wakers.append(broker_waker(app, min_interval=0))
    heard = threading.Event()

    def listener(session, event, s) -> None:
        s.notifier(session).call_webhook(server.url + "/alarm", {"sensor": event.subject})
        heard.set()

    site.on_event("alarm", "sensor.", listener)
    with http_receiver((200, {"ok": True})) as server, start_worker(app, pool="solo", perform_ping_check=False,
                                                                      queues=[site.settings.celery_queue]):
        with site.session() as session:
            site.events(session).emit(Event(kind="sensor.reading", subject="GH-1"))
        assert heard.wait(20)
        deadline = time.monotonic() + 20
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [r.json() for r in server.requests] == [{"sensor": "GH-1"}]
    with site.session() as session:
        assert session.execute(select(OutboxMessage.status)).scalar_one() == "sent"
