"""The site's Notifier: turns a Notification into outbox rows in the caller's transaction.

One row per (channel, person) for person channels, one per notification for group robots, one
per raw address. In-app messages are written to the inbox right here (they need no network);
everything else waits for the delivery worker. A recipient without an address for a channel
gets a `dead` row saying so, so a missing phone number is visible, not silently skipped. With
`suppress=True` (dry runs) rows are written as `suppressed` and nothing ever leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from engine import i18n
from engine.directory import Directory, Person
from engine.runtime.notify.channels import CHANNELS
from engine.runtime.notify.recipients import resolve
from engine.runtime.notify.templates import render
from engine.services import Clock, Notification, SystemClock
from engine.store.models import InboxMessage, OutboxMessage


@dataclass(frozen=True)
class Queued:
    """What a notification turned into, for firings and dry-run output."""

    channel: str
    to: str
    status: str
    user_id: int | None = None
    error: str | None = None


class OutboxNotifier:
    def __init__(self, session: Session, directory: Directory, *, locale: str = i18n.DEFAULT_LOCALE,
                 clock: Clock | None = None, suppress: bool = False, wake: Callable[[], None] | None = None) -> None:
        self.session = session
        self.directory = directory
        self.locale = locale
        self.clock = clock or SystemClock()
        self.suppress = suppress
        self.wake = wake
        self.queued: list[Queued] = []

    # --- the Notifier protocol ---------------------------------------------------------------

    def notify(self, notification: Notification) -> list[Queued]:
        to = resolve(self.directory, notification.to)
        cc = resolve(self.directory, notification.cc)
        primary_ids = {p.id for p in to.people}
        people = [(p, False) for p in to.people] + [(p, True) for p in cc.people if p.id not in primary_ids]
        addresses = to.addresses + cc.addresses
        out: list[Queued] = []
        for name in notification.channels:
            channel = CHANNELS.get(name)
            if channel is None:
                out.append(self._row(name, name, None, "", "", {}, notification, error=f"unknown channel {name}"))
                continue
            if channel.group:
                mobiles = [p.phone for p, _ in people if p.phone]
                text = self._render(notification, self.locale, name, None, False)
                out.append(self._row(name, "default", None, text[0], text[1], {"mobiles": mobiles}, notification))
                continue
            for person, is_cc in people:
                address = channel.address(person)
                subject, body = self._render(notification, person.locale or self.locale, name, person, is_cc)
                if address is None:
                    out.append(self._row(name, person.username, person.id, subject, body, {}, notification,
                                         error=f"{person.username} has no {name} address"))
                    continue
                payload: dict[str, Any] = {"cc": is_cc}
                if name == "email" and notification.attachments:
                    payload["attachments"] = [dict(a) for a in notification.attachments]
                out.append(self._row(name, address, person.id, subject, body, payload, notification,
                                     inbox=channel.local))
            wanted = {"email": "email", "sms": "phone", "webhook": "url"}.get(name)
            for kind, address in addresses:
                if kind == wanted:
                    subject, body = self._render(notification, self.locale, name, None, False)
                    payload = {"json": {"subject": subject, "body": body, "context": dict(notification.context),
                                        "source": dict(notification.source)}} if name == "webhook" else {}
                    if name == "email" and notification.attachments:
                        payload["attachments"] = [dict(a) for a in notification.attachments]
                    out.append(self._row(name, address, None, subject, body, payload, notification))
        self.queued.extend(out)
        return out

    def call_webhook(self, url: str, body: Mapping[str, Any] | None, *, method: str = "POST",
                     source: Mapping[str, Any] | None = None) -> Queued:
        """A rule's or flow's "call webhook": a signed JSON request through the outbox."""
        note = Notification(to=(), source=dict(source or {}))
        queued = self._row("webhook", url, None, "", "", {"json": dict(body or {}), "method": method}, note)
        self.queued.append(queued)
        return queued

    # --- internals ---------------------------------------------------------------------------

    def _render(self, notification: Notification, locale: str, channel: str, person: Person | None,
                is_cc: bool) -> tuple[str, str]:
        context = dict(notification.context)
        if person is not None:
            context["recipient"] = {"id": person.id, "name": person.name, "username": person.username}
        context["cc"] = is_cc
        rendered = render(self.session, notification.template, locale, context, channel=channel,
                          subject=notification.subject, body=notification.body)
        return rendered.subject, rendered.body

    def _row(self, channel: str, recipient: str, user_id: int | None, subject: str, body: str,
             payload: Mapping[str, Any], notification: Notification, *, error: str | None = None,
             inbox: bool = False) -> Queued:
        now = self.clock.now()
        status = "suppressed" if self.suppress else ("dead" if error else ("sent" if inbox else "pending"))
        row = OutboxMessage(channel=channel, recipient=recipient[:255], user_id=user_id, subject=subject, body=body,
                            payload=dict(payload), source=dict(notification.source), status=status,
                            attempts=0, next_attempt_at=now, last_error=error,
                            sent_at=now if status == "sent" else None, created_at=now)
        self.session.add(row)
        if status == "sent" and user_id is not None:
            self.session.add(InboxMessage(user_id=user_id, title=subject, body=body,
                                          link=notification.context.get("link"), source=dict(notification.source),
                                          created_at=now))
        if status == "pending":
            self._wake_after_commit()
        return Queued(channel, recipient, status, user_id, error)

    def _wake_after_commit(self) -> None:
        if self.wake is None or self.session.info.get("safeflow_outbox_wake"):
            return
        self.session.info["safeflow_outbox_wake"] = True
        wake = self.wake
        sa_event.listen(self.session, "after_commit", lambda _s: wake(), once=True)
