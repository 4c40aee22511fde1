"""`safeflow check` and `safeflow form …` from the command line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from engine.cli import app
from engine.config import get_settings
from engine.runtime.site import Site
from tests.forms.support import HAZARD, label, publish_form, records


@pytest.fixture
def cli(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SAFEFLOW_DATABASE_URL", site.settings.effective_database_url)
    monkeypatch.setenv("SAFEFLOW_DATA_DIR", str(site.settings.data_dir))
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _write(path: Path, body: dict) -> Path:
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def test_check_prints_every_problem_as_file_line_column_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    body = json.loads(json.dumps(HAZARD))
    body["fields"][1]["max_lenght"] = 3
    body["fields"][3]["visible_if"] = 'levle == "major"'
    path = _write(tmp_path / "hazard.json", body)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.startswith(str(path))]
    assert len(lines) == 1 and "max_lenght" in lines[0]
    _, line, column, _ = lines[0].split(":", 3)
    assert int(line) > 1 and int(column) > 1


def test_check_passes_a_pack_folder_and_resolves_relations_between_its_forms(tmp_path: Path) -> None:
    _write(tmp_path / "hazard.json", HAZARD)
    _write(tmp_path / "area.json", {"key": "area", "title": label("区域", "Area"), "fields": [
        {"type": "text", "key": "name", "label": label("名称", "Name")}]})
    _write(tmp_path / "visit.json", {"key": "visit", "title": label("巡查", "Visit"), "fields": [
        {"type": "text", "key": "plant", "label": label("厂", "Plant")},
        {"type": "relation", "key": "area", "form": "area", "label": label("区域", "Area"),
         "filter": "name == record.plant"}]})
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    broken = json.loads((tmp_path / "visit.json").read_text())
    broken["fields"][1]["filter"] = "nmae == record.plant"
    _write(tmp_path / "visit.json", broken)
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "fields[1].filter" in result.output


def test_check_validates_a_flow_against_the_form_checked_with_it(tmp_path: Path) -> None:
    _write(tmp_path / "hazard.json", {"key": "hazard", "title": label("隐患", "Hazard"), "fields": [
        {"type": "text", "key": "level", "label": label("级别", "Level")}]})
    flow = {"key": "f", "form": "hazard", "nodes": [
        {"id": "start", "type": "start"}, {"id": "gw", "type": "exclusive"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "gw"}, {"from": "gw", "to": "end", "when": 'levle == "major"'},
                  {"from": "gw", "to": "end", "default": True}]}
    _write(tmp_path / "flow.json", flow)
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "flow.json:" in result.output and "level" in result.output  # did you mean "level"?


def test_check_warns_about_files_it_cannot_recognise(tmp_path: Path) -> None:
    _write(tmp_path / "notes.json", {"anything": 1})
    result = CliRunner().invoke(app, ["check", str(tmp_path / "notes.json")])
    assert result.exit_code == 0 and "warning" in result.output


def test_check_of_a_pack_library_checks_each_pack_as_a_pack(tmp_path: Path) -> None:
    """`safeflow check templates_library`: a pack's dictionaries are its seed data, not unknown
    definitions; a loose file beside the packs is still checked on its own."""
    library = Path(__file__).resolve().parents[2] / "templates_library"
    shutil.copytree(library / "base", tmp_path / "base")
    result = CliRunner().invoke(app, ["check", str(tmp_path)], env={"SAFEFLOW_LOCALE": "en"})
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output
    _write(tmp_path / "notes.json", {"anything": 1})
    dictionary = sorted((tmp_path / "base" / "seed" / "dictionaries").glob("*.json"))[0]
    dictionary.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path)], env={"SAFEFLOW_LOCALE": "en"})
    assert result.exit_code == 1
    assert dictionary.name in result.output and "notes.json" in result.output


def test_form_from_excel_writes_a_definition_that_checks(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.append(["检查项目", "是否合格", "备注"])
    workbook.active.append(["安全帽佩戴", None, None])
    workbook.active.append(["动火证齐全", None, None])
    source = tmp_path / "daily_check.xlsx"
    workbook.save(source)
    target = tmp_path / "daily_check.json"
    result = CliRunner().invoke(app, ["form", "from-excel", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    body = json.loads(target.read_text(encoding="utf-8"))
    assert body["key"] == "daily_check"
    assert [f["type"] for f in body["fields"]] == ["radio", "textarea", "radio", "textarea"]
    assert CliRunner().invoke(app, ["check", str(target)]).exit_code == 0


def test_form_import_reports_rows_and_export_writes_them(site: Site, cli: CliRunner, tmp_path: Path) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        records(site, session).create("hazard", {"title": "existing"})
    exported = tmp_path / "out.xlsx"
    result = cli.invoke(app, ["form", "export", "hazard", str(exported)])
    assert result.exit_code == 0, result.output
    assert load_workbook(exported).worksheets[0].max_row == 2
    bad = Workbook()
    bad.active.append(["Description", "Likelihood"])
    bad.active.append(["ok", 1])
    bad.active.append([None, 20])
    source = tmp_path / "in.xlsx"
    bad.save(source)
    result = cli.invoke(app, ["form", "import", "hazard", str(source), "--mode", "valid"])
    assert result.exit_code == 1
    assert "B3" in result.output and "A3" in result.output and "created 1" in result.output


def test_form_publish_publishes_a_file(site: Site, cli: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path / "hazard.json", HAZARD)
    result = cli.invoke(app, ["form", "publish", str(path)])
    assert result.exit_code == 0 and "hazard v1" in result.output


def test_check_only_warns_about_a_relation_to_a_form_outside_the_checked_files(tmp_path: Path) -> None:
    path = _write(tmp_path / "visit.json", {"key": "visit", "title": label("巡查", "Visit"), "fields": [
        {"type": "relation", "key": "area", "form": "area", "label": label("区域", "Area")}]})
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0 and "warning" in result.output and "area" in result.output
