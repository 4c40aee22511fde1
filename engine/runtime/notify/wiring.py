"""Runtime wiring for notifications: outbox delivery runs as a pump on every tick."""

from __future__ import annotations

from engine.runtime.notify.delivery import deliver_due
from engine.runtime.site import Site


def wire_notifications(site: Site) -> None:
    site.register_pump("outbox", lambda s: deliver_due(s).touched)
