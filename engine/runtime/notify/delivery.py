"""The delivery worker: claim due outbox messages, send each outside any transaction, record
the outcome. The embedded worker calls `deliver_due`; under Celery the beat task claims and
fans out one `send_claimed` task per message (engine.runtime.worker), the same functions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from engine.runtime.notify.channels import CHANNELS, DeliveryFailed
from engine.store import outbox
from engine.store.outbox import ClaimedMessage

if TYPE_CHECKING:
    from engine.runtime.site import Site

log = logging.getLogger("safeflow.notify")


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def touched(self) -> int:
        return self.sent + self.failed + self.dead


def claim(site: Site, limit: int = 50) -> list[ClaimedMessage]:
    lease = timedelta(seconds=site.settings.timer_lease_seconds)
    with site.session() as session:
        return outbox.claim_due(session, site.clock.now(), limit=limit, lease=lease)


def send_claimed(site: Site, message: ClaimedMessage, report: DeliveryReport | None = None) -> str:
    """Send one claimed message and record sent / failed (retry later) / dead."""
    report = report if report is not None else DeliveryReport()
    channel = CHANNELS.get(message.channel)
    try:
        if channel is None or channel.local:
            raise DeliveryFailed(f"channel {message.channel!r} cannot be sent from the outbox", permanent=True)
        channel.send(message, site.settings)
    except DeliveryFailed as exc:
        with site.session() as session:
            state = outbox.mark_failed(
                session, message.id, message.attempts, str(exc), site.clock.now(),
                max_attempts=site.settings.outbox_max_attempts,
                backoff=timedelta(seconds=site.settings.outbox_backoff_seconds), permanent=exc.permanent)
        log.warning("outbox %s via %s to %s: %s (%s)", message.id, message.channel, message.recipient, exc, state)
        report.errors.append(f"{message.id}: {exc}")
        if state == "dead":
            report.dead += 1
        else:
            report.failed += 1
        return state
    with site.session() as session:
        outbox.mark_sent(session, message.id, message.attempts, site.clock.now())
    report.sent += 1
    return "sent"


def send_by_id(site: Site, message_id: int, attempts: int) -> str:
    """Celery's entry: re-read the claim (a redelivered task whose claim moved on does nothing)."""
    with site.session(readonly=True) as session:
        message = outbox.load_claimed(session, message_id, attempts)
    if message is None:
        return "stale"
    return send_claimed(site, message)


def deliver_due(site: Site, limit: int = 50) -> DeliveryReport:
    report = DeliveryReport()
    for message in claim(site, limit):
        send_claimed(site, message, report)
    return report
