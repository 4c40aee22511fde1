"""The message catalogue: every message an engine registers says the same thing in both
locales — the same placeholders, each a plain name — so no user sees a value in one language
and `{braces}` in the other."""

from __future__ import annotations

import importlib
import pkgutil
from string import Formatter

import engine
from engine import i18n


def _all_registered() -> dict[str, dict[str, str]]:
    for module in pkgutil.walk_packages(engine.__path__, "engine."):
        importlib.import_module(module.name)
    return i18n._catalog


def _placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in Formatter().parse(text) if name is not None}


def test_every_message_has_the_same_placeholders_in_both_locales() -> None:
    catalog = _all_registered()
    assert len(catalog) > 300  # every engine's messages, not a few
    differing = {code: {loc: sorted(_placeholders(texts[loc])) for loc in i18n.LOCALES}
                 for code, texts in catalog.items()
                 if len({frozenset(_placeholders(texts[loc])) for loc in i18n.LOCALES}) > 1}
    assert differing == {}


def test_every_placeholder_is_a_plain_name() -> None:
    catalog = _all_registered()
    odd = {code: name for code, texts in catalog.items() for loc in i18n.LOCALES
           for name in _placeholders(texts[loc]) if not name.isidentifier()}
    assert odd == {}
