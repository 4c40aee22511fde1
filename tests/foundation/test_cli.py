"""The command line: db upgrade, user create, org import; errors are located and exit non-zero."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config import get_settings
from engine.runtime.site import Site
from engine.store.directory import SqlDirectory


@pytest.fixture
def runner(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SAFEFLOW_DATABASE_URL", site.settings.effective_database_url)
    monkeypatch.setenv("SAFEFLOW_DATA_DIR", str(site.settings.data_dir))
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_db_upgrade_then_current_reports_up_to_date(runner: CliRunner) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["db", "current"]).exit_code == 0


def test_user_create_makes_a_user_who_can_log_in(runner: CliRunner, site: Site) -> None:
    result = runner.invoke(app, ["user", "create", "ops", "--name", "Operator", "--password", "long-password"])
    assert result.exit_code == 0, result.output
    with site.session() as session:
        assert SqlDirectory(session).find_user("ops").name == "Operator"


def test_user_create_with_a_taken_name_fails_cleanly(runner: CliRunner) -> None:
    runner.invoke(app, ["user", "create", "dup", "--password", "long-password"])
    result = runner.invoke(app, ["user", "create", "dup", "--password", "long-password"])
    assert result.exit_code == 1
    assert "Username dup already exists" in result.output


def test_org_import_prints_each_problem_with_file_and_row(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("username,name\nx,\n", encoding="utf-8")
    result = runner.invoke(app, ["org", "import", str(path)])
    assert result.exit_code == 2
    assert "people.csv:2: name: name is required" in result.output
