"""Checking dashboard definitions: every problem at once, at its file, line and column — shape
(unknown fields), consistency, and datasets against their forms (measures that do not fit the
field type); `safeflow check` and `safeflow report` on the command line; the published JSON
Schema is the one the models generate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from engine.cli import app
from engine.forms.model import FormDefinition
from engine.reports.checking import check_dashboard
from engine.reports.schema_file import render
from tests.reports.support import HAZARD
from tests.reports.test_widgets import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
FORMS = {"hazard": FormDefinition.model_validate(HAZARD)}


def check(body: Any) -> list[tuple[str, str | None, int | None, int | None]]:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=2)
    _, problems = check_dashboard(text, "board.json", resolve_form=FORMS.get)
    return [(p.code, p.path, p.line, p.column) for p in problems]


def line_of(body: dict[str, Any], needle: str, *, last: bool = False) -> int:
    """The 1-based line of `needle` in the body as `check` writes it."""
    lines = json.dumps(body, ensure_ascii=False, indent=2).splitlines()
    found = [i for i, line in enumerate(lines, start=1) if needle in line]
    return found[-1] if last else found[0]


def minimal(**widget: Any) -> dict[str, Any]:
    base = {"type": "bar", "id": "w", "x": "area", "y": ["n"],
            "dataset": {"source": {"form": "hazard"}, "dimensions": [{"field": "area"}],
                        "measures": [{"key": "n", "agg": "count"}]}}
    return {"key": "board", "title": {"zh": "看板", "en": "Board"}, "widgets": [{**base, **widget}]}


def test_the_published_json_schema_is_generated_from_the_models():
    committed = (ROOT / "docs/schemas/dashboard.schema.json").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m engine.reports.schema_file"


def test_the_example_dashboard_is_valid_against_the_schema_and_the_checks():
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(render())).validate(body)
    assert check(EXAMPLE.read_text(encoding="utf-8")) == []


def test_an_unknown_property_is_named_with_its_line_and_column():
    body = minimal()
    body["widgets"][0]["colour"] = "red"
    assert check(body) == [("reports.unknown_property", "widgets[0].colour", line_of(body, '"colour"'), 17)]


def test_an_unknown_widget_type_suggests_the_closest():
    _, problems = check_dashboard(json.dumps(minimal(type="barr")), resolve_form=FORMS.get)
    assert problems[0].code == "reports.unknown_widget" and problems[0].params["hint"] == "bar"
    assert problems[0].path == "widgets[0].type"


def test_a_measure_that_does_not_fit_its_field_type_is_refused():
    body = minimal(dataset={"source": {"form": "hazard"}, "dimensions": [{"field": "area"}],
                            "measures": [{"key": "n", "agg": "avg", "field": "title"}]})
    [(code, path, line, column)] = check(body)
    assert (code, path) == ("reports.measure_kind", "widgets[0].dataset.measures[0].field")
    assert (line, column) == (line_of(body, '"field": "title"'), 22)


def test_an_unknown_field_and_a_bad_filter_are_all_reported_at_once():
    body = minimal(dataset={"source": {"form": "hazard"}, "dimensions": [{"field": "zone"}],
                            "filter": 'level == "major" and', "measures": [{"key": "n", "agg": "count"}]})
    found = check(body)
    assert [(c, p) for c, p, _, _ in found] == [
        ("reports.widget_column", "widgets[0].x"), ("expr.syntax.unexpected_token", "widgets[0].dataset.filter"),
        ("reports.unknown_field", "widgets[0].dataset.dimensions[0].field")]
    # the filter's problem points into the filter text, at its end (the quote opens at column 19;
    # each \" takes two columns in the file)
    assert found[1][2:] == (line_of(body, '"filter"'), 19 + 1 + len('level == "major" and') + 2)


def test_a_widget_naming_a_column_its_dataset_lacks_is_refused():
    assert [c[:2] for c in check(minimal(y=["count"]))] == [("reports.widget_column", "widgets[0].y[0]")]


def test_grid_ids_and_filters_are_consistent():
    body = minimal(layout={"x": 10, "w": 6}, ignore_filters=["site"])
    body["widgets"].append(dict(body["widgets"][0], layout={}, ignore_filters=[]))
    codes = [c[:2] for c in check(body)]
    assert ("reports.layout_overflow", "widgets[0].layout") in codes
    assert ("reports.unknown_filter", "widgets[0].ignore_filters[0]") in codes
    assert ("reports.duplicate_widget", "widgets[1].id") in codes


def test_a_dashboard_filter_on_a_field_a_widget_lacks_is_a_warning():
    body = minimal()
    body["filters"] = [{"key": "zone", "type": "select", "field": "zone"}]
    _, problems = check_dashboard(json.dumps(body), resolve_form=FORMS.get)
    assert [(p.code, p.severity) for p in problems] == [("reports.filter_not_applicable", "warning")]


def test_a_floor_map_point_outside_the_plan_is_refused():
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    floor = next(w for w in body["widgets"] if w["type"] == "floor_map")
    floor["areas"][0]["polygon"][1] = [900, 0]
    codes = [c[:2] for c in check(body)]
    assert codes == [("reports.map_point_outside", f"widgets[{body['widgets'].index(floor)}].areas[0].polygon[1]")]


def test_a_dataset_on_a_form_that_does_not_exist_is_refused():
    body = minimal(dataset={"source": {"form": "permit"}, "dimensions": [{"field": "area"}],
                            "measures": [{"key": "n", "agg": "count"}]})
    assert [c[:2] for c in check(body)] == [("reports.unknown_form", "widgets[0].dataset.source.form")]


def test_safeflow_check_prints_dashboard_problems_as_file_line_column(cli, tmp_path):
    (tmp_path / "hazard.json").write_text(json.dumps(HAZARD, ensure_ascii=False), encoding="utf-8")
    body = minimal(dataset={"source": {"form": "hazard"}, "dimensions": [{"field": "area"}],
                            "measures": [{"key": "n", "agg": "sum", "field": "area"}]})
    board = tmp_path / "board.json"
    board.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    result = cli.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    line = line_of(body, '"field": "area"', last=True)
    assert f"{board}:{line}:22:" in result.output
    assert "does not fit the field “area”" in result.output


def test_safeflow_check_warns_when_the_dashboards_form_is_not_among_the_files(cli, tmp_path):
    board = tmp_path / "board.json"
    board.write_text(json.dumps(minimal(), ensure_ascii=False, indent=2), encoding="utf-8")
    result = cli.invoke(app, ["check", str(board)])
    assert result.exit_code == 0 and "warning: Form hazard does not exist" in result.output


def test_safeflow_report_publishes_and_exports_xlsx(cli, plant, tmp_path):
    published = cli.invoke(app, ["report", "publish", str(EXAMPLE)])
    assert published.exit_code == 0, published.output
    assert "hazard_overview v1" in published.output
    out = tmp_path / "weekly.xlsx"
    result = cli.invoke(app, ["report", "export", "hazard_overview", "--format", "xlsx", "-o", str(out),
                              "--filters", '{"area": ["B"]}'])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    book = load_workbook(out)
    assert [[c.value for c in r] for r in book["Pareto by area"].iter_rows()] == [["Area", "Hazards"], ["Area 2", 2]]


def test_safeflow_report_publish_refuses_a_bad_file_with_its_place(cli, plant, tmp_path):
    body = minimal(dataset={"source": {"form": "hazard"}, "dimensions": [{"field": "area", "bucket": "week"}],
                            "measures": [{"key": "n", "agg": "count"}]})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    result = cli.invoke(app, ["report", "publish", str(bad)])
    flat = result.output.replace("\n", "")  # the console wraps long lines
    assert result.exit_code == 2 and f"{bad}:" in flat and "have time buckets" in flat
