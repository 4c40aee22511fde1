"""Fixtures for the bundled packs' tests: a PackPlant on either backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.config import Settings
from engine.runtime.bootstrap import wire
from engine.runtime.site import Site
from engine.services import ManualClock
from tests.packs.support import T0, PackPlant


def _plant(settings: Settings, start: datetime) -> Iterator[PackPlant]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = ManualClock(start)
    site = wire(Site(settings, clock=clock))
    with TestClient(create_app(site=site, run_worker=False), raise_server_exceptions=False) as client:
        yield PackPlant(site, clock, client)
    site.db.dispose()


@pytest.fixture
def plant(settings: Settings) -> Iterator[PackPlant]:
    yield from _plant(settings, T0)


@pytest.fixture
def plant_before_mid_autumn(settings: Settings) -> Iterator[PackPlant]:
    """Thursday 2026-09-24, 09:00 in Shanghai: the last working day before the Mid-Autumn
    holiday (Fri 25 – Sun 27) and a week before National Day (Oct 1–7) in base's calendar."""
    yield from _plant(settings, datetime(2026, 9, 24, 1, 0, tzinfo=UTC))
