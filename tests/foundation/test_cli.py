"""The command line: db upgrade, user create, org import; errors are located and exit non-zero."""

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.runtime.site import Site
from engine.store.directory import SqlDirectory


def test_db_upgrade_then_current_reports_up_to_date(cli: CliRunner) -> None:
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert cli.invoke(app, ["db", "current"]).exit_code == 0


def test_user_create_makes_a_user_who_can_log_in(cli: CliRunner, site: Site) -> None:
    result = cli.invoke(app, ["user", "create", "ops", "--name", "Operator", "--password", "long-password"])
    assert result.exit_code == 0, result.output
    with site.session() as session:
        assert SqlDirectory(session).find_user("ops").name == "Operator"


def test_user_create_with_a_taken_name_fails_cleanly(cli: CliRunner) -> None:
    cli.invoke(app, ["user", "create", "dup", "--password", "long-password"])
    result = cli.invoke(app, ["user", "create", "dup", "--password", "long-password"])
    assert result.exit_code == 1
    assert "Username dup already exists" in result.output


def test_org_import_prints_each_problem_with_file_and_row(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("username,name\nx,\n", encoding="utf-8")
    result = cli.invoke(app, ["org", "import", str(path)])
    assert result.exit_code == 2
    assert "people.csv:2: name: name is required" in result.output
