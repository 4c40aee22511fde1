from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from engine.config import Settings
from engine.runtime.bootstrap import wire
from engine.runtime.site import Site
from engine.services import ManualClock

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def csite(settings: Settings, clock: ManualClock) -> Iterator[Site]:
    """A wired site whose clock only moves when the test says so (backoff, leases)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    site = wire(Site(settings, clock=clock))
    yield site
    site.db.dispose()
