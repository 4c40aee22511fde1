"""Report tests run on a site whose clock the test controls (records are created at fixed
times; "now" is 2026-04-20 12:00 in Shanghai)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.config import Settings
from engine.runtime.bootstrap import wire
from engine.runtime.site import Site
from engine.services import ManualClock
from tests.reports.support import NOW, Plant, build_plant


@pytest.fixture
def rsite(settings: Settings) -> Iterator[Site]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    site = wire(Site(settings, clock=ManualClock(NOW)))
    yield site
    site.stop_worker()
    site.db.dispose()


@pytest.fixture
def plant(rsite: Site) -> Plant:
    return build_plant(rsite)
