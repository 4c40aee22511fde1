"""The flow engine's wiring: an engine per unit of work, and the handler for `flow.*` timers."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from engine import i18n
from engine.flows.engine import FlowEngine
from engine.flows.graph import CompiledFlow
from engine.flows.persistence import SqlFlowCatalog, SqlFlowStore
from engine.runtime.site import Site
from engine.services import Notification
from engine.store.models import InboxMessage
from engine.store.timers import DueTimer

# Compiled flows per site (a flow version is immutable within one database, not across them).
_COMPILED: WeakKeyDictionary[Site, dict[tuple[str, int], CompiledFlow]] = WeakKeyDictionary()


class InAppNotifier:
    """Delivers flow notifications to users' in-app inboxes in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def notify(self, notification: Notification) -> None:
        context = dict(notification.context)
        title = i18n.message(notification.template, None, **context) if notification.template else ""
        for recipient in notification.to:
            if recipient.kind != "user":
                continue
            self.session.add(InboxMessage(
                user_id=int(recipient.value), title=title, body="",
                link=f"/flows/instances/{context['instance']}" if "instance" in context else None,
                source=dict(notification.source)))


def flow_engine(session: Session, site: Site, **overrides: Any) -> FlowEngine:
    """A FlowEngine whose every step runs inside `session`'s transaction."""
    notifier_factory = getattr(site, "notifier", None)
    options: dict[str, Any] = {
        "store": SqlFlowStore(session=session, clock=site.clock, timers=site.timers(session)),
        "catalog": SqlFlowCatalog(session),
        "directory": site.directory(session),
        "clock": site.clock,
        "notifier": notifier_factory(session) if callable(notifier_factory) else InAppNotifier(session),
        "events": site.events(session),
        "compiled": _COMPILED.setdefault(site, {}),
    }
    options.update(overrides)
    return FlowEngine(**options)


def handle_flow_timer(session: Session, timer: DueTimer, site: Site) -> None:
    flow_engine(session, site).on_timer(timer.kind, timer.key, dict(timer.payload))


def wire_flows(site: Site) -> None:
    site.register_timer_handler("flow", handle_flow_timer)
