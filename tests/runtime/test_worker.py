"""The worker as a real process: killed with due timers pending, restarted, every timer fires
exactly once — embedded, and as a Celery worker on Redis (skipped without SAFEFLOW_TEST_REDIS_URL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.runtime.site import Site
from engine.store.models import InboxMessage, Timer
from tests.helpers import make_user

REDIS_URL = os.environ.get("SAFEFLOW_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[2]
TIMERS = 12

MODES = ["embedded", pytest.param("celery", marks=[
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="Redis not configured: set SAFEFLOW_TEST_REDIS_URL (scripts/test does)")])]


def _start(site: Site, mode: str, queue: str, log: Path) -> subprocess.Popen:
    env = {**os.environ,
           "PYTHONPATH": str(ROOT),
           "SAFEFLOW_DATABASE_URL": site.settings.effective_database_url,
           "SAFEFLOW_DATA_DIR": str(site.settings.data_dir),
           "SAFEFLOW_WIRING": json.dumps(["tests.runtime.slow_wiring:wire"]),
           "SAFEFLOW_TIMER_LEASE_SECONDS": "2",
           "SAFEFLOW_WORKER_INTERVAL_SECONDS": "0.2",
           "SAFEFLOW_BROKER_URL": REDIS_URL if mode == "celery" else "",
           "SAFEFLOW_CELERY_QUEUE": queue,
           "SAFEFLOW_LOCALE": "en"}
    args = [sys.executable, "-m", "engine.cli", "worker"]
    if mode == "celery":
        args += ["--pool", "threads", "--concurrency", "2", "--loglevel", "warning"]
    # Own process group: Celery's beat runs in a child, and the kill must take it down too.
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _runs(site: Site) -> Counter[str]:
    with site.session(readonly=True) as session:
        return Counter(session.execute(select(InboxMessage.title)).scalars())


def _pending(site: Site) -> int:
    with site.session(readonly=True) as session:
        return session.execute(select(func.count()).where(Timer.status != "done")).scalar_one()


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_killed_worker_leaves_nothing_undone_and_nothing_done_twice(site: Site, mode: str, tmp_path: Path) -> None:
    user = make_user(site, "night-shift")
    now = site.clock.now()
    with site.session() as session:
        for i in range(TIMERS):
            site.timers(session).schedule("test.slow", now - timedelta(seconds=1), {"user": user}, key=f"slow-{i}")
    queue = f"safeflow-test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"

    first = _start(site, mode, queue, log)
    try:
        assert _wait(lambda: sum(_runs(site).values()) >= 3, 60), log.read_text()[-3000:]
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    assert _pending(site) > 0, "the kill came too late to leave timers pending"

    second = _start(site, mode, queue, log)
    try:
        assert _wait(lambda: _pending(site) == 0, 90), log.read_text()[-3000:]
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)

    runs = _runs(site)
    assert sorted(runs) == sorted(f"slow-{i}" for i in range(TIMERS))
    assert set(runs.values()) == {1}, runs
