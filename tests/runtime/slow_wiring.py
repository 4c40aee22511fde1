"""A wiring hook for worker tests (loaded through the `wiring` setting in a child process): a
timer kind whose handler takes a while and leaves one inbox row per run, so a test can kill the
worker mid-handler and count how often each timer really ran."""

from __future__ import annotations

import os
import time

from sqlalchemy.orm import Session

from engine.runtime.site import Site
from engine.store.models import InboxMessage
from engine.store.timers import DueTimer


def wire(site: Site) -> None:
    def slow(session: Session, timer: DueTimer, _site: Site) -> None:
        session.add(InboxMessage(user_id=int(timer.payload["user"]), title=timer.key, body="started"))
        session.flush()
        time.sleep(float(os.environ.get("SLOW_HANDLER_SECONDS", "0.3")))

    site.register_timer_handler("test.slow", slow)
