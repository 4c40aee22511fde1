"""Exports: widget data to xlsx, the dashboard to PNG and PDF through kaleido and headless
Chromium, offline. Image and PDF tests need Chromium (SAFEFLOW_TEST_CHROMIUM; CI has it)."""

from __future__ import annotations

import io
import os

import pytest
from openpyxl import load_workbook
from PIL import Image

from engine.reports import Viewer
from engine.reports.exports import dashboard_pdf, dashboard_png, widget_image, xlsx
from engine.reports.render import DashboardRun
from tests.reports.support import NOW
from tests.reports.test_widgets import example

CHROMIUM = os.environ.get("SAFEFLOW_TEST_CHROMIUM")
needs_chromium = pytest.mark.skipif(not CHROMIUM, reason="Chromium not configured: set SAFEFLOW_TEST_CHROMIUM "
                                                         "(scripts/test does; CI always has it)")


@pytest.fixture
def run(plant, monkeypatch):
    if CHROMIUM:
        monkeypatch.setenv("SAFEFLOW_CHROMIUM", CHROMIUM)
    session_cm = plant.site.session()
    session = session_cm.__enter__()
    yield DashboardRun(session, example(plant), Viewer(), NOW, plant.site.settings.tz, "zh-CN")
    session_cm.__exit__(None, None, None)


def test_widget_data_exports_to_xlsx_with_labels_and_typed_numbers(run):
    outputs = [run.widget(run.dashboard.widget("fix_times")), run.widget(run.dashboard.widget("closed_rate"))]
    book = load_workbook(io.BytesIO(xlsx(outputs, run.dashboard, "zh-CN", generated=NOW,
                                         filters={"area": ["A"]})))
    assert book.sheetnames == ["说明", "整改时长", "隐患整改率"]
    sheet = book["整改时长"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["区域", "隐患数", "P90 整改时长"]
    assert rows[1][:2] == ["一号区", 3] and rows[1][2] == pytest.approx(67.2)
    rate = book["隐患整改率"]
    assert rate["A2"].value == pytest.approx(5 / 7) and rate["A2"].number_format == "0.0%"
    assert book["说明"]["B1"].value == "隐患驾驶舱" and book["说明"]["A3"].value == "area"


@needs_chromium
def test_a_widget_exports_to_a_real_png(run):
    png = widget_image(run.widget(run.dashboard.widget("pareto")), run.dashboard, "zh-CN")
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG" and image.size == (400, 320)


@needs_chromium
def test_the_dashboard_exports_to_one_png_laid_out_on_its_grid(run):
    widgets = [run.dashboard.widget(k) for k in ("closed_rate", "trend", "levels")]
    outputs = [run.widget(w) for w in widgets]
    png = dashboard_png(outputs, run.dashboard, "zh-CN", "2026-04-20")
    image = Image.open(io.BytesIO(png))
    # 12 columns × 100 px; a title band of 70 px; the grid reaches row 29 (the floor map) × 80 px
    assert image.format == "PNG" and image.size == (1200, 70 + 29 * 80)
    rgb = image.convert("RGB")
    # the KPI card (top-left, 3 × 2 cells) is drawn; the area under no widget stays white
    assert rgb.getpixel((1199, 70 + 28 * 80)) == (255, 255, 255)
    colours = {rgb.getpixel((x, y)) for x in range(0, 300, 5) for y in range(80, 220, 5)}
    assert len(colours) > 3


@needs_chromium
def test_the_dashboard_exports_to_pdf(run):
    outputs = [run.widget(run.dashboard.widget(k)) for k in ("closed_rate", "pareto")]
    pdf = dashboard_pdf(outputs, run.dashboard, "zh-CN", "2026-04-20")
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf and len(pdf) > 2000
