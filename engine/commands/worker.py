"""`safeflow worker`: run the timers and the outbox outside the web server.

Without a broker it is the embedded worker in the foreground (one process; what `serve` runs
in a thread). With SAFEFLOW_BROKER_URL=redis://… it is a Celery worker with beat; start more
with `--no-beat` to scale (exactly one beat per site).
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from engine import i18n
from engine.commands.common import cli_locale, console, open_site
from engine.config import get_settings


def worker(
    concurrency: Annotated[int, typer.Option(help="Tasks run at once by this Celery worker")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: threads, prefork or solo")] = "threads",
    beat: Annotated[bool, typer.Option(help="Also run beat (one per site; pass --no-beat to extra workers)")] = True,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "info",
) -> None:
    """Run due timers, rule schedules and notification delivery (Celery when a broker is set)."""
    settings = get_settings()
    if settings.broker_url:
        from engine.runtime.worker import run_celery_worker

        console.print(i18n.message("worker.celery", cli_locale(), broker=settings.broker_url.split("@")[-1]))
        run_celery_worker(concurrency=concurrency, pool=pool, beat=beat, loglevel=loglevel)
        return
    site = open_site()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    console.print(i18n.message("worker.embedded", cli_locale(), seconds=settings.worker_interval_seconds))
    site.start_worker()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        site.stop_worker()
        site.db.dispose()


i18n.register_messages({
    "worker.celery": {"zh-CN": "Celery 工作进程已启动，消息代理：{broker}", "en": "Celery worker on broker {broker}"},
    "worker.embedded": {"zh-CN": "未配置消息代理：内置工作进程每 {seconds} 秒运行一次",
                        "en": "No broker configured: embedded worker ticking every {seconds} s"},
})
