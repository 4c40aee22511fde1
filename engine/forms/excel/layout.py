"""How a form maps onto a workbook, shared by export, template and import: the main sheet's
columns (a record id, then each field by its label), one sheet per sub-table (the record id,
then the row's fields), and header matching that accepts either language or the field key."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine import i18n
from engine.forms.fieldtypes import FieldBase
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.model import FormDefinition

ID_HEADER = {"zh-CN": "记录ID", "en": "Record ID"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def id_header(locale: str | None) -> str:
    return ID_HEADER[i18n.normalize_locale(locale)]


def header_key(text: object) -> str:
    """A header as matched: trimmed, lower-case, the required marker (*) dropped."""
    return str(text or "").strip().rstrip("*").strip().lower()


@dataclass
class SheetPlan:
    title: str
    fields: list[FieldBase]
    table: SubtableField | None = None

    def headers(self, locale: str | None, *, mark_required: bool = False) -> list[str]:
        out = [id_header(locale)]
        for item in self.fields:
            title = item.title(locale)
            out.append(f"{title} *" if mark_required and item.required and not item.visible_if else title)
        return out


def sheet_title(text: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub(" ", text).strip()[:31] or "sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def plan(definition: FormDefinition, locale: str | None, hidden: frozenset[str] = frozenset()) -> list[SheetPlan]:
    taken: set[str] = set()
    main = SheetPlan(sheet_title(definition.label(locale), taken),
                     [f for f in definition.value_fields() if not isinstance(f, SubtableField) and f.key not in hidden])
    sheets = [main]
    for table in definition.subtables():
        if table.key not in hidden:
            sheets.append(SheetPlan(sheet_title(table.title(locale), taken), table.value_fields(), table))
    return sheets


def match_headers(fields: list[FieldBase], headers: list[object]) -> tuple[dict[int, FieldBase], int | None,
                                                                          list[int]]:
    """Columns → fields by label (either language) or key; the record-id column; unknown columns."""
    names: dict[str, FieldBase] = {}
    for item in fields:
        for name in (item.key, item.title("zh-CN"), item.title("en")):
            names.setdefault(header_key(name), item)
    ids = {header_key(v) for v in ID_HEADER.values()} | {"id"}
    mapping: dict[int, FieldBase] = {}
    id_column: int | None = None
    unknown: list[int] = []
    for index, header in enumerate(headers):
        key = header_key(header)
        if not key:
            continue
        if key in ids and id_column is None:
            id_column = index
        elif key in names:
            mapping[index] = names[key]
        else:
            unknown.append(index)
    return mapping, id_column, unknown


def sheet_for_table(definition: FormDefinition, title: str) -> SubtableField | None:
    key = header_key(title)
    for table in definition.subtables():
        if key in {header_key(table.key), header_key(table.title("zh-CN")), header_key(table.title("en"))}:
            return table
        if key in {header_key(sheet_title(table.title(loc), set())) for loc in i18n.LOCALES}:
            return table
    return None
