"""Celery on top of the durable timers and the outbox (`safeflow worker` with a broker).

The database stays the source of truth; Celery only carries "go and look" messages. Beat sends
`safeflow.tick` every `worker_interval_seconds`; a tick claims due timers and due messages (the
same `FOR UPDATE SKIP LOCKED` claims the embedded worker uses) and fans out one `run_timer` /
`send_message` task per item, so more workers means more handlers running at once. Tasks are
acknowledged late and re-check their claim under a row lock: a redelivered task, or one whose
lease another worker took over after a crash, does nothing. A serving process wakes the workers
by sending a tick after each commit that queued work, so nothing waits for the next beat.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from celery import Celery

from engine.config import Settings, get_settings
from engine.runtime.bootstrap import wire
from engine.runtime.notify import delivery
from engine.runtime.site import Site

TICK = "safeflow.tick"
RUN_TIMER = "safeflow.run_timer"
SEND_MESSAGE = "safeflow.send_message"
BATCH = 100

_site_lock = threading.Lock()
_sites: dict[int, Site] = {}


def make_celery(settings: Settings, site: Site | None = None) -> Celery:
    """The Celery app for `settings`; its tasks use `site` (tests) or one Site per process."""
    app = Celery("safeflow", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule={"safeflow-tick": {"task": TICK, "schedule": settings.worker_interval_seconds}},
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        task_default_queue=settings.celery_queue,
    )

    def current_site() -> Site:
        if site is not None:
            return site
        key = id(app)
        with _site_lock:  # one Site per process, built after any fork
            if key not in _sites:
                _sites[key] = wire(Site(settings))
            return _sites[key]

    @app.task(name=TICK, shared=False)
    def tick() -> dict[str, int]:
        s = current_site()
        claim_id = f"celery:{uuid.uuid4().hex[:12]}"
        due = s.claim_timers(BATCH, worker=claim_id)
        for timer in due:
            app.send_task(RUN_TIMER, args=[timer.id, claim_id])
        messages = delivery.claim(s, BATCH)
        for message in messages:
            app.send_task(SEND_MESSAGE, args=[message.id, message.attempts])
        if len(due) == BATCH or len(messages) == BATCH:
            app.send_task(TICK)  # more is due: keep going without waiting for beat
        return {"timers": len(due), "messages": len(messages)}

    @app.task(name=RUN_TIMER, shared=False)
    def run_timer(timer_id: int, claim_id: str) -> bool:
        return current_site().run_timer(timer_id, worker=claim_id)

    @app.task(name=SEND_MESSAGE, shared=False)
    def send_message(message_id: int, attempts: int) -> str:
        return delivery.send_by_id(current_site(), message_id, attempts)

    return app


def broker_waker(app: Celery, min_interval: float = 0.2) -> Any:
    """A `site.wakers` hook: send one tick, at most every `min_interval` seconds per process."""
    last = [0.0]

    def wake() -> None:
        now = time.monotonic()
        if now - last[0] >= min_interval:
            last[0] = now
            app.send_task(TICK)

    return wake


def wire_broker(site: Site) -> None:
    """In a serving process with a broker configured, wake the Celery workers after commits."""
    if site.settings.broker_url:
        site.wakers.append(broker_waker(make_celery(site.settings)))


def worker_argv(settings: Settings, *, concurrency: int, pool: str, beat: bool, loglevel: str) -> list[str]:
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}",
            "--without-mingle", "--without-gossip", f"--queues={settings.celery_queue}",
            f"--hostname=safeflow-{uuid.uuid4().hex[:6]}@%h"]
    if beat:
        argv.append("--beat")
    return argv


def run_celery_worker(*, concurrency: int = 2, pool: str = "threads", beat: bool = True,
                      loglevel: str = "info") -> None:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings)
    app.worker_main(worker_argv(settings, concurrency=concurrency, pool=pool, beat=beat, loglevel=loglevel))
