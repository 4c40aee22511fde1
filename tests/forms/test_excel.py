"""Excel: export → import round trip, the import error report in both modes, the template,
and turning a checklist workbook into a form."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from engine.forms import load_form
from engine.forms.excel.export import export_xlsx, template_xlsx
from engine.forms.excel.importer import import_xlsx
from engine.forms.excel.infer import infer_form
from engine.runtime.site import Site
from tests.forms.support import HAZARD, label, publish_form, records
from tests.helpers import make_user

ROUND_TRIP = {
    "key": "check", "title": label("巡检", "Inspection"), "fields": [
        {"type": "text", "key": "title", "label": label("标题", "Title"), "required": True},
        {"type": "select", "key": "level", "label": label("级别", "Level"),
         "options": [{"value": "low", "label": label("低", "Low")}, {"value": "high", "label": label("高", "High")}]},
        {"type": "checkboxes", "key": "tags", "label": label("标签", "Tags"), "options": ["a", "b", "c"]},
        {"type": "boolean", "key": "ok", "label": label("合格", "OK")},
        {"type": "date", "key": "day", "label": label("日期", "Day")},
        {"type": "datetime", "key": "at", "label": label("时间", "At")},
        {"type": "time", "key": "shift", "label": label("班次开始", "Shift start")},
        {"type": "duration", "key": "spent", "label": label("耗时", "Time spent")},
        {"type": "money", "key": "cost", "label": label("费用", "Cost")},
        {"type": "percent", "key": "rate", "label": label("比例", "Rate")},
        {"type": "user", "key": "inspector", "label": label("检查人", "Inspector")},
        {"type": "geo", "key": "spot", "label": label("位置", "Where")},
        {"type": "cascade", "key": "place", "label": label("地点", "Place"), "options": [
            {"value": "p1", "label": label("一厂", "Plant 1"),
             "children": [{"value": "w1", "label": label("一车间", "W1")}]}]},
        {"type": "formula", "key": "double", "label": label("双倍", "Double"), "expr": "cost * 2"},
        {"type": "subtable", "key": "items", "label": label("明细", "Items"), "fields": [
            {"type": "text", "key": "what", "label": label("内容", "What"), "required": True},
            {"type": "integer", "key": "n", "label": label("数量", "N")}]},
    ]}


def _sample(inspector: int) -> list[dict]:
    return [
        {"title": "东区巡检", "level": "high", "tags": ["a", "c"], "ok": True, "day": "2026-11-02",
         "at": "2026-11-02T01:30:00Z", "shift": "08:00", "spent": 5400, "cost": 12.5, "rate": 0.25,
         "inspector": inspector, "spot": {"lat": 31.2, "lng": 121.5, "accuracy": 5.0}, "place": ["p1", "w1"],
         "items": [{"what": "灭火器", "n": 3}, {"what": "通道", "n": 1}]},
        {"title": "West", "ok": False},
    ]


def _strip(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in (None, [], "")}


def test_exported_records_import_back_as_equal_records(site: Site) -> None:
    publish_form(site, ROUND_TRIP)
    inspector = make_user(site, "zhang")
    with site.session() as session:
        service = records(site, session)
        originals = [service.create("check", row).data for row in _sample(inspector)]
        buffer = io.BytesIO()
        assert export_xlsx(service, "check", buffer, locale="zh-CN") == 2
    buffer.seek(0)
    with site.session() as session:
        service = records(site, session)
        report = import_xlsx(service, "check", buffer, mode="all", locale="zh-CN")
        assert report.ok and report.created == 2, [e.format("en") for e in report.errors]
        listed, _ = service.list("check")
    imported = [r.data for r in listed[2:]]
    assert [_strip(d) for d in imported] == [_strip(d) for d in originals]


def test_the_export_shows_labels_and_puts_sub_tables_on_their_own_sheet(site: Site) -> None:
    publish_form(site, ROUND_TRIP)
    inspector = make_user(site, "zhang")
    with site.session() as session:
        service = records(site, session)
        service.create("check", _sample(inspector)[0])
        buffer = io.BytesIO()
        export_xlsx(service, "check", buffer, locale="en")
    workbook = load_workbook(buffer)
    main, items = workbook.worksheets
    headers = [c.value for c in main[1]]
    assert headers[:3] == ["Record ID", "Title", "Level"]
    row = dict(zip(headers, [c.value for c in main[2]], strict=False))
    assert (row["Level"], row["Tags"], row["OK"], row["Inspector"]) == ("High", "a, c", "Yes", "zhang")
    assert items.title == "Items" and items.max_row == 3


def _workbook(rows: list[list]) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["隐患描述", "级别", "可能性", "暴露", "整改期限"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


BAD_ROWS = [["泄漏", "一般", 1, 2, None], [None, "特别", "x", 2, None], ["堵塞", "重大", 3, 99, "2026-13-01"],
            ["照明", "一般", 2, 2, None]]


def test_the_error_report_names_row_column_and_problem_and_all_mode_keeps_nothing(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        report = import_xlsx(records(site, session), "hazard", _workbook(BAD_ROWS), mode="all", locale="en")
    cells = {(e.row, e.column, e.problem.code) for e in report.errors}
    assert {(3, "A", "field.required"), (3, "B", "field.not_option"), (3, "C", "field.type"),
            (4, "D", "field.above_max"), (4, "E", "field.type")} <= cells
    assert report.created == 0 and report.failed_rows == 2
    assert report.errors[0].format("zh-CN")
    with site.session() as session:
        assert records(site, session).list("hazard")[0] == []


def test_valid_mode_keeps_the_good_rows_and_reports_the_bad(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        report = import_xlsx(records(site, session), "hazard", _workbook(BAD_ROWS), mode="valid", locale="zh-CN")
    assert report.created == 2 and report.failed_rows == 2
    with site.session() as session:
        titles = sorted(r.data["title"] for r in records(site, session).list("hazard")[0])
    assert titles == ["泄漏", "照明"]


def test_an_unknown_column_is_reported_on_the_header_row(site: Site) -> None:
    publish_form(site, HAZARD)
    workbook = Workbook()
    workbook.active.append(["隐患描述", "颜色"])
    workbook.active.append(["a", "red"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    with site.session() as session:
        report = import_xlsx(records(site, session), "hazard", buffer, mode="all")
    assert [(e.row, e.column, e.problem.code) for e in report.errors] == [(1, "B", "import.unknown_column")]


def test_the_template_has_the_columns_and_drop_down_lists(site: Site) -> None:
    publish_form(site, HAZARD)
    buffer = io.BytesIO()
    with site.session() as session:
        template_xlsx(records(site, session), "hazard", buffer, locale="zh-CN")
    workbook = load_workbook(buffer)
    main = workbook.worksheets[1]
    headers = [c.value for c in main[1]]
    assert headers[0] == "记录ID" and "隐患描述 *" in headers
    assert any(v.type == "list" for v in main.data_validations.dataValidation)
    assert workbook["_options"].sheet_state == "hidden"


def test_a_checklist_workbook_becomes_a_form_of_yes_no_items_with_remarks(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "消防安全检查表"
    sheet.append(["检查人：", None, "检查日期："])
    sheet.append(["序号", "类别", "检查内容", "检查结果", "备注"])
    sheet.append([1, "消防设施", "灭火器在有效期内", None, None])
    sheet.append([2, None, "消防通道畅通无堵塞", None, None])
    sheet.append([3, "用电安全", "无私拉乱接电线", None, None])
    validation = DataValidation(type="list", formula1='"合格,不合格"')
    sheet.add_data_validation(validation)
    validation.add("D3:D5")
    path = tmp_path / "fire_check.xlsx"
    workbook.save(path)

    body = infer_form(path)

    definition = load_form(body)
    header = definition.fields[:2]
    assert [(f.type, f.label["zh"]) for f in header] == [("user", "检查人"), ("date", "检查日期")]
    items = [f for f in definition.fields if f.type == "radio"]
    assert [f.label["zh"] for f in items] == ["灭火器在有效期内", "消防通道畅通无堵塞", "无私拉乱接电线"]
    assert [o.label["zh"] for o in items[0].options] == ["合格", "不合格"]
    remark = definition.field("item_1_remark")
    assert remark.type == "textarea" and remark.required_if == 'item_1 == "no"'
    assert [f.label["zh"] for f in definition.fields if f.type == "section"] == ["消防设施", "用电安全"]


def test_a_table_workbook_becomes_fields_typed_from_their_values(tmp_path: Path) -> None:
    from datetime import date

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["设备名称", "数量", "检验日期", "状态", "负责人邮箱"])
    for i in range(6):
        sheet.append([f"叉车{i}", i + 1, date(2026, 1, i + 1), ["在用", "停用"][i % 2], f"u{i}@corp.cn"])
    path = tmp_path / "equipment.xlsx"
    workbook.save(path)

    definition = load_form(infer_form(path))

    assert [f.type for f in definition.fields] == ["text", "integer", "date", "select", "email"]
    assert [o.label["zh"] for o in definition.fields[3].options] == ["停用", "在用"]
