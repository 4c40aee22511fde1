"""Shared fixtures: a fresh migrated database per test on SQLite and (when configured) on
PostgreSQL, a Site wired like production, an API client, and helpers to make people.

`db_url` is parametrised over backends: tests that take it (or `site`, `client`) run on SQLite
always and on PostgreSQL when SAFEFLOW_TEST_DATABASE_URL is set (scripts/test sets it; CI
always has it). Each test starts from an empty, fully migrated schema.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.config import Settings
from engine.identity.secrets import configure_hasher
from engine.runtime.bootstrap import wire
from engine.runtime.site import Site
from engine.store import migrate
from engine.store.base import Base
from engine.store.db import Database

PG_URL = os.environ.get("SAFEFLOW_TEST_DATABASE_URL")

# Same algorithm (argon2id), a fraction of the production cost: tests log in hundreds of times.
configure_hasher(time_cost=1, memory_cost=1024)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _worker() -> str:
    """This test process's name, unique across concurrent runs against one PostgreSQL server
    (each run's xdist workers share its run id; a run without xdist uses its pid)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{run}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture(scope="session")
def pg_worker_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set SAFEFLOW_TEST_DATABASE_URL (scripts/test does)")
    base = make_url(PG_URL)
    name = f"{base.database}_{_worker()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty, migrated database of the parametrised backend."""
    if request.param == "sqlite":
        target = tmp_path / "safeflow.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("pg_worker_url")
    _truncate_all(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, secret_key="test-secret-key-" + "x" * 32,
                    admin_password="admin-password", worker_interval_seconds=0.05)


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    site = wire(Site(settings))
    yield site
    site.stop_worker()
    site.db.dispose()


@pytest.fixture
def client(site: Site) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from engine.api.app import create_app

    with TestClient(create_app(site=site, run_worker=False), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def cli(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Typer CliRunner whose `safeflow` commands use this test's database, in English."""
    from typer.testing import CliRunner

    from engine.config import get_settings

    monkeypatch.setenv("SAFEFLOW_DATABASE_URL", site.settings.effective_database_url)
    monkeypatch.setenv("SAFEFLOW_DATA_DIR", str(site.settings.data_dir))
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
