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
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.events import Event
from engine.services import Clock, SystemClock
from engine.store import migrate, timers
from engine.store.db import Database
from engine.store.directory import SqlDirectory
from engine.store.timers import DueTimer, TimerRepository

if TYPE_CHECKING:
    from engine.runtime.notify import OutboxNotifier

log = logging.getLogger("safeflow.runtime")

EVENT_KIND = "event"
# How long one batch of timers may hold its transaction (and SQLite's write lock).
BATCH_SECONDS = 0.25
TimerHandler = Callable[[Session, DueTimer, "Site"], None]
EventListener = Callable[[Session, Event, "Site"], None]
# Decides at emit time, in the emitter's transaction, whether a listener wants this event at all
# (the rule engine: "does any rule in effect listen to it?"), so uninteresting events cost no row.
Interest = Callable[[Session, Event, "Site"], bool]
# A pump moves other queued work along on every tick (outbox delivery); returns how much it did.
Pump = Callable[["Site"], int]


@dataclass
class TickReport:
    ran: int = 0
    failed: int = 0
    pumped: int = 0
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
        names = [n for n in self.site.listeners_for(event.kind) if self.site.interested(n, self.session, event)]
        for name in names:
            # Due now, not at event.at: a reading stamped by a gateway whose clock runs ahead
            # must not wait for that moment to be heard.
            repo.add(EVENT_KIND, self.site.clock.now(), {"listener": name, "event": event.to_dict()},
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
        self._interest: dict[str, Interest] = {}
        self._pumps: dict[str, Pump] = {}
        # A dry-run site (`safeflow rules test`): notifications are written as suppressed and
        # never delivered, whatever the channel.
        self.dry_run = False
        # Called on wake() besides the embedded worker's event: under Celery, a hook that sends a
        # tick to the broker so work committed now runs now, not at the next beat.
        self.wakers: list[Callable[[], None]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.register_timer_handler(EVENT_KIND, _dispatch_event)

    # --- wiring -------------------------------------------------------------------------------

    def register_timer_handler(self, kind_prefix: str, handler: TimerHandler) -> None:
        """Handle every timer whose kind equals or starts with `kind_prefix` + "." (longest wins)."""
        self._timer_handlers[kind_prefix] = handler

    def register_pump(self, name: str, pump: Pump) -> None:
        """Run `pump(site)` after the timers on every tick (e.g. deliver the outbox)."""
        self._pumps[name] = pump

    def on_event(self, name: str, kind_prefix: str, listener: EventListener, *,
                 interested: Interest | None = None) -> None:
        """Register a named listener for events whose kind starts with `kind_prefix` (and, if
        given, for which `interested(session, event, site)` is true when the event is emitted)."""
        self._listeners[name] = (kind_prefix, listener)
        if interested is not None:
            self._interest[name] = interested
        else:
            self._interest.pop(name, None)

    def interested(self, name: str, session: Session, event: Event) -> bool:
        check = self._interest.get(name)
        return check is None or check(session, event, self)

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

    def notifier(self, session: Session, *, suppress: bool = False) -> OutboxNotifier:
        """The Notifier engines are handed: writes the outbox in `session`'s transaction."""
        from engine.runtime.notify import OutboxNotifier

        return OutboxNotifier(session, self.directory(session), locale=self.settings.locale, clock=self.clock,
                              suppress=suppress or self.dry_run, wake=self.wake)

    def migrate(self) -> None:
        migrate.upgrade(self.db.engine)

    # --- the tick -----------------------------------------------------------------------------

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.timer_lease_seconds)

    def claim_timers(self, limit: int = 100, worker: str | None = None) -> list[DueTimer]:
        with self.session() as session:
            return timers.claim_due(session, worker or self.worker_id, self.clock.now(), limit=limit,
                                    lease=self.lease)

    def run_timer(self, timer: DueTimer | int, worker: str | None = None, report: TickReport | None = None) -> bool:
        """Run one claimed timer's handler; its effects and the `done` mark commit together.

        The claim is re-read under a row lock first: a timer whose claim was taken over (its
        lease ran out, another worker ran it) or already finished is skipped, so a redelivered
        Celery task or a late worker never runs it a second time.
        """
        worker = worker or self.worker_id
        timer_id = timer if isinstance(timer, int) else timer.id
        label = str(timer_id)
        try:
            with self.session() as session:
                due = timers.load_claimed(session, timer_id, worker, lock=True)
                if due is None:
                    return False
                label = due.key
                self._handle(session, due)
                timers.finish(session, due.id, worker)
        except Exception as exc:  # a failing handler must not stop the others
            log.exception("timer %s failed", label)
            if report is not None:
                report.failed += 1
                report.errors.append(f"{label}: {exc}")
            with self.session() as session:
                timers.fail(session, timer_id, worker, traceback.format_exc(), now=self.clock.now())
            return False
        if report is not None:
            report.ran += 1
        return True

    def _handle(self, session: Session, due: DueTimer) -> None:
        handler = self.handler_for(due.kind)
        if handler is None:
            raise LookupError(f"no handler registered for timer kind {due.kind!r}")
        handler(session, due, self)

    def run_timers(self, due: list[DueTimer], worker: str | None = None, report: TickReport | None = None) -> None:
        """Run claimed timers a batch per transaction, each handler in its own savepoint.

        One commit per batch instead of one per timer is what lets a burst of events through at
        a useful rate on SQLite. A batch closes after `BATCH_SECONDS` so the write lock is never
        held long. A failing handler rolls back to its savepoint and is marked for retry in the
        same transaction; the others keep their effects. If a batch cannot commit at all, nothing
        of it happened (the claims stay ours) and its timers run again one by one, so one
        poisonous effect cannot hold the rest back.
        """
        worker = worker or self.worker_id
        rest = list(due)
        while rest:
            if len(rest) == 1:
                self.run_timer(rest[0], worker, report)
                return
            batch, rest = self._run_batch(rest, worker, report)
            if batch is not None:
                for timer in batch:
                    self.run_timer(timer, worker, report)

    def _run_batch(self, due: list[DueTimer], worker: str,
                   report: TickReport | None) -> tuple[list[DueTimer] | None, list[DueTimer]]:
        """(the timers to rerun one by one if the batch failed to commit, those not reached)."""
        started = time.monotonic()
        taken = due
        ran: list[str] = []
        failed: list[str] = []
        try:
            with self.session() as session:
                mine = timers.load_claimed_many(session, [t.id for t in due], worker, lock=True)
                finished: list[int] = []
                for index, timer in enumerate(due):
                    if index and time.monotonic() - started > BATCH_SECONDS:
                        taken = due[:index]
                        break
                    current = mine.get(timer.id)
                    if current is None:
                        continue
                    savepoint = session.begin_nested()
                    try:
                        self._handle(session, current)
                        savepoint.commit()
                    except Exception as exc:  # a failing handler must not stop the others
                        log.exception("timer %s failed", current.key)
                        if savepoint.is_active:
                            savepoint.rollback()
                        timers.fail(session, current.id, worker, traceback.format_exc(), now=self.clock.now())
                        failed.append(f"{current.key}: {exc}")
                        continue
                    finished.append(current.id)
                    ran.append(current.key)
                timers.finish_many(session, finished, worker)
        except Exception:
            log.exception("a batch of %d timers could not commit; running them one by one", len(taken))
            return taken, due[len(taken):]
        if report is not None:
            report.ran += len(ran)
            report.failed += len(failed)
            report.errors.extend(failed)
        return None, due[len(taken):]

    def tick(self, limit: int = 100) -> TickReport:
        """Run the timers due now (claim a batch, run it in one transaction with a savepoint per
        handler), then the pumps (outbox delivery)."""
        report = TickReport()
        self.run_timers(self.claim_timers(limit), report=report)
        for name, pump in list(self._pumps.items()):
            try:
                report.pumped += pump(self)
            except Exception as exc:
                log.exception("pump %s failed", name)
                report.errors.append(f"{name}: {exc}")
        return report

    def drain(self, max_rounds: int = 100) -> TickReport:
        """Tick until nothing is due (bounded): tests and CLI dry runs use it to settle."""
        total = TickReport()
        for _ in range(max_rounds):
            report = self.tick()
            total.ran += report.ran
            total.failed += report.failed
            total.errors.extend(report.errors)
            total.pumped += report.pumped
            if report.ran + report.failed + report.pumped == 0:
                break
        return total

    # --- the embedded worker ------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()
        for waker in self.wakers:
            try:
                waker()
            except Exception:  # a broker hiccup must not fail the commit that woke us
                log.exception("waking the workers failed")

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
