"""Bilingual (zh-CN / en) message catalogue shared by every engine.

Engines register their messages at import time, keyed by a stable code; errors and labels are
rendered in the caller's locale at the edge (API, CLI), never stored pre-rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LOCALES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

# Definitions write labels as {"zh": ..., "en": ...}; API locales are "zh-CN" / "en".
_LABEL_KEYS = {"zh-CN": ("zh", "zh-CN", "zh_CN"), "en": ("en", "en-US")}

_catalog: dict[str, dict[str, str]] = {}


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def register_messages(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages; each code must carry both locales so no user ever sees a missing text."""
    for code, texts in messages.items():
        missing = [loc for loc in LOCALES if loc not in texts]
        if missing:
            raise ValueError(f"message {code!r} lacks locale(s) {missing}")
        _catalog[code] = dict(texts)


def has_message(code: str) -> bool:
    return code in _catalog


def message(code: str, locale: str | None = None, /, **params: Any) -> str:
    loc = normalize_locale(locale)
    texts = _catalog.get(code)
    if texts is None:
        return code
    rendered = {k: localized(v, loc) if isinstance(v, Mapping) else v for k, v in params.items()}
    return texts[loc].format_map(_SafeDict(rendered))


def normalize_locale(value: str | None) -> str:
    """Map an Accept-Language header or a loose locale name to one of LOCALES."""
    if not value:
        return DEFAULT_LOCALE
    for part in value.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


def localized(text: Mapping[str, str] | str | None, locale: str | None = None) -> str:
    """Pick the text for a locale from a definition label, falling back to the other one."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    loc = normalize_locale(locale)
    for key in _LABEL_KEYS[loc]:
        if text.get(key):
            return text[key]
    for value in text.values():
        if value:
            return value
    return ""


def both(code: str, /, **params: Any) -> dict[str, str]:
    """The message in every locale, for payloads that carry both (e.g. stored explanations)."""
    return {loc: message(code, loc, **params) for loc in LOCALES}
