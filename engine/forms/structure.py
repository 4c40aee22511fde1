"""Meaning checks of a well-shaped definition: what pydantic cannot see field by field.

Duplicate keys, reserved names, sections on tabs that do not exist, a minimum above its
maximum, duplicate options, indexes on values SQL cannot compare, literal defaults that are not
valid values, regular expressions that do not compile, missing translations (warnings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from engine import i18n
from engine.errors import Problem
from engine.forms.fieldtypes import FieldBase, FieldError, ItemBase
from engine.forms.fieldtypes.choice import CascadeField, _Choice
from engine.forms.fieldtypes.layout import SectionItem
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.model import SYSTEM_KEYS, FormDefinition
from engine.jsonsource import path_text

# Names the expression language gives a meaning of its own inside forms.
RESERVED = {"record", "option", "row", "this", "true", "false", "null", "and", "or", "not", "if", "in", "where",
            "within", "now", "today"}
_LIMIT_PAIRS = (("min_length", "max_length"), ("min", "max"), ("min_items", "max_items"), ("min_rows", "max_rows"))


def structure_problems(definition: FormDefinition) -> list[Problem]:
    problems: list[Problem] = []
    problems += _keys(definition.fields, ("fields",), top=True)
    tabs = {t.key for t in definition.tabs}
    for path, item in definition.walk():
        problems += _item_problems(item, path, tabs)
    for index, item in enumerate(definition.fields):
        if isinstance(item, SubtableField):
            problems += _keys(item.fields, ("fields", index, "fields"), top=False)
    values = {f.key for f in definition.value_fields()}
    if definition.title_field and definition.title_field not in values:
        problems.append(Problem("form.unknown_field", {"name": definition.title_field}, path="title_field"))
    for i, key in enumerate(definition.search_fields or ()):
        if key not in values:
            problems.append(Problem("form.unknown_field", {"name": key}, path=path_text(("search_fields", i))))
    problems += _labels(definition.title, ("title",))
    return problems


def _keys(items: Iterable[ItemBase], base: tuple[Any, ...], *, top: bool) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        path = path_text((*base, i, "key"))
        if item.key in seen:
            problems.append(Problem("form.duplicate_key", {"key": item.key, "first": seen[item.key] + 1}, path=path))
        seen.setdefault(item.key, i)
        if item.key in RESERVED or (top and item.key in SYSTEM_KEYS):
            problems.append(Problem("form.reserved_key", {"key": item.key}, path=path))
    return problems


def _item_problems(item: ItemBase, path: tuple[Any, ...], tabs: set[str]) -> list[Problem]:
    problems: list[Problem] = []

    def add(code: str, prop: str | None = None, severity: str = "error", **params: Any) -> None:
        where = path_text((*path, prop) if prop else path)
        problems.append(Problem(code, params, path=where, severity=severity))  # type: ignore[arg-type]

    if isinstance(item, SectionItem):
        if item.tab and item.tab not in tabs:
            add("form.unknown_tab", "tab", tab=item.tab)
        elif tabs and not item.tab:
            add("form.section_without_tab", "tab", severity="warning")
    for low, high in _LIMIT_PAIRS:
        a, b = getattr(item, low, None), getattr(item, high, None)
        if isinstance(a, int | float) and isinstance(b, int | float) and a > b:
            add("form.min_above_max", low, low=low, high=high)
    pattern = getattr(item, "pattern", None)
    if isinstance(item, FieldBase) and pattern and item.type != "serial":
        try:
            re.compile(pattern)
        except re.error as exc:
            add("form.bad_regex", "pattern", detail=str(exc))
    if isinstance(item, _Choice):
        seen: set[str] = set()
        for j, option in enumerate(item.options):
            if option.value in seen:
                problems.append(Problem("form.duplicate_option", {"value": option.value},
                                        path=path_text((*path, "options", j, "value"))))
            seen.add(option.value)
            if option.label is not None:
                problems += _labels(option.label, (*path, "options", j, "label"))
    if isinstance(item, CascadeField):
        problems += _cascade_duplicates(item.options, (*path, "options"))
    if isinstance(item, FieldBase):
        if item.indexed and item.sql_kind() is None:
            add("form.not_indexable", "indexed", type=item.type)
        if item.computed and (item.required or item.default is not None):
            add("form.computed_input", "required" if item.required else "default", severity="warning")
        problems += _literal_default(item, path)
    if item.label is not None:
        problems += _labels(item.label, (*path, "label"))
    elif item.holds_value:
        add("form.no_label", severity="warning")
    return problems


def _cascade_duplicates(options: list[Any], base: tuple[Any, ...]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for j, option in enumerate(options):
        if option.value in seen:
            problems.append(Problem("form.duplicate_option", {"value": option.value},
                                    path=path_text((*base, j, "value"))))
        seen.add(option.value)
        problems += _cascade_duplicates(option.children, (*base, j, "children"))
    return problems


def is_literal_default(field: FieldBase, default: Any) -> bool:
    """`default` is an expression, except JSON numbers/booleans/lists/objects and strings that
    name one of the field's options, which are values."""
    if default is None:
        return False
    if not isinstance(default, str):
        return True
    return default in (field.option_values() or ())


def _literal_default(field: FieldBase, path: tuple[Any, ...]) -> list[Problem]:
    if not is_literal_default(field, field.default):
        return []
    try:
        value = field.coerce(field.default)
        if value is not None:
            errors = field.check(value)
            if errors:
                raise errors[0]
    except FieldError as exc:
        return [Problem("form.bad_default", {"detail": i18n.both(exc.code, **exc.params)},
                        path=path_text((*path, "default")))]
    return []


def _labels(label: dict[str, str], path: tuple[Any, ...]) -> list[Problem]:
    have = {("zh-CN" if k.startswith("zh") else "en") for k, v in label.items() if v.strip()}
    missing = [loc for loc in i18n.LOCALES if loc not in have]
    if not missing:
        return []
    return [Problem("form.label_locale", {"locales": ", ".join(missing)}, path=path_text(path), severity="warning")]


i18n.register_messages(
    {
        "form.duplicate_key": {"zh-CN": "标识“{key}”重复（第 {first} 项已使用）",
                               "en": "Key “{key}” is used twice (first by item {first})"},
        "form.reserved_key": {"zh-CN": "“{key}”是保留名，不能用作字段标识",
                              "en": "“{key}” is a reserved name and cannot be a field key"},
        "form.unknown_field": {"zh-CN": "没有名为“{name}”的字段", "en": "There is no field “{name}”"},
        "form.unknown_tab": {"zh-CN": "没有名为“{tab}”的标签页", "en": "There is no tab “{tab}”"},
        "form.section_without_tab": {"zh-CN": "表单有标签页，但该分组未指定标签页",
                                     "en": "The form has tabs but this section names none"},
        "form.min_above_max": {"zh-CN": "{low} 大于 {high}", "en": "{low} is greater than {high}"},
        "form.bad_regex": {"zh-CN": "正则表达式无效：{detail}", "en": "Invalid regular expression: {detail}"},
        "form.duplicate_option": {"zh-CN": "选项值“{value}”重复", "en": "Option value “{value}” appears twice"},
        "form.not_indexable": {"zh-CN": "{type} 类型的字段不能建索引", "en": "A {type} field cannot be indexed"},
        "form.computed_input": {"zh-CN": "计算字段由系统填写，必填/默认值不起作用",
                                "en": "A computed field is filled by the system; required/default have no effect"},
        "form.bad_default": {"zh-CN": "默认值无效：{detail}", "en": "Invalid default: {detail}"},
        "form.no_label": {"zh-CN": "字段没有标签", "en": "The field has no label"},
        "form.label_locale": {"zh-CN": "缺少 {locales} 文本", "en": "Missing the {locales} text"},
    }
)
