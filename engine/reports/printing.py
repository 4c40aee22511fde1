"""Print templates: a form's record as a printable document — a hot-work permit certificate with
its QR code, signatures and approval trail — in HTML for the browser's print dialog and as PDF.

Templates are Jinja2 text written by admins, so they run in Jinja's immutable sandbox with an
empty set of globals: they see plain data (dicts, lists, strings) and a few functions of ours,
never a Python object. Attributes starting with "_" are unreachable, no mutating method can be
called, `range` is capped, there is no loader (no include/import of files) and the output is
autoescaped. A template declares its form in a leading comment:

    {#- safeflow: {"form": "hot_work_permit", "title": {"zh": "动火作业证", "en": "Hot-work permit"}} -#}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import segno
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.forms.fieldtypes.base import Key, Label

_META = re.compile(r"^\s*\{#-?\s*safeflow:\s*(\{.*?\})\s*-?#\}", re.DOTALL)
MAX_TEMPLATE = 200_000
MAX_OUTPUT = 5_000_000
MAX_RANGE = 1000
CONTEXT_NAMES = ("record", "form", "fields", "values", "raw", "signatures", "images", "approvals", "now", "locale",
                 "qr", "range", "site", "label")
PAPER = {"A4": "A4", "A4 landscape": "A4 landscape", "A5": "A5", "A3": "A3", "Letter": "letter"}


class PrintMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    form: Key = Field(description="The form whose records this template prints")
    title: Label | None = None
    paper: Literal["A4", "A4 landscape", "A5", "A3", "Letter"] = "A4"
    margin: str = Field(default="12mm", pattern=r"^\d+(\.\d+)?(mm|cm|in|px)$")


@dataclass(frozen=True)
class PrintTemplate:
    key: str
    meta: PrintMeta
    text: str


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def parse_template(key: str, text: str, file: str | None = None) -> tuple[PrintTemplate | None, list[Problem]]:
    """The template and its problems (metadata, Jinja syntax), located by line."""
    problems: list[Problem] = []
    if len(text) > MAX_TEMPLATE:
        return None, [Problem("print.too_long", {"limit": MAX_TEMPLATE}, file=file)]
    match = _META.match(text)
    meta: PrintMeta | None = None
    if match is None:
        # Without its header a template cannot be printed with (it names no form): a warning
        # when checked or installed, an error when published to print with.
        problems.append(Problem("print.no_meta", file=file, line=1, column=1, severity="warning"))
    else:
        try:
            meta = PrintMeta.model_validate(json.loads(match.group(1)))
        except (ValueError, ValidationError) as exc:
            detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            problems.append(Problem("print.bad_meta", {"detail": detail}, file=file,
                                    line=_line_of(text, match.start(1))))
    try:
        _environment().parse(text)
    except TemplateSyntaxError as exc:
        problems.append(Problem("print.syntax", {"detail": exc.message or ""}, file=file, line=exc.lineno))
    if meta is None or any(p.severity == "error" for p in problems):
        return None, problems
    return PrintTemplate(key, meta, text), problems


def check_template(key: str, text: str, file: str | None = None, *,
                   form_exists: Callable[[str], bool] | None = None) -> list[Problem]:
    """Every problem of a print template; names it uses that the context lacks are warnings."""
    template, problems = parse_template(key, text, file)
    if template is None:
        return problems
    if form_exists is not None and not form_exists(template.meta.form):
        problems.append(Problem("print.unknown_form", {"form": template.meta.form}, file=file, line=1))
    tree = _environment().parse(text)
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in sorted({n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - assigned
                       - set(CONTEXT_NAMES) - {"loop"}):
        problems.append(Problem("print.unknown_name", {"name": name, "known": ", ".join(CONTEXT_NAMES)},
                                file=file, severity="warning"))
    return problems


def qr_data_url(text: Any, scale: int = 4) -> str:
    """A QR code drawn locally (segno), as an SVG data: URL for <img src>."""
    return segno.make(str(text), error="m").svg_data_uri(scale=max(1, min(int(scale), 20)))


def _bounded_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} items in print templates")
    return values


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=True, undefined=ChainableUndefined, loader=None,
                                        trim_blocks=True, lstrip_blocks=True)
    env.globals.clear()
    env.globals.update({"qr": qr_data_url, "range": _bounded_range})
    return env


def render_html(template: PrintTemplate, context: Mapping[str, Any]) -> str:
    """The filled template as an HTML document (a fragment is wrapped in one with the page size)."""
    env = _environment()
    try:
        compiled = env.from_string(template.text)
        parts, size = [], 0
        for chunk in compiled.generate(**{k: v for k, v in context.items() if k in CONTEXT_NAMES}):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the output passed {MAX_OUTPUT} characters")
            parts.append(chunk)
    except SecurityError as exc:
        raise InvalidInput("print.failed", problems=[Problem("print.unsafe", {"detail": str(exc)},
                                                             file=template.key)]) from None
    except (UndefinedError, TemplateError, TypeError, ValueError) as exc:
        raise InvalidInput("print.failed", problems=[Problem("print.render_error", {"detail": str(exc)},
                                                             file=template.key)]) from None
    body = "".join(parts)
    if "<html" in body[:2000].lower():
        return body
    title = Markup.escape(i18n.localized(template.meta.title, str(context.get("locale") or "zh-CN")))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title><style>'
            f"@page {{ size: {PAPER[template.meta.paper]}; margin: {template.meta.margin}; }}"
            "body { font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', 'SimSun', sans-serif; font-size: 11pt; }"
            "table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #333; padding: 4px; }"
            f"</style></head><body>{body}</body></html>")


i18n.register_messages(
    {
        "print.too_long": {"zh-CN": "打印模板超过 {limit} 个字符", "en": "The print template is longer than {limit}"},
        "print.no_meta": {
            "zh-CN": '打印模板应以 {{#- safeflow: {{"form": "…"}} -#}} 开头，说明打印哪个表单',
            "en": 'A print template starts with {{#- safeflow: {{"form": "…"}} -#}} naming the form it prints'},
        "print.bad_meta": {"zh-CN": "模板说明有误：{detail}", "en": "The template header is not valid: {detail}"},
        "print.syntax": {"zh-CN": "模板语法错误：{detail}", "en": "Template syntax error: {detail}"},
        "print.unknown_form": {"zh-CN": "没有表单“{form}”", "en": "No form “{form}”"},
        "print.unknown_name": {"zh-CN": "模板用到了未提供的名称“{name}”（可用：{known}）",
                               "en": "The template uses “{name}”, which is not provided (known: {known})"},
        "print.failed": {"zh-CN": "打印模板无法生成", "en": "The print template could not be filled in"},
        "print.unsafe": {"zh-CN": "模板试图执行不允许的操作：{detail}",
                         "en": "The template tried something it may not do: {detail}"},
        "print.render_error": {"zh-CN": "模板出错：{detail}", "en": "The template failed: {detail}"},
    }
)


class PrintCatalog:
    """Print templates stored as versioned definitions of kind "print" (body: the text)."""

    KIND = "print"

    def __init__(self, session: Any) -> None:
        from engine.store.definitions import DefinitionRepository

        self.session = session
        self.repo = DefinitionRepository(session)

    def current(self, key: str) -> PrintTemplate:
        from engine.errors import NotFound

        row = self.repo.current(self.KIND, key)
        if row is None or not isinstance(row.body, str):
            raise NotFound(what=f"print template {key}")
        template, problems = parse_template(key, row.body)
        if template is None:
            raise InvalidInput("print.failed", problems=problems)
        return template

    def all(self) -> list[PrintTemplate]:
        out = []
        for key in self.repo.keys(self.KIND, include_drafts=False):
            row = self.repo.current(self.KIND, key)
            template, _ = parse_template(key, row.body if row and isinstance(row.body, str) else "")
            if template is not None:
                out.append(template)
        return out

    def publish(self, actor: Any, key: str, text: str, *, require_form: bool = True,
                pack: str | None = None) -> tuple[int, list[Problem]]:
        """Check and publish; `require_form` (the API) refuses a template that names no form, a
        pack install keeps it with a warning (and names the pack, so it is exported with it)."""
        from engine.forms.catalog import FormCatalog

        catalog = FormCatalog(self.session)
        problems = check_template(key, text, form_exists=lambda form: catalog.definition(form) is not None)
        if require_form:
            problems = [Problem(p.code, p.params, file=p.file, path=p.path, line=p.line, column=p.column)
                        if p.code == "print.no_meta" else p for p in problems]
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise InvalidInput("print.invalid", problems=errors)
        published = self.repo.publish(actor, self.KIND, key, text, pack=pack)
        return published.version, [p for p in problems if p.severity == "warning"]


i18n.register_messages({"print.invalid": {"zh-CN": "打印模板有 {count} 处错误",
                                          "en": "The print template has {count} error(s)"}})
