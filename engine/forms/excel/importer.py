"""Importing records from xlsx with a per-row error report.

The workbook is read in openpyxl's read-only mode row by row and records are inserted in
batches, so memory stays flat however long the sheet is (sub-table sheets are read first and
grouped by record id). Two modes: "all" — all or nothing: any bad row and nothing is kept (a
savepoint around the whole import); "valid" — the good rows are kept and the bad ones reported.
Every problem is reported as sheet, row, column and message, in both languages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from engine import i18n
from engine.errors import Problem
from engine.forms.bulk import create_many
from engine.forms.excel.layout import match_headers, plan, sheet_for_table
from engine.forms.excel.lookups import value_context
from engine.forms.fieldtypes import FieldBase, FieldError
from engine.forms.records import RecordService
from engine.forms.validation import prepare
from engine.store.access import Access, Principal

Mode = Literal["all", "valid"]
MAX_ERRORS = 10000


@dataclass
class CellError:
    sheet: str
    row: int
    column: str | None
    field: str | None
    problem: Problem

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "field": self.field,
                "code": self.problem.code, "message": self.problem.message(locale)}

    def format(self, locale: str | None = None) -> str:
        where = f"{self.sheet}!{self.column or ''}{self.row}"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.problem.message(locale)}"


@dataclass
class ImportReport:
    mode: Mode
    rows: int = 0
    created: int = 0
    failed_rows: int = 0
    errors: list[CellError] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.more_errors

    def add(self, error: CellError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more_errors += 1

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {"mode": self.mode, "rows": self.rows, "created": self.created, "failed_rows": self.failed_rows,
                "errors": [e.to_dict(locale) for e in self.errors], "more_errors": self.more_errors}


@dataclass
class _Row:
    number: int
    data: dict[str, Any]
    columns: dict[str, str]  # field key → column letter
    table_rows: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    table_sheets: dict[str, str] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)  # keys whose cells could not be read


def _cell(item: FieldBase, value: Any, ctx: Any, sheet: str, row: int, column: str,
          errors: list[CellError]) -> Any:
    try:
        return item.from_cell(value, ctx)
    except FieldError as exc:
        errors.append(CellError(sheet, row, column, item.title(ctx.locale), Problem(exc.code, exc.params)))
        return None


def import_xlsx(service: RecordService, form: str, source: Any, *, mode: Mode = "all", locale: str | None = None,
                principal: Principal | None = None, access: Access | None = None, batch: int = 500,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    caller = service.caller(form, "create", principal, access)
    compiled = service.catalog.current(form)
    definition = compiled.definition
    ctx = value_context(service.session, service.tz, i18n.normalize_locale(locale))
    workbook = load_workbook(source, read_only=True, data_only=True)
    report = ImportReport(mode=mode)
    try:
        main = workbook.worksheets[0]
        sheets = plan(definition, locale, caller.hidden)
        tables = _read_tables(workbook, definition, ctx, report)
        savepoint = service.session.begin_nested() if mode == "all" else None
        pending: list[_Row] = []
        for row in _main_rows(main, sheets[0].fields, ctx, tables, report):
            report.rows += 1
            pending.append(row)
            if len(pending) >= batch:
                _flush(service, form, pending, main.title, report, caller, mode)
                pending = []
                if progress:
                    progress(report.rows)
        _flush(service, form, pending, main.title, report, caller, mode)
        if progress:
            progress(report.rows)
        if savepoint is not None:
            if report.ok:
                savepoint.commit()
            else:
                savepoint.rollback()
                report.created = 0
    finally:
        workbook.close()
    return report


def _read_tables(workbook: Any, definition: Any, ctx: Any, report: ImportReport) -> dict[str, Any]:
    """Sub-table sheets: rows grouped by the record id they belong to."""
    tables: dict[str, Any] = {}
    for ws in workbook.worksheets[1:]:
        table = sheet_for_table(definition, ws.title)
        if table is None:
            continue
        rows = ws.iter_rows(values_only=True)
        headers = list(next(rows, ()))
        mapping, id_column, unknown = match_headers(table.value_fields(), headers)
        for index in unknown:
            report.add(CellError(ws.title, 1, get_column_letter(index + 1), str(headers[index]),
                                 Problem("import.unknown_column", {"name": headers[index]})))
        grouped: dict[str, list[tuple[int, dict[str, Any], dict[str, str], list[CellError]]]] = {}
        for number, values in enumerate(rows, start=2):
            if not any(v not in (None, "") for v in values):
                continue
            ref = values[id_column] if id_column is not None and id_column < len(values) else None
            errors: list[CellError] = []
            if ref in (None, ""):
                errors.append(CellError(ws.title, number, "A", None, Problem("import.no_record_id")))
            cells, columns = {}, {}
            for index, item in mapping.items():
                letter = get_column_letter(index + 1)
                columns[item.key] = letter
                value = values[index] if index < len(values) else None
                if value not in (None, ""):
                    cells[item.key] = _cell(item, value, ctx, ws.title, number, letter, errors)
            grouped.setdefault(str(ref).strip(), []).append((number, cells, columns, errors))
        tables[table.key] = (ws.title, grouped)
    return tables


def _main_rows(ws: Any, fields: list[FieldBase], ctx: Any, tables: dict[str, Any],
               report: ImportReport) -> Iterator[_Row]:
    rows = ws.iter_rows(values_only=True)
    headers = list(next(rows, ()))
    mapping, id_column, unknown = match_headers(fields, headers)
    for index in unknown:
        report.add(CellError(ws.title, 1, get_column_letter(index + 1), str(headers[index]),
                             Problem("import.unknown_column", {"name": headers[index]})))
    letters = {index: get_column_letter(index + 1) for index in mapping}
    for number, values in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in values):
            continue
        row = _Row(number=number, data={}, columns={mapping[i].key: letters[i] for i in mapping})
        for index, item in mapping.items():
            value = values[index] if index < len(values) else None
            if value not in (None, ""):
                before = len(row.errors)
                row.data[item.key] = _cell(item, value, ctx, ws.title, number, letters[index], row.errors)
                if len(row.errors) > before:
                    row.bad.add(item.key)
        ref = values[id_column] if id_column is not None and id_column < len(values) else None
        if ref not in (None, ""):
            for key, (title, grouped) in tables.items():
                found = grouped.pop(str(ref).strip(), [])
                if found:
                    row.data[key] = [cells for _, cells, _, _ in found]
                    row.table_rows[key] = [(n, columns) for n, _, columns, _ in found]
                    row.table_sheets[key] = title
                    for _, _, _, errors in found:
                        if errors:
                            row.errors.extend(errors)
                            row.bad.add(key)
        yield row
    for title, grouped in tables.values():
        for ref, found in grouped.items():
            for number, _, _, _ in found:
                report.add(CellError(title, number, "A", None, Problem("import.orphan_row", {"ref": ref})))
                report.failed_rows += 1


def _flush(service: RecordService, form: str, rows: list[_Row], sheet: str, report: ImportReport, caller: Any,
           mode: Mode) -> None:
    if not rows:
        return
    compiled = service.catalog.current(form)
    clean = [r for r in rows if not r.errors]
    # All or nothing, and a bad row was already seen: nothing will be kept, so only validate.
    keep_going = mode == "valid" or report.ok
    result = create_many(service, form, [r.data for r in clean], principal=caller.principal, access=caller.access,
                         actor=caller.actor, keep_computed=True, insert_rows=keep_going)
    report.created += len(result.ids)
    for index, problems in result.problems.items():
        for problem in problems:
            report.add(_locate(clean[index], problem, sheet, compiled.definition))
    for row in rows:
        if not row.errors:
            continue
        for error in row.errors:
            report.add(error)
        extra = prepare(compiled, {k: v for k, v in row.data.items() if k not in row.bad})
        for problem in extra.problems:
            head = (problem.path or "").split("[")[0].split(".")[0]
            if head not in row.bad:
                report.add(_locate(row, problem, sheet, compiled.definition))
    report.failed_rows += len(result.problems) + sum(1 for r in rows if r.errors)


def _locate(row: _Row, problem: Problem, sheet: str, definition: Any) -> CellError:
    path = problem.path or ""
    head = path.split("[")[0].split(".")[0]
    item = definition.field(head)
    label = item.title() if item is not None else head or None
    if "[" in path and head in row.table_rows:
        index = int(path.split("[")[1].split("]")[0])
        column_key = path.split("].")[-1] if "]." in path else None
        number, columns = row.table_rows[head][index]
        return CellError(row.table_sheets.get(head, sheet), number, columns.get(column_key or ""),
                         column_key or label, problem)
    return CellError(sheet, row.number, row.columns.get(head), label, problem)


def error_report_xlsx(report: ImportReport, target: Any, *, locale: str | None = None) -> None:
    """The errors as a workbook people can sort and filter (sheet, row, column, field, message)."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("errors")
    ws.append([i18n.message(f"import.header.{h}", locale) for h in ("sheet", "row", "column", "field", "message")])
    for error in report.errors:
        ws.append([error.sheet, error.row, error.column, error.field, error.problem.message(locale)])
    workbook.save(target)


i18n.register_messages(
    {
        "import.unknown_column": {"zh-CN": "表单中没有名为“{name}”的字段",
                                  "en": "The form has no field named “{name}”"},
        "import.orphan_row": {"zh-CN": "子表行的记录ID“{ref}”在主表中不存在",
                              "en": "No main row has the record id “{ref}” this sub-table row names"},
        "import.no_record_id": {"zh-CN": "子表行缺少记录ID，无法关联到主表行",
                                "en": "The sub-table row has no record id linking it to a main row"},
        "import.header.sheet": {"zh-CN": "工作表", "en": "Sheet"},
        "import.header.row": {"zh-CN": "行", "en": "Row"},
        "import.header.column": {"zh-CN": "列", "en": "Column"},
        "import.header.field": {"zh-CN": "字段", "en": "Field"},
        "import.header.message": {"zh-CN": "问题", "en": "Problem"},
    }
)
