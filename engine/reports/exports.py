"""Exports: a widget's data (or a whole dashboard's, a sheet per widget) to xlsx; a dashboard to
PNG (each widget drawn by kaleido, laid out on the grid with Pillow) or PDF (each widget as SVG
on an HTML grid, printed by headless Chromium — vector, so it stays sharp on paper).

Everything runs offline; the weekly report e-mail attaches what these return.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from engine import i18n
from engine.errors import NotFound
from engine.reports.chromium import print_pdf, render_figures
from engine.reports.dashboard import Dashboard
from engine.reports.render import DashboardRun, WidgetOutput
from engine.reports.result import DatasetResult

COLUMN_PX, ROW_PX, TITLE_PX = 100, 80, 70
MEDIA = {"png": "image/png", "pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_BAD_SHEET = str.maketrans({c: "_" for c in "[]:*?/\\"})


# --- xlsx --------------------------------------------------------------------------------------

def _sheet_title(text: str, used: set[str]) -> str:
    base = (text.translate(_BAD_SHEET) or "Sheet")[:28]
    title, n = base, 2
    while title.lower() in used:
        title, n = f"{base[:25]}({n})", n + 1
    used.add(title.lower())
    return title


def _write_result(sheet: Any, result: DatasetResult, locale: str) -> None:
    header = [c.title(locale) for c in result.columns]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="ECEFF1")
    for row in result.rows:
        out = []
        for column, value in zip(result.columns, row, strict=True):
            out.append(column.value_label(value, locale) if column.role == "dimension" and column.labels else value)
        sheet.append(out)
    for i, column in enumerate(result.columns, start=1):
        letter = get_column_letter(i)
        fmt = "0.0%" if column.format == "percent" else ("#,##0" if column.kind == "integer" else "#,##0.00")
        if column.role == "measure":
            for cell in sheet[letter][1:]:
                cell.number_format = fmt
        sheet.column_dimensions[letter].width = max(10, min(40, len(header[i - 1]) * 2 + 4))
    sheet.freeze_panes = "A2"


def xlsx(outputs: Sequence[WidgetOutput], dashboard: Dashboard, locale: str, *, generated: datetime,
         filters: dict[str, Any] | None = None) -> bytes:
    """One sheet per widget with data (labels for dimension values, typed numbers), and an
    "about" sheet saying what was exported, when and with which filters."""
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = i18n.message("reports.xlsx.about", locale)
    about.append([i18n.message("reports.xlsx.dashboard", locale), i18n.localized(dashboard.title, locale)])
    about.append([i18n.message("reports.xlsx.generated", locale), generated.isoformat(timespec="seconds")])
    for key, value in (filters or {}).items():
        about.append([key, str(value)])
    used = {about.title.lower()}
    for out in outputs:
        if out.data is None:
            continue
        _write_result(book.create_sheet(_sheet_title(out.title, used)), out.data, locale)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- images ------------------------------------------------------------------------------------

def _size(dashboard: Dashboard, widget_id: str) -> tuple[int, int]:
    widget = dashboard.widget(widget_id)
    layout = widget.layout if widget else None
    scale = 12 / dashboard.columns
    return (int((layout.w if layout else 6) * COLUMN_PX * scale), (layout.h if layout else 4) * ROW_PX)


def _error_figure(out: WidgetOutput, locale: str) -> dict[str, Any]:
    message = out.error.message(locale) if out.error else ""
    return {"data": [], "layout": {"title": {"text": out.title}, "xaxis": {"visible": False},
                                   "yaxis": {"visible": False},
                                   "annotations": [{"text": html.escape(message), "showarrow": False,
                                                    "font": {"color": "#c62828"}}]}}


def _title_figure(dashboard: Dashboard, locale: str, subtitle: str, width: int) -> dict[str, Any]:
    return {"data": [], "layout": {
        "width": width, "height": TITLE_PX, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": f"<b>{html.escape(i18n.localized(dashboard.title, locale))}</b>", "x": 0, "y": 1,
                         "xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "top",
                         "showarrow": False, "font": {"size": 22}},
                        {"text": html.escape(subtitle), "x": 0, "y": 0, "xref": "paper", "yref": "paper",
                         "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                         "font": {"size": 12, "color": "#555555"}}]}}


def widget_image(out: WidgetOutput, dashboard: Dashboard, locale: str, fmt: str = "png") -> bytes:
    width, height = _size(dashboard, out.id)
    figure = out.figure if out.figure is not None else _error_figure(out, locale)
    return render_figures([(figure, {"format": fmt, "width": width, "height": height})])[0]


def dashboard_png(outputs: Sequence[WidgetOutput], dashboard: Dashboard, locale: str, subtitle: str) -> bytes:
    """The dashboard as one PNG: widgets drawn at their grid size and pasted at their place."""
    from PIL import Image

    width = 12 * COLUMN_PX
    jobs = [(_title_figure(dashboard, locale, subtitle, width), {"format": "png", "width": width,
                                                                  "height": TITLE_PX})]
    for out in outputs:
        w, h = _size(dashboard, out.id)
        jobs.append((out.figure if out.figure is not None else _error_figure(out, locale),
                     {"format": "png", "width": w, "height": h}))
    images = render_figures(jobs)
    bottom = max((w.layout.y + w.layout.h for w in dashboard.widgets), default=0)
    canvas = Image.new("RGB", (width, TITLE_PX + bottom * ROW_PX), "white")
    canvas.paste(Image.open(io.BytesIO(images[0])).convert("RGB"), (0, 0))
    scale = 12 / dashboard.columns
    for out, data in zip(outputs, images[1:], strict=True):
        widget = dashboard.widget(out.id)
        if widget is None:
            continue
        x, y = int(widget.layout.x * COLUMN_PX * scale), TITLE_PX + widget.layout.y * ROW_PX
        canvas.paste(Image.open(io.BytesIO(data)).convert("RGB"), (x, y))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def dashboard_pdf(outputs: Sequence[WidgetOutput], dashboard: Dashboard, locale: str, subtitle: str) -> bytes:
    """The dashboard as a landscape A4 PDF: each widget an SVG in its grid cell."""
    jobs = []
    for out in outputs:
        w, h = _size(dashboard, out.id)
        jobs.append((out.figure if out.figure is not None else _error_figure(out, locale),
                     {"format": "svg", "width": w, "height": h}))
    svgs = render_figures(jobs) if jobs else []
    cells = []
    for out, svg in zip(outputs, svgs, strict=True):
        widget = dashboard.widget(out.id)
        if widget is None:
            continue
        lay = widget.layout
        cells.append(f'<div class="cell" style="grid-column:{lay.x + 1}/span {lay.w};grid-row:{lay.y + 1}/span '
                     f'{lay.h}">{svg.decode("utf-8")}</div>')
    page = f"""<!DOCTYPE html><html lang="{html.escape(locale)}"><head><meta charset="utf-8">
<title>{html.escape(i18n.localized(dashboard.title, locale))}</title>
<style>@page {{ size: A4 landscape; margin: 8mm; }}
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0; }}
h1 {{ font-size: 18pt; margin: 0 0 2mm 0; }} p.sub {{ color: #555; margin: 0 0 4mm 0; font-size: 9pt; }}
.grid {{ display: grid; grid-template-columns: repeat({dashboard.columns}, 1fr); grid-auto-rows: 14mm; gap: 2mm; }}
.cell {{ overflow: hidden; break-inside: avoid; }} .cell svg {{ width: 100%; height: 100%; }}</style></head>
<body><h1>{html.escape(i18n.localized(dashboard.title, locale))}</h1><p class="sub">{html.escape(subtitle)}</p>
<div class="grid">{"".join(cells)}</div></body></html>"""
    return print_pdf(page)


def export_run(run: DashboardRun, fmt: str, widget_id: str | None = None) -> tuple[bytes, str]:
    """A dashboard run exported as `fmt` (pdf, png, xlsx), whole or one widget; and a file name."""
    d = run.dashboard
    if widget_id is not None:
        widget = d.widget(widget_id)
        if widget is None:
            raise NotFound(what=f"widget {widget_id}")
        outputs = [run.widget(widget)]
    else:
        outputs = run.all()
    local = run.now.astimezone(run.tz)
    name = f"{d.key}{'-' + widget_id if widget_id else ''}-{local.strftime('%Y%m%d-%H%M')}.{fmt}"
    applied = {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in run.values.items()}
    shown = ("  " + json.dumps(applied, ensure_ascii=False)) if applied else ""
    subtitle = i18n.message("reports.export.subtitle", run.locale, when=local.strftime("%Y-%m-%d %H:%M"),
                            filters=shown)
    if fmt == "xlsx":
        return xlsx(outputs, d, run.locale, generated=run.now, filters=applied), name
    if widget_id is not None:
        return widget_image(outputs[0], d, run.locale, fmt), name
    if fmt == "png":
        return dashboard_png(outputs, d, run.locale, subtitle), name
    return dashboard_pdf(outputs, d, run.locale, subtitle), name


i18n.register_messages(
    {
        "reports.xlsx.about": {"zh-CN": "说明", "en": "About"},
        "reports.xlsx.dashboard": {"zh-CN": "看板", "en": "Dashboard"},
        "reports.xlsx.generated": {"zh-CN": "导出时间", "en": "Generated"},
        "reports.export.subtitle": {"zh-CN": "生成于 {when}{filters}", "en": "Generated {when}{filters}"},
    }
)
