"""Fixtures for the bundled packs' tests: a PackPlant on either backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.config import Settings
from engine.runtime.bootstrap import wire
from engine.runtime.site import Site
from engine.services import ManualClock
from tests.packs.support import T0, PackPlant


@pytest.fixture
def plant(settings: Settings) -> Iterator[PackPlant]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = ManualClock(T0)
    site = wire(Site(settings, clock=clock))
    with TestClient(create_app(site=site, run_worker=False), raise_server_exceptions=False) as client:
        yield PackPlant(site, clock, client)
    site.db.dispose()
