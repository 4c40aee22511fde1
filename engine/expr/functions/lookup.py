"""Lookup and data functions: LOOKUP into dictionaries/option lists through the context's
LookupSource, and dynamic paths into JSON-like values (GET, MISSING) for imported rules.
All of them read mappings and lists only — never attributes of Python objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.expr.context import context_or_default
from engine.expr.errors import fail
from engine.expr.functions.registry import register
from engine.expr.values import to_text


def dig(value: Any, path: Any) -> Any:
    """JSON Logic style path: dots separate keys; digits index lists (0-based)."""
    if path is None or path == "" or path == []:
        return value
    parts = path if isinstance(path, list | tuple) else str(path).split(".")
    for part in parts:
        if value is None:
            return None
        key = to_text(part)
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list | tuple):
            if not key.lstrip("-").isdigit():
                return None
            i = int(key)
            value = value[i] if 0 <= i < len(value) else None
        else:
            return None
    return value


@register(
    "lookup",
    "source: text, key: any, field: text?",
    "any",
    category="lookup",
    needs_context=True,
    en="An entry of a dictionary or option list by key (or one field of it), through the site's "
    'lookup source: LOOKUP("hazard_level", level, "label").',
    zh='按键从字典或选项列表取值（或取其中某个字段）：LOOKUP("hazard_level", level, "label")。',
    examples=[('LOOKUP("hazard_level", "major", "label")', '"重大隐患"')],
)
def lookup(c: Any, source: Any, key: Any, field: Any = None) -> Any:
    lookups = context_or_default(c).lookup
    if lookups is None:
        raise fail("expr.runtime.no_lookup_source")
    return lookups.lookup(to_text(source), key, None if field is None else to_text(field))


@register(
    "get",
    "value: any, path: text|integer, default: any?",
    "any",
    category="lookup",
    propagate_null=False,
    en="A value inside a record or list by a dotted path (list positions 0-based); `default` when missing.",
    zh="按点分路径取记录或列表中的值（列表位置从 0 开始）；取不到时返回 default。",
    examples=[('GET(["a", "b"], 1)', '"b"'), ('GET(MERGE(1, 2), "5", "none")', '"none"')],
)
def get(value: Any, path: Any, default: Any = None) -> Any:
    found = dig(value, path)
    return default if found is None else found


def _keys(values: tuple[Any, ...]) -> list[Any]:
    keys: list[Any] = []
    for v in values:
        keys.extend(v if isinstance(v, list | tuple) else [v])
    return keys


@register(
    "missing",
    "value: any, keys: any...",
    "list[text]",
    category="lookup",
    propagate_null=False,
    en="The keys (paths) that are null or empty text in a record (JSON Logic `missing`).",
    zh="记录中为空值或空文本的键（JSON Logic 的 missing）。",
    examples=[('MISSING(MERGE(), "a")', '["a"]')],
)
def missing(value: Any, *keys: Any) -> list[Any]:
    return [k for k in _keys(keys) if dig(value, k) in (None, "")]


@register(
    "missing_some",
    "value: any, need: integer, keys: list[any]",
    "list[text]",
    category="lookup",
    propagate_null=False,
    en="Empty when at least `need` of the keys are present, else the missing ones (JSON Logic).",
    zh="至少有 need 个键存在时为空列表，否则返回缺少的键（JSON Logic 的 missing_some）。",
    examples=[('MISSING_SOME(MERGE(), 1, ["a", "b"])', '["a", "b"]')],
)
def missing_some(value: Any, need: Any, keys: Any) -> list[Any]:
    absent = missing(value, keys)
    present = len(_keys((keys,))) - len(absent)
    return [] if present >= int(need or 0) else absent
