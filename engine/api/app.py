"""The FastAPI application: routers, error handlers, the embedded worker's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import engine
from engine.api import errors
from engine.api.routers import (
    audit,
    dashboard_sharing,
    dashboards,
    datasets,
    files,
    flow_analytics,
    flows,
    forms,
    ingest,
    notifications,
    org,
    packs,
    prints,
    records,
    rules,
    static,
    system,
    tasks,
)
from engine.config import Settings, get_settings
from engine.runtime.bootstrap import prepare_site
from engine.runtime.site import Site

ROUTERS = [
    system.router, org.router, audit.router, packs.router, forms.router, records.router, files.router,
    flows.router, tasks.router, ingest.router, notifications.router, rules.router,
    dashboards.router, dashboard_sharing.router, datasets.router, prints.router, static.router, flow_analytics.router,
]

DESCRIPTION = """
SafeFlow's REST API. Log in at `/api/v1/auth/token` (OAuth2 password flow) and send
`Authorization: Bearer <token>`, or send an integrator's key as `X-API-Key`.
Errors are JSON `{"error": {"code", "message", "problems": [...]}}` with a stable `code` and a
message in the request's locale (`Accept-Language: zh-CN` or `en`, or `?lang=`).
"""


def create_app(
    settings: Settings | None = None, *, site: Site | None = None, run_worker: bool | None = None
) -> FastAPI:
    """Build the app. Given a `site`, use it as is (tests); otherwise prepare one from settings."""
    settings = settings or (site.settings if site else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.site is None:
            app.state.site, _ = prepare_site(settings)
        # With a broker the Celery workers tick (`safeflow worker`); otherwise this process does.
        start = run_worker if run_worker is not None else (site is None and not settings.broker_url)
        if start:
            app.state.site.start_worker()
        try:
            yield
        finally:
            app.state.site.stop_worker()

    app = FastAPI(title="SafeFlow", version=engine.__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.site = site
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
