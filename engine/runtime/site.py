"""The running site: settings, database, clock, and the wiring between engines.

Engines never import each other or this package; they receive session-bound services (timers,
notifier, event sink, directory) built here, and register what they do when a timer of their
kind falls due or an event they listen to arrives.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.events import Event
from engine.services import Clock, SystemClock
from engine.store import migrate, timers
from engine.store.db import Database
from engine.store.directory import SqlDirectory
from engine.store.timers import DueTimer, TimerRepository

log = logging.getLogger("safeflow.runtime")

EVENT_KIND = "event"
TimerHandler = Callable[[Session, DueTimer, "Site"], None]
EventListener = Callable[[Session, Event, "Site"], None]


@dataclass
class TickReport:
    ran: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class DurableEventSink:
    """Writes one timer per (event, interested listener) in the emitter's transaction: if the
    write rolls back, no listener hears of it; once it commits, every listener hears exactly once
    even across a crash."""

    def __init__(self, session: Session, site: Site) -> None:
        self.session = session
        self.site = site

    def emit(self, event: Event) -> None:
        event_id = uuid.uuid4().hex
        repo = TimerRepository(self.session, self.site.clock)
        names = self.site.listeners_for(event.kind)
        for name in names:
            repo.schedule(EVENT_KIND, event.at, {"listener": name, "event": event.to_dict()},
                          key=f"event:{event_id}:{name}")
        if names and not self.session.info.get("safeflow_wake"):
            # Wake the worker once the rows are visible to it, i.e. after commit.
            self.session.info["safeflow_wake"] = True
            sa_event.listen(self.session, "after_commit", lambda _s: self.site.wake(), once=True)


class Site:
    def __init__(self, settings: Settings, database: Database | None = None, clock: Clock | None = None) -> None:
        self.settings = settings
        self.db = database or Database(settings.effective_database_url)
        self.clock: Clock = clock or SystemClock()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._timer_handlers: dict[str, TimerHandler] = {}
        self._listeners: dict[str, tuple[str, EventListener]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.register_timer_handler(EVENT_KIND, _dispatch_event)

    # --- wiring -------------------------------------------------------------------------------

    def register_timer_handler(self, kind_prefix: str, handler: TimerHandler) -> None:
        """Handle every timer whose kind equals or starts with `kind_prefix` + "." (longest wins)."""
        self._timer_handlers[kind_prefix] = handler

    def on_event(self, name: str, kind_prefix: str, listener: EventListener) -> None:
        """Register a named listener for events whose kind starts with `kind_prefix`."""
        self._listeners[name] = (kind_prefix, listener)

    def listeners_for(self, kind: str) -> list[str]:
        return [name for name, (prefix, _) in self._listeners.items() if kind.startswith(prefix)]

    def listener(self, name: str) -> EventListener | None:
        entry = self._listeners.get(name)
        return entry[1] if entry else None

    def handler_for(self, kind: str) -> TimerHandler | None:
        best = None
        for prefix, handler in self._timer_handlers.items():
            if (kind == prefix or kind.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, handler)
        return best[1] if best else None

    # --- units of work ------------------------------------------------------------------------

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        with self.db.session(readonly=readonly) as session:
            yield session

    def timers(self, session: Session) -> TimerRepository:
        return TimerRepository(session, self.clock)

    def events(self, session: Session) -> DurableEventSink:
        return DurableEventSink(session, self)

    def directory(self, session: Session) -> SqlDirectory:
        return SqlDirectory(session)

    def migrate(self) -> None:
        migrate.upgrade(self.db.engine)

    # --- the tick -----------------------------------------------------------------------------

    def tick(self, limit: int = 100) -> TickReport:
        """Run the timers due now: claim a batch, run each handler in its own transaction."""
        report = TickReport()
        now = self.clock.now()
        with self.session() as session:
            due = timers.claim_due(session, self.worker_id, now, limit=limit)
        for timer in due:
            handler = self.handler_for(timer.kind)
            try:
                with self.session() as session:
                    if handler is None:
                        raise LookupError(f"no handler registered for timer kind {timer.kind!r}")
                    handler(session, timer, self)
                    timers.finish(session, timer.id, self.worker_id)
                report.ran += 1
            except Exception as exc:  # a failing handler must not stop the others
                log.exception("timer %s (%s) failed", timer.key, timer.kind)
                report.failed += 1
                report.errors.append(f"{timer.key}: {exc}")
                with self.session() as session:
                    timers.fail(session, timer.id, self.worker_id, traceback.format_exc(), now=self.clock.now())
        return report

    def drain(self, max_rounds: int = 100) -> TickReport:
        """Tick until nothing is due (bounded): tests and CLI dry runs use it to settle."""
        total = TickReport()
        for _ in range(max_rounds):
            report = self.tick()
            total.ran += report.ran
            total.failed += report.failed
            total.errors.extend(report.errors)
            if report.ran + report.failed == 0:
                break
        return total

    # --- the embedded worker ------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start_worker(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_worker, name="safeflow-worker", daemon=True)
        self._thread.start()

    def stop_worker(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run_worker(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:  # keep the worker alive through database hiccups
                log.exception("worker tick failed")
            self._wake.wait(self.settings.worker_interval_seconds)
            self._wake.clear()


def _dispatch_event(session: Session, timer: DueTimer, site: Site) -> None:
    listener = site.listener(timer.payload["listener"])
    if listener is None:
        log.warning("event listener %s is gone; dropping", timer.payload["listener"])
        return
    listener(session, Event.from_dict(timer.payload["event"]), site)
