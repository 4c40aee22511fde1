from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.config import Settings
from engine.runtime.bootstrap import wire
from engine.runtime.site import Site
from engine.services import ManualClock
from tests.rules.support import T0, Plant


@pytest.fixture
def plant(settings: Settings) -> Iterator[Plant]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = ManualClock(T0)
    site = wire(Site(settings, clock=clock))
    yield Plant(site, clock)
    site.db.dispose()
