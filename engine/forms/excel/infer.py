"""Turning an existing Excel form or paper checklist into a form definition, in one step.

Two shapes are recognised. A *table* (a header row, then data rows) becomes one field per
column, typed from its values — dates, numbers, yes/no, a handful of repeated words become
options — and drop-down lists (data validation) become select fields. A *checklist* (a column
of check items and a result column such as 是否合格 / 结果, or a yes/no drop-down) becomes one
yes/no item per row with a remark that is required when the answer is "no"; "label：" cells
above the table (检查人、检查日期、区域) become header fields, and a category column becomes
sections. The result is a definition to review in the designer, not a final form.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from engine.forms.fieldtypes.choice import FALSE_WORDS, TRUE_WORDS
from engine.forms.fieldtypes.text import EMAIL_RE, PHONE_PATTERNS, id_card_problem

ITEM_WORDS = ("检查项目", "检查内容", "检查项", "检查标准", "项目", "内容", "要求", "item", "check", "requirement")
RESULT_WORDS = ("结果", "是否", "符合", "合格", "情况", "result", "status", "ok", "pass")
REMARK_WORDS = ("备注", "说明", "remark", "note", "comment")
CATEGORY_WORDS = ("类别", "分类", "类型", "区域", "category", "section", "area")
NUMBER_WORDS = ("序号", "编号", "no", "no.", "#", "index")
_HEADER_LABEL = re.compile(r"^\s*([^:：]{1,20})[:：]\s*(.*)$")
MAX_SAMPLE = 500


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _label(text: str) -> dict[str, str]:
    """{"zh": …} for Chinese text, {"en": …} otherwise: the other language is the designer's to
    add (`safeflow check` warns until it is)."""
    return {"zh": text} if re.search(r"[\u4e00-\u9fff]", text) else {"en": text}


def _key(text: str, index: int, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not base or not base[0].isalpha():
        base = f"field_{index}"
    key, n = base[:50], 2
    while key in taken:
        key, n = f"{base[:46]}_{n}", n + 1
    taken.add(key)
    return key


def _has(text: str, words: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(w in low for w in words)


def _validations(ws: Any) -> dict[int, list[str]]:
    """Column index (0-based) → the list a data-validation drop-down offers."""
    out: dict[int, list[str]] = {}
    holder = getattr(ws, "data_validations", None)
    for validation in holder.dataValidation if holder is not None else ():
        if validation.type != "list" or not validation.formula1:
            continue
        formula = validation.formula1.strip()
        if not formula.startswith('"'):
            continue  # a range on another sheet: the options are data, left to the designer
        options = [o.strip() for o in formula.strip('"').split(",") if o.strip()]
        for cell_range in validation.sqref.ranges:
            for column in range(cell_range.min_col, cell_range.max_col + 1):
                out[column - 1] = options
    return out


def _is_label_cell(text: str) -> bool:
    """"检查人：" — a label waiting for a value, not a column header."""
    match = _HEADER_LABEL.match(text)
    return match is not None and match.group(2) == ""


def _header_row(rows: list[tuple[Any, ...]]) -> int:
    """The first row with two or more text cells that are not "label：" cells."""
    for index, row in enumerate(rows[:30]):
        texts = [_text(v) for v in row if _text(v)]
        if len(texts) >= 2 and all(isinstance(v, str) for v in row if _text(v)) \
                and not any(_is_label_cell(t) for t in texts):
            return index
    return 0


def _yes_no(options: list[str]) -> tuple[str, str] | None:
    if len(options) != 2:
        return None
    a, b = (o.strip().lower() for o in options)
    if a in TRUE_WORDS and b in FALSE_WORDS:
        return options[0], options[1]
    if b in TRUE_WORDS and a in FALSE_WORDS:
        return options[1], options[0]
    return None


def infer_form(path: str | Path, *, key: str | None = None, sheet: str | None = None) -> dict[str, Any]:
    """A form definition (JSON data) inferred from a workbook."""
    workbook = load_workbook(path, data_only=True)
    ws = workbook[sheet] if sheet else workbook.worksheets[0]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)][: MAX_SAMPLE + 40]
    validations = _validations(ws)
    head = _header_row(rows)
    headers = [_text(v) for v in rows[head]] if rows else []
    name = Path(path).stem
    form_key = key or _key(name, 0, set())
    title = _text(ws.title) if ws.title and not ws.title.lower().startswith("sheet") else name
    header_fields = _header_fields(rows[:head])
    item_col = next((i for i, h in enumerate(headers) if _has(h, ITEM_WORDS)), None)
    result_col = next((i for i, h in enumerate(headers) if _has(h, RESULT_WORDS)), None)
    yes_no_col = next((i for i, opts in validations.items() if _yes_no(opts)), None)
    if item_col is not None and (result_col is not None or yes_no_col is not None):
        fields = _checklist(rows[head + 1:], headers, item_col, result_col if result_col is not None else yes_no_col,
                            validations)
    else:
        fields = _table(rows[head + 1:], headers, validations)
    taken = {f["key"] for f in fields}
    for field in header_fields:
        field["key"] = _key(field.pop("_text"), len(taken), taken)
    workbook.close()
    return {"key": form_key, "title": _label(title), "fields": header_fields + fields}


def _header_fields(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """"检查人：", "检查日期：" cells above the table become fields of their own."""
    out = []
    for row in rows:
        for value in row:
            match = _HEADER_LABEL.match(_text(value))
            if not match or not _is_label_cell(_text(value)):
                continue
            text = match.group(1).strip()
            kind = "date" if _has(text, ("日期", "时间", "date")) else "user" if _has(
                text, ("人", "inspector", "checked by")) else "department" if _has(text, ("部门", "department")) \
                else "text"
            out.append({"type": kind, "_text": text, "label": _label(text), "required": True})
    return out


def _checklist(rows: list[tuple[Any, ...]], headers: list[str], item_col: int, result_col: int,
               validations: dict[int, list[str]]) -> list[dict[str, Any]]:
    answers = _yes_no(validations.get(result_col, [])) or ("是", "否")
    category_col = next((i for i, h in enumerate(headers) if _has(h, CATEGORY_WORDS) and i != item_col), None)
    fields: list[dict[str, Any]] = []
    current_category = None
    count = 0
    for row in rows:
        item = _text(row[item_col]) if item_col < len(row) else ""
        category = _text(row[category_col]) if category_col is not None and category_col < len(row) else ""
        if category and category != current_category:
            current_category = category
            fields.append({"type": "section", "key": f"section_{len(fields) + 1}", "label": _label(category)})
        if not item:
            continue
        count += 1
        key = f"item_{count}"
        fields.append({"type": "radio", "key": key, "label": _label(item), "required": True,
                       "options": [{"value": "yes", "label": _label(answers[0])},
                                   {"value": "no", "label": _label(answers[1])}]})
        fields.append({"type": "textarea", "key": f"{key}_remark", "label": _label(f"{count} 备注" if re.search(
            r"[\u4e00-\u9fff]", item) else f"{count} remark"), "required_if": f'{key} == "no"'})
    return fields


def _table(rows: list[tuple[Any, ...]], headers: list[str], validations: dict[int, list[str]]) -> list[dict[str, Any]]:
    taken: set[str] = set()
    fields = []
    for index, header in enumerate(headers):
        if not header or (_has(header, NUMBER_WORDS) and len(header) <= 3):
            continue
        values = [row[index] for row in rows if index < len(row) and _text(row[index])]
        field: dict[str, Any] = {"key": _key(header, index + 1, taken), "label": _label(header)}
        field.update(_column_type(values, validations.get(index)))
        fields.append(field)
    return fields


def _options(texts: list[str]) -> list[dict[str, Any]]:
    """Options with stable codes: a slug of ASCII text, else o1, o2 … (labels keep the text,
    and imports match labels, so the workbook's data still imports)."""
    taken: set[str] = set()
    out = []
    for i, text in enumerate(texts, start=1):
        slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") if text.isascii() else ""
        value = slug if slug and slug not in taken else f"o{i}"
        taken.add(value)
        out.append({"value": value, "label": _label(text)})
    return out


def _column_type(values: list[Any], options: list[str] | None) -> dict[str, Any]:
    if options:
        yes_no = _yes_no(options)
        if yes_no:
            return {"type": "boolean", "true_label": _label(yes_no[0]),
                    "false_label": _label(yes_no[1])}
        return {"type": "select", "options": _options(options)}
    if not values:
        return {"type": "text"}
    if all(isinstance(v, datetime) for v in values):
        has_time = any(v.time() != time(0) for v in values)
        return {"type": "datetime" if has_time else "date"}
    if all(isinstance(v, date) for v in values):
        return {"type": "date"}
    if all(isinstance(v, time) for v in values):
        return {"type": "time"}
    if all(isinstance(v, bool) for v in values):
        return {"type": "boolean"}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        whole = all(float(v).is_integer() for v in values)
        return {"type": "integer" if whole else "number"}
    texts = [_text(v) for v in values]
    lowered = {t.lower() for t in texts}
    if lowered <= TRUE_WORDS | FALSE_WORDS and lowered & TRUE_WORDS and lowered & FALSE_WORDS:
        return {"type": "boolean"}
    if all(EMAIL_RE.match(t) for t in texts):
        return {"type": "email"}
    if all(any(p.match(re.sub(r"[\s-]", "", t)) or p.match(t) for p in PHONE_PATTERNS.values()) for t in texts):
        return {"type": "phone"}
    if all(id_card_problem(t.upper()) is None for t in texts):
        return {"type": "idcard"}
    counts = Counter(texts)
    if len(counts) <= 12 and len(texts) >= 2 * len(counts):
        return {"type": "select", "options": _options(sorted(counts))}
    if max(len(t) for t in texts) > 100:
        return {"type": "textarea"}
    return {"type": "text"}
