"""Signed webhooks to a real HTTP server on 127.0.0.1: HMAC, retries with backoff, dead letters."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.runtime.notify import signing
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.models import OutboxMessage
from tests.notifications.servers import http_receiver

SECRET = "whsec-test-0123456789"


def _call(site: Site, url: str, body: dict) -> None:
    with site.session() as session:
        site.notifier(session).call_webhook(url, body, source={"rule": "gas"})


def _row(site: Site) -> OutboxMessage:
    with site.session() as session:
        return session.execute(select(OutboxMessage)).scalar_one()


def test_a_webhook_carries_an_hmac_signature_the_receiver_can_verify(csite: Site) -> None:
    csite.settings.webhook_secret = SECRET
    with http_receiver((200, {"ok": True})) as server:
        _call(csite, server.url + "/hooks/alarm", {"sensor": "GH-1", "value": 5.2})
        csite.drain()
    [request] = server.requests
    assert request.json() == {"sensor": "GH-1", "value": 5.2}
    assert signing.verify(SECRET, request.body, request.headers[signing.SIGNATURE_HEADER])
    assert not signing.verify("another-secret", request.body, request.headers[signing.SIGNATURE_HEADER])
    assert not signing.verify(SECRET, request.body + b" ", request.headers[signing.SIGNATURE_HEADER])
    assert request.headers[signing.DELIVERY_HEADER] == str(_row(csite).id)


def test_a_failing_receiver_is_retried_with_growing_delays_until_it_answers(csite: Site, clock: ManualClock) -> None:
    with http_receiver((500, {"error": "busy"}), (503, {}), (200, {"ok": True})) as server:
        _call(csite, server.url, {"n": 1})
        csite.drain()
        first = _row(csite)
        assert (first.status, first.attempts) == ("failed", 1)
        assert first.next_attempt_at == clock.now() + timedelta(seconds=30)
        clock.advance(timedelta(seconds=29))
        csite.drain()
        assert len(server.requests) == 1  # not before its time
        clock.advance(timedelta(seconds=2))
        csite.drain()
        second = _row(csite)
        assert (second.status, second.attempts) == ("failed", 2)
        assert second.next_attempt_at == clock.now() + timedelta(seconds=60)
        clock.advance(timedelta(seconds=61))
        csite.drain()
    done = _row(csite)
    assert (done.status, done.attempts, len(server.requests)) == ("sent", 3, 3)
    assert len({r.headers[signing.DELIVERY_HEADER] for r in server.requests}) == 1


def test_after_the_last_attempt_a_message_is_dead_lettered(csite: Site, clock: ManualClock) -> None:
    csite.settings.outbox_max_attempts = 3
    with http_receiver((502, {})) as server:
        _call(csite, server.url, {"n": 1})
        for _ in range(5):
            csite.drain()
            clock.advance(timedelta(hours=1))
    row = _row(csite)
    assert (row.status, row.attempts, len(server.requests)) == ("dead", 3, 3)
    assert "HTTP 502" in (row.last_error or "")


def test_a_client_error_is_dead_at_once_because_retrying_cannot_help(csite: Site) -> None:
    with http_receiver((404, {"error": "no such hook"})) as server:
        _call(csite, server.url, {"n": 1})
        csite.drain()
    assert (_row(csite).status, len(server.requests)) == ("dead", 1)


def test_a_message_whose_sender_died_mid_send_is_sent_by_another_worker(csite: Site, clock: ManualClock) -> None:
    from engine.store import outbox

    with http_receiver((200, {"ok": True})) as server:
        _call(csite, server.url, {"n": 1})
        with csite.session() as session:  # a worker claims it and dies before sending
            assert len(outbox.claim_due(session, clock.now(), lease=csite.lease)) == 1
        csite.drain()
        assert server.requests == []
        clock.advance(csite.lease + timedelta(seconds=1))
        csite.drain()
    assert _row(csite).status == "sent" and len(server.requests) == 1


def test_pending_messages_survive_a_restart(csite: Site, clock: ManualClock) -> None:
    from engine.runtime.bootstrap import wire

    with http_receiver((200, {"ok": True})) as server:
        _call(csite, server.url, {"n": 1})
        csite.db.dispose()
        restarted = wire(Site(csite.settings, clock=clock))
        restarted.drain()
        restarted.db.dispose()
    assert len(server.requests) == 1
