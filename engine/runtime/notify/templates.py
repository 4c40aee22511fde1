"""Notification templates: Jinja2 text in zh-CN and en, rendered in the sandbox.

A template is a versioned definition of kind `template` (packs ship them beside their forms):

    {"subject": {"zh": "…", "en": "…"}, "body": {"zh": "…", "en": "…"},
     "channels": {"sms": {"zh": "…", "en": "…"}}}        # optional per-channel bodies

Templates are user text, so they run in Jinja2's `ImmutableSandboxedEnvironment`: no attribute
access into Python internals, no mutation of the context. A missing value renders as nothing
rather than failing the delivery (the null-safety rule authors ask for). A template key that is
not a definition falls back to one registered in code, then to a catalogue message code (what
the flow engine names its notices by), so every notification renders in both languages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import Problem
from engine.store.definitions import DefinitionRepository

TEMPLATE_KIND = "template"

ENV = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=False)
# Jinja's own tojson escapes for HTML; gateway bodies and webhooks want plain JSON.
ENV.filters["tojson"] = lambda value: json.dumps(value, ensure_ascii=False, default=str)

_BUILTIN: dict[str, dict[str, Any]] = {}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def register_template(key: str, subject: Mapping[str, str], body: Mapping[str, str],
                      channels: Mapping[str, Mapping[str, str]] | None = None) -> None:
    """A template shipped in code (e.g. the rule engine's default alert text)."""
    _BUILTIN[key] = {"subject": dict(subject), "body": dict(body), "channels": dict(channels or {})}


def render_text(source: str, context: Mapping[str, Any]) -> str:
    return _compiled(source).render(**context).strip()


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Each template text compiled once (Jinja compiles `from_string` anew on every call, to
    Python code: a millisecond per notification); templates render thread-safely."""
    return ENV.from_string(source)


def _find(session: Session | None, key: str) -> Mapping[str, Any] | None:
    if session is not None:
        found = DefinitionRepository(session).current(TEMPLATE_KIND, key)
        if found is not None:
            return found.body
    return _BUILTIN.get(key)


def exists(session: Session | None, key: str) -> bool:
    return _find(session, key) is not None or i18n.has_message(key)


def render(session: Session | None, key: str | None, locale: str, context: Mapping[str, Any], *,
           channel: str | None = None, subject: Mapping[str, str] | None = None,
           body: Mapping[str, str] | None = None) -> Rendered:
    """Subject and body for one recipient's locale (and channel, when it has its own text)."""
    if key is None:
        return Rendered(render_text(i18n.localized(subject, locale), context),
                        render_text(i18n.localized(body, locale), context))
    found = _find(session, key)
    if found is None:
        title = i18n.message(key, locale, **context) if i18n.has_message(key) else key
        return Rendered(title, render_text(i18n.localized(body, locale), context) if body else "")
    text = (found.get("channels") or {}).get(channel or "") or found.get("body")
    return Rendered(render_text(i18n.localized(found.get("subject"), locale), context),
                    render_text(i18n.localized(text, locale), context))


def check_template(body: Mapping[str, Any], file: str | None = None) -> list[Problem]:
    """Every syntax error in a template definition, located by part, locale and line."""
    problems: list[Problem] = []
    if not isinstance(body.get("subject"), Mapping) or not isinstance(body.get("body"), Mapping):
        problems.append(Problem("template.shape", {}, file=file))
        return problems
    parts: list[tuple[str, Mapping[str, str]]] = [("subject", body["subject"]), ("body", body["body"])]
    parts += [(f"channels.{name}", texts) for name, texts in (body.get("channels") or {}).items()]
    for path, texts in parts:
        for locale, spellings in (("zh", ("zh", "zh-CN", "zh_CN")), ("en", ("en", "en-US"))):
            if not any(texts.get(name) for name in spellings):
                problems.append(Problem("template.missing_locale", {"locale": locale}, file=file, path=path))
        for loc, source in texts.items():
            try:
                ENV.parse(source)
            except TemplateSyntaxError as exc:
                problems.append(Problem("template.syntax", {"detail": exc.message or ""}, file=file,
                                        path=f"{path}.{loc}", line=exc.lineno))
    return problems


i18n.register_messages({
    "template.shape": {"zh-CN": "模板须包含 subject 与 body，各自含 zh 与 en 文本",
                       "en": "A template needs subject and body, each with zh and en text"},
    "template.missing_locale": {"zh-CN": "缺少 {locale} 语言的文本", "en": "Text for locale {locale} is missing"},
    "template.syntax": {"zh-CN": "模板语法错误：{detail}", "en": "Template syntax error: {detail}"},
})
