"""Runtime wiring for notifications: outbox delivery runs as a pump on every tick."""

from __future__ import annotations

from engine.runtime.notify.delivery import deliver_due
from engine.runtime.site import Site


def wire_notifications(site: Site) -> None:
    # A dry-run site never delivers (its messages are suppressed anyway: two guards, not one).
    site.register_pump("outbox", lambda s: 0 if s.dry_run else deliver_due(s).touched)
