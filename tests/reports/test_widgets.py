"""Every widget type renders a valid Plotly figure from the example dashboard, and shows what the
plant's records say (counts from tests/reports/support.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from engine.forms.catalog import FormCatalog
from engine.reports import Viewer
from engine.reports.checking import load_dashboard
from engine.reports.dashboard import Dashboard
from engine.reports.render import DashboardRun, WidgetOutput
from engine.reports.widgets import widget_types
from tests.reports.support import NOW, Plant

EXAMPLE = Path(__file__).parent / "dashboards" / "hazard_overview.json"


def example(plant: Plant) -> Dashboard:
    with plant.site.session() as session:
        return load_dashboard(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE),
                              resolve_form=FormCatalog(session).definition)


def render(plant: Plant, locale: str = "zh-CN", values: dict[str, Any] | None = None) -> dict[str, WidgetOutput]:
    dashboard = example(plant)
    with plant.site.session() as session:
        run = DashboardRun(session, dashboard, Viewer(), NOW, plant.site.settings.tz, locale, values or {})
        return {out.id: out for out in run.all()}


@pytest.fixture
def outputs(plant: Plant) -> dict[str, WidgetOutput]:
    return render(plant)


def test_the_example_uses_every_widget_type_and_there_are_at_least_fourteen(plant):
    used = {w.type for w in example(plant).widgets}
    assert used == set(widget_types()) and len(used) >= 14


def test_every_widget_type_renders_a_valid_plotly_figure(outputs):
    for out in outputs.values():
        assert out.error is None, (out.id, out.error)
        figure = go.Figure(out.figure)  # raises on any property Plotly does not know
        assert figure.data, out.id
        json.dumps(out.figure)


def test_kpi_shows_the_value_its_target_and_a_traffic_light(outputs):
    kpi = outputs["closed_rate"]
    # closed 5 of 7 = 71 %: below the 90 % target, above the 70 % yellow line
    assert kpi.summary == {"value": pytest.approx(5 / 7), "previous": None, "change": None, "target": 0.9,
                           "status": "yellow"}
    trace = kpi.figure["data"][0]
    assert trace["type"] == "indicator" and trace["number"]["font"]["color"] == "#f9a825"
    assert "目标 90%" in trace["title"]["text"]


def test_gauge_draws_bands_and_the_target(outputs):
    gauge = outputs["closed_gauge"].figure["data"][0]["gauge"]
    assert gauge["threshold"]["value"] == 0.9 and gauge["axis"]["range"] == [0, 1.0]
    assert [s["range"] for s in gauge["steps"]] == [[0, 0.7], [0.7, 0.9], [0.9, 1.0]]


def test_line_follows_the_months_and_keeps_the_clicked_value(outputs):
    trace = outputs["trend"].figure["data"][0]
    assert trace["x"] == ["2026-01", "2026-02", "2026-04"] and trace["y"] == [3, 2, 2]
    assert trace["customdata"] == [["2026-01"], ["2026-02"], ["2026-04"]]


def test_area_stacks_one_trace_per_series_value_named_by_its_label(outputs):
    traces = outputs["trend_by_level"].figure["data"]
    assert [t["name"] for t in traces] == ["一般", "重大"] and all(t["stackgroup"] == "one" for t in traces)
    # general: Jan r1 r3, Feb r5, Apr r6; major: Jan r2, Feb r4, Apr r7
    assert [t["y"] for t in traces] == [[2, 1, 1], [1, 1, 1]]


def test_bar_can_be_stacked_and_horizontal(outputs):
    figure = outputs["by_area"].figure
    assert figure["layout"]["barmode"] == "stack"
    general = figure["data"][0]
    assert general["orientation"] == "h" and general["y"] == ["一号区", "二号区", "三号区"]
    assert general["x"] == [2, 1, 1]
    assert general["customdata"][0] == ["A", "general"]


def test_pie_with_a_hole_is_a_donut_of_labelled_shares(outputs):
    trace = outputs["levels"].figure["data"][0]
    assert trace["labels"] == ["一般", "重大"] and trace["values"] == [4, 3] and trace["hole"] == 0.5


def test_radar_closes_its_polygon(outputs):
    trace = outputs["area_profile"].figure["data"][0]
    assert trace["type"] == "scatterpolar" and trace["r"] == [3, 2, 2, 3]


def test_heatmap_places_each_count_in_its_cell(outputs):
    trace = outputs["area_week"].figure["data"][0]
    assert trace["x"][:2] == ["2026-01-05", "2026-01-19"] and trace["y"] == ["一号区", "二号区", "三号区"]
    # week of 01-05: r1, r2 in A; week of 01-19: r3 in B
    assert trace["z"][0][0] == 2 and trace["z"][1][1] == 1 and trace["z"][1][0] is None


def test_funnel_stages_are_measures_in_order(outputs):
    trace = outputs["pipeline"].figure["data"][0]
    assert trace["y"] == ["上报", "已关闭", "即查即改"] and trace["x"] == [7, 5, 2]


def test_scatter_places_each_group_by_two_measures(outputs):
    trace = outputs["area_scatter"].figure["data"][0]
    # A: 3 hazards, avg score (10 + 40 + 60) / 3; B: 2, 50; C: 2, 60
    assert trace["x"] == [3, 2, 2] and trace["y"] == [pytest.approx(110 / 3), 50, 60]
    assert trace["text"] == ["一号区", "二号区", "三号区"]


def test_pareto_sorts_descending_with_the_cumulative_share(outputs):
    bars, line = outputs["pareto"].figure["data"]
    assert bars["y"] == [3, 2, 2] and bars["x"][0] == "一号区"
    assert line["y"] == [pytest.approx(3 / 7), pytest.approx(5 / 7), pytest.approx(1.0)] and line["yaxis"] == "y2"


def test_table_shows_labels_and_formatted_numbers(outputs):
    cells = outputs["fix_times"].figure["data"][0]["cells"]["values"]
    assert cells[0] == ["一号区", "二号区", "三号区"] and cells[1] == [3, 2, 2]
    assert cells[2] == ["67.20", "48.00", "217.20"]


def test_pivot_crosses_two_dimensions_with_totals_for_counts(outputs):
    trace = outputs["pivot"].figure["data"][0]
    assert trace["header"]["values"] == ["区域", "一般", "重大", "合计"]
    assert trace["cells"]["values"] == [["一号区", "二号区", "三号区", "合计"], [2, 1, 1, 4], [1, 1, 1, 3],
                                        [3, 2, 2, 7]]


def test_calendar_puts_each_day_under_its_weekday(outputs):
    trace = outputs["calendar"].figure["data"][0]
    assert trace["x"][0] == "2026-01-05" and trace["y"][0] == "周一"
    # 2026-01-05 is a Monday (row 0, week 0); 01-06 a Tuesday; 04-01 (r6, local) a Wednesday
    assert trace["z"][0][0] == 1 and trace["z"][1][0] == 1
    week = trace["x"].index("2026-03-30")
    assert trace["z"][2][week] == 1 and trace["customdata"][2][week] == ["2026-04-01"]


def test_the_floor_map_colours_each_area_by_its_band(outputs):
    floor = outputs["floor"]
    # A 3 hazards (> 2: red), B 2 and C 2 (≤ 2: yellow), D none (0: green)
    assert floor.summary == {"areas": [
        {"value": "A", "measure": 3, "color": "#c62828"}, {"value": "B", "measure": 2, "color": "#f9a825"},
        {"value": "C", "measure": 2, "color": "#f9a825"}, {"value": "D", "measure": 0, "color": "#2e7d32"}]}
    traces = floor.figure["data"]
    assert [t["fillcolor"] for t in traces] == ["rgba(198,40,40,0.55)", "rgba(249,168,37,0.55)",
                                                "rgba(249,168,37,0.55)", "rgba(46,125,50,0.55)"]
    assert [t["name"] for t in traces] == ["一号区", "二号区", "三号区", "四号区"]


def test_the_floor_map_flips_image_pixels_onto_the_plot_and_lies_over_the_plan(outputs):
    figure = outputs["floor"].figure
    area_a = figure["data"][0]
    # image pixels (0,0)-(200,100) from the top-left: plot y = 200 − y
    assert area_a["x"] == [0, 200, 200, 0, 0] and area_a["y"] == [200, 200, 100, 100, 200]
    image = figure["layout"]["images"][0]
    assert image["source"].startswith("data:image/png;base64,") and image["layer"] == "below"
    assert figure["layout"]["yaxis"]["scaleanchor"] == "x"


def test_labels_follow_the_locale(plant):
    outputs = render(plant, "en")
    assert outputs["levels"].figure["data"][0]["labels"] == ["General", "Major"]
    assert "Target 90%" in outputs["closed_rate"].figure["data"][0]["title"]["text"]


def test_dashboard_filters_apply_to_every_widget(plant):
    outputs = render(plant, values={"area": ["A"], "date": {"from": "2026-01-01", "to": "2026-01-31"}})
    # January in area A: r1, r2
    assert outputs["pipeline"].figure["data"][0]["x"] == [2, 2, 1]
    assert outputs["levels"].figure["data"][0]["values"] == [1, 1]
    assert outputs["floor"].summary["areas"][0]["measure"] == 2
