"""Durable timers and the tick: idempotent scheduling, claiming with a lease, retries, restarts."""

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.events import Event
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store import timers
from engine.store.models import Timer
from engine.store.timers import DueTimer

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _site(settings: Settings) -> tuple[Site, ManualClock]:
    clock = ManualClock(T0)
    return Site(settings, clock=clock), clock


def test_scheduling_the_same_key_twice_keeps_one_timer(settings: Settings) -> None:
    site, _ = _site(settings)
    with site.session() as session:
        site.timers(session).schedule("flow.deadline", T0 + timedelta(hours=4), {"task": 1}, key="task:1")
        site.timers(session).schedule("flow.deadline", T0 + timedelta(hours=2), {"task": 1}, key="task:1")
    with site.session() as session:
        rows = session.execute(select(Timer)).scalars().all()
    assert len(rows) == 1 and rows[0].due_at == T0 + timedelta(hours=2)


def test_a_timer_runs_once_when_due_and_not_before(settings: Settings) -> None:
    site, clock = _site(settings)
    fired: list[dict] = []
    site.register_timer_handler("test", lambda session, due, _site: fired.append(dict(due.payload)))
    with site.session() as session:
        site.timers(session).schedule("test.ping", T0 + timedelta(minutes=30), {"n": 1}, key="ping")
    assert site.tick().ran == 0
    clock.advance(timedelta(minutes=31))
    assert site.tick().ran == 1
    assert site.tick().ran == 0
    assert fired == [{"n": 1}]


def test_a_cancelled_timer_never_fires(settings: Settings) -> None:
    site, clock = _site(settings)
    fired: list[str] = []
    site.register_timer_handler("test", lambda s, due, _: fired.append(due.key))
    with site.session() as session:
        repo = site.timers(session)
        repo.schedule("test.a", T0, {}, key="flow:7:a")
        repo.schedule("test.b", T0, {}, key="flow:7:b")
        repo.schedule("test.c", T0, {}, key="flow:8:c")
        repo.cancel("flow:7:a")
        repo.cancel_prefix("flow:7:")
    clock.advance(timedelta(seconds=1))
    site.tick()
    assert fired == ["flow:8:c"]


def test_a_failing_handler_is_retried_with_backoff_and_its_effects_roll_back(settings: Settings) -> None:
    site, clock = _site(settings)
    attempts: list[int] = []

    def flaky(session: Session, due: DueTimer, _site: Site) -> None:
        attempts.append(due.attempts)
        session.add(Timer(kind="test.side", key=f"side-{due.attempts}", due_at=T0 + timedelta(days=9), payload={}))
        if due.attempts == 1:
            raise RuntimeError("the mail server is down")

    site.register_timer_handler("test", flaky)
    with site.session() as session:
        site.timers(session).schedule("test.flaky", T0, {}, key="flaky")
    report = site.tick()
    assert report.failed == 1 and "mail server" in report.errors[0]
    clock.advance(timedelta(seconds=11))
    assert site.tick().ran == 1
    assert attempts == [1, 2]
    with site.session() as session:
        keys = set(session.execute(select(Timer.key)).scalars())
    assert "side-1" not in keys and "side-2" in keys


def test_in_a_batch_a_failing_handler_undoes_only_its_own_effects(settings: Settings) -> None:
    site, _ = _site(settings)

    def some_fail(session: Session, due: DueTimer, _site: Site) -> None:
        session.add(Timer(kind="test.side", key=f"side-{due.key}", due_at=T0 + timedelta(days=9), payload={}))
        session.flush()
        if due.key in {"t2", "t5"}:
            raise RuntimeError(f"{due.key} broke")

    site.register_timer_handler("test", some_fail)
    with site.session() as session:
        for i in range(8):
            site.timers(session).schedule("test.batch", T0, {}, key=f"t{i}")
    report = site.tick()
    assert (report.ran, report.failed) == (6, 2)
    assert sorted(e.split(":")[0] for e in report.errors) == ["t2", "t5"]
    with site.session() as session:
        rows = {r.key: r for r in session.execute(select(Timer)).scalars()}
    assert {k for k in rows if k.startswith("side-")} == {f"side-t{i}" for i in range(8) if i not in (2, 5)}
    assert rows["t2"].status == rows["t5"].status == "pending"  # retried later, with backoff
    assert all(rows[f"t{i}"].status == "done" for i in range(8) if i not in (2, 5))


def test_a_batch_that_cannot_commit_runs_its_timers_one_by_one(settings: Settings, monkeypatch) -> None:
    site, _ = _site(settings)
    fired: list[str] = []
    site.register_timer_handler("test", lambda s, due, _: fired.append(due.key))
    with site.session() as session:
        for i in range(3):
            site.timers(session).schedule("test.batch", T0, {}, key=f"b{i}")

    def cannot_commit(session: Session, ids: list[int], worker: str) -> int:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(timers, "finish_many", cannot_commit)
    report = site.tick()
    # The batch ran every handler, rolled back whole, and each timer then ran once on its own.
    assert fired == ["b0", "b1", "b2", "b0", "b1", "b2"] and report.ran == 3 and report.failed == 0
    with site.session() as session:
        assert set(session.execute(select(Timer.status)).scalars()) == {"done"}


def test_after_too_many_failures_a_timer_stays_failed_for_an_admin(settings: Settings) -> None:
    site, clock = _site(settings)

    def broken(session: Session, due: DueTimer, _site: Site) -> None:
        raise ValueError("bad payload")

    site.register_timer_handler("test", broken)
    with site.session() as session:
        site.timers(session).schedule("test.broken", T0, {}, key="broken")
    for _ in range(8):
        site.tick()
        clock.advance(timedelta(hours=2))
    with site.session() as session:
        row = session.execute(select(Timer).where(Timer.key == "broken")).scalar_one()
    assert row.status == "failed" and row.attempts == 5 and "bad payload" in (row.last_error or "")


def test_a_timer_claimed_by_a_worker_that_died_runs_after_its_lease(settings: Settings) -> None:
    site, clock = _site(settings)
    fired: list[str] = []
    site.register_timer_handler("test", lambda s, due, _: fired.append(due.key))
    with site.session() as session:
        site.timers(session).schedule("test.job", T0, {}, key="job")
    with site.session() as session:  # a worker claims it, then "crashes" before running it
        assert [t.key for t in timers.claim_due(session, "dead-worker", T0)] == ["job"]
    assert site.tick().ran == 0
    clock.advance(timedelta(minutes=6))
    assert site.tick().ran == 1 and fired == ["job"]


def test_a_restarted_site_fires_what_was_pending(settings: Settings) -> None:
    first, _ = _site(settings)
    with first.session() as session:
        first.timers(session).schedule("test.later", T0 + timedelta(hours=1), {"x": 1}, key="later")
    first.db.dispose()

    second, clock = _site(settings)  # a new process: nothing in memory
    fired: list[dict] = []
    second.register_timer_handler("test", lambda s, due, _: fired.append(dict(due.payload)))
    clock.advance(timedelta(hours=2))
    second.tick()
    assert fired == [{"x": 1}]


def test_two_workers_never_run_the_same_timer(settings: Settings) -> None:
    site, _clock = _site(settings)
    seen: list[str] = []
    lock = threading.Lock()

    def record(session: Session, due: DueTimer, _site: Site) -> None:
        with lock:
            seen.append(due.key)

    with site.session() as session:
        repo = site.timers(session)
        for i in range(60):
            repo.schedule("test.n", T0 - timedelta(seconds=i), {}, key=f"n{i}")
    workers = [Site(settings, database=site.db, clock=site.clock) for _ in range(3)]
    for w in workers:
        w.register_timer_handler("test", record)
    threads = [threading.Thread(target=lambda w=w: [w.tick(limit=7) for _ in range(12)]) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(f"n{i}" for i in range(60))


def test_an_event_reaches_each_listener_once_after_commit(settings: Settings) -> None:
    site, _ = _site(settings)
    heard: list[tuple[str, str]] = []
    site.on_event("rules", "record.", lambda s, e, _: heard.append(("rules", e.kind)))
    site.on_event("flows", "record.created", lambda s, e, _: heard.append(("flows", e.kind)))
    with site.session() as session:
        site.events(session).emit(Event(kind="record.created", subject="hazard", record_id=1, at=T0))
        site.events(session).emit(Event(kind="record.updated", subject="hazard", record_id=1, at=T0))
    site.drain()
    site.drain()
    assert sorted(heard) == [("flows", "record.created"), ("rules", "record.created"), ("rules", "record.updated")]


def test_an_event_of_a_rolled_back_write_is_never_heard(settings: Settings) -> None:
    site, _ = _site(settings)
    heard: list[str] = []
    site.on_event("rules", "record.", lambda s, e, _: heard.append(e.kind))
    try:
        with site.session() as session:
            site.events(session).emit(Event(kind="record.created", subject="hazard", at=T0))
            raise RuntimeError("validation failed after the emit")
    except RuntimeError:
        pass
    site.drain()
    assert heard == []


def test_the_embedded_worker_wakes_on_commit(settings: Settings) -> None:
    site = Site(settings)
    done = threading.Event()
    site.on_event("probe", "record.", lambda s, e, _: done.set())
    site.settings.worker_interval_seconds = 30  # only the wake-up can make it fast
    site.start_worker()
    try:
        with site.session() as session:
            site.events(session).emit(Event(kind="record.created", subject="x"))
        assert done.wait(10)
    finally:
        site.stop_worker()
