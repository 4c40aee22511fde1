"""Records to xlsx, streamed: openpyxl's write-only mode writes rows as they come, records are
read a page at a time, so exporting 100,000 records holds one page in memory, not the file.
Headers are labels, options appear as their labels, people as usernames, sub-table rows on
their own sheet keyed by the record id. Also the import template (same columns, drop-down lists
for options)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from engine import i18n
from engine.forms.excel.layout import plan
from engine.forms.excel.lookups import value_context
from engine.forms.listing import ListQuery, query_page
from engine.forms.records import RecordService
from engine.store.access import Access, Principal

PAGE = 1000


def export_xlsx(service: RecordService, form: str, target: Any, *, locale: str | None = None,
                principal: Principal | None = None, access: Access | None = None, query: ListQuery | None = None,
                progress: Callable[[int], None] | None = None) -> int:
    """Write the form's records (those the caller may read) to `target`; returns the count."""
    caller = service.caller(form, "export", principal, access)
    compiled = service.catalog.current(form)
    ctx = value_context(service.session, service.tz, i18n.normalize_locale(locale))
    sheets = plan(compiled.definition, locale, caller.hidden)
    workbook = Workbook(write_only=True)
    writers = []
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title)
        ws.append(sheet.headers(locale))
        writers.append(ws)
    base = query or ListQuery()
    cursor, count = None, 0
    scope = caller.access.scope if caller.access else None
    while True:
        page_query = ListQuery(filter=base.filter, search=base.search, cursor=cursor, limit=PAGE)
        rows, cursor = query_page(service.session, compiled, page_query, principal=principal, scope=scope,
                                  ctx=service.eval_context())
        for row in rows:
            data = row.data or {}
            writers[0].append([row.id, *(f.to_cell(data.get(f.key), ctx) for f in sheets[0].fields)])
            for sheet, ws in zip(sheets[1:], writers[1:], strict=True):
                assert sheet.table is not None
                for item in data.get(sheet.table.key) or ():
                    ws.append([row.id, *(f.to_cell(item.get(f.key), ctx) for f in sheet.fields)])
            count += 1
        for row in rows:
            service.session.expunge(row)  # the page is written: let its rows go
        if progress:
            progress(count)
        if cursor is None:
            break
    workbook.save(target)
    return count


def template_xlsx(service: RecordService, form: str, target: Any, *, locale: str | None = None) -> None:
    """An empty workbook to fill in: the import's columns, required ones marked *, help as
    comments, drop-down lists for options and yes/no (kept on a hidden sheet, so long lists work)."""
    compiled = service.catalog.current(form)
    workbook = Workbook()
    workbook.remove(workbook.active)
    lists = workbook.create_sheet("_options")
    lists.sheet_state = "hidden"
    list_column = 0
    for sheet in plan(compiled.definition, locale):
        ws = workbook.create_sheet(sheet.title)
        ws.append(sheet.headers(locale, mark_required=True))
        ws.freeze_panes = "A2"
        for index, item in enumerate(sheet.fields, start=2):
            cell = ws.cell(row=1, column=index)
            cell.font = Font(bold=True)
            ws.column_dimensions[get_column_letter(index)].width = max(12, len(str(cell.value)) * 2)
            if item.help:
                cell.comment = Comment(i18n.localized(item.help, locale), "SafeFlow")
            choices = item.excel_choices(locale)
            if not choices:
                continue
            list_column += 1
            letter = get_column_letter(list_column)
            for r, choice in enumerate(choices, start=1):
                lists.cell(row=r, column=list_column, value=choice)
            source = f"{quote_sheetname('_options')}!${letter}$1:${letter}${len(choices)}"
            validation = DataValidation(type="list", formula1=source, allow_blank=True)
            if item.type in ("multiselect", "checkboxes"):
                validation.showErrorMessage = False  # several values are typed "a, b"
            ws.add_data_validation(validation)
            validation.add(f"{get_column_letter(index)}2:{get_column_letter(index)}10000")
        ws.cell(row=1, column=1).comment = Comment(i18n.message("excel.id_help", locale), "SafeFlow")
    workbook.save(target)


i18n.register_messages(
    {
        "excel.id_help": {"zh-CN": "可留空；填写子表时用作把子表行关联到本行的编号",
                          "en": "May stay empty; when filling sub-tables, the key linking their rows to this row"},
    }
)
