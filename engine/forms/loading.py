"""Loading a form definition: JSON text or data → FormDefinition, or every problem, located.

Three layers of checks, all collected before anything is refused: the shape (pydantic, against
the published JSON Schema), the meaning (duplicate keys, missing tabs, min above max …, in
`engine.forms.structure`), and the expressions (type-checked by the expression language, with
formula cycles named, in `engine.forms.logic`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.forms.fieldtypes import type_names
from engine.forms.model import FormDefinition
from engine.jsonsource import JsonSyntaxError, Source, parse, path_text

FormResolver = Callable[[str], FormDefinition | None]


def _source(body: Any, file: str | None) -> Source:
    if isinstance(body, Source):
        return body
    if isinstance(body, str | bytes):
        return parse(body, file)
    return Source(data=body, file=file)


def _real_path(data: Any, loc: Sequence[Any]) -> list[str | int]:
    """pydantic's location with the union tags (the `type` values it inserts) taken out."""
    out: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, Mapping) and part not in current and part in (current.get("type"), current.get("op")):
            continue  # the tag of a discriminated union (field `type`, migration step `op`)
        out.append(part)
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        else:
            current = None
    return out


def _known_properties(data: Any, path: list[str | int]) -> list[str]:
    """The property names allowed where an unknown one was found (for "did you mean")."""
    from engine.forms.fieldtypes import registry

    parent = data
    for part in path[:-1]:
        if isinstance(parent, Mapping):
            parent = parent.get(part)
        elif isinstance(parent, list) and isinstance(part, int) and part < len(parent):
            parent = parent[part]
        else:
            parent = None
    if isinstance(parent, Mapping) and parent.get("type") in registry():
        model = registry()[parent["type"]]
        return [f.alias or name for name, f in model.model_fields.items()]
    if len(path) == 1:
        return [f.alias or name for name, f in FormDefinition.model_fields.items()]
    return []


def shape_problems(error: ValidationError, data: Any) -> list[Problem]:
    problems = []
    for err in error.errors():
        path = _real_path(data, err["loc"])
        kind = err["type"]
        ctx = err.get("ctx") or {}
        name = str(path[-1]) if path else ""
        if kind == "missing":
            problem = Problem("form.missing", {"name": name})
        elif kind == "extra_forbidden":
            close = difflib.get_close_matches(name, _known_properties(data, path), n=1)
            problem = Problem("form.unknown_property_hint" if close else "form.unknown_property",
                              {"name": name, "hint": close[0] if close else ""})
        elif kind == "union_tag_invalid":
            tag = str(ctx.get("tag"))
            close = difflib.get_close_matches(tag, type_names(), n=1)
            problem = Problem("form.unknown_type", {"type": tag, "hint": close[0] if close else "",
                                                    "known": ", ".join(type_names())})
            path = [*path, "type"]
        elif kind == "union_tag_not_found":
            problem = Problem("form.missing", {"name": "type"})
            path = [*path, "type"]
        elif kind == "string_pattern_mismatch" and name in ("key", "form", "display_field", "title_field", "tab"):
            problem = Problem("form.bad_key", {"value": err.get("input")})
        elif kind == "literal_error":
            problem = Problem("form.not_allowed", {"value": err.get("input"), "expected": ctx.get("expected", "")})
        else:
            detail = str(ctx["error"]) if kind == "value_error" and "error" in ctx else err["msg"]
            problem = Problem("form.invalid_value", {"detail": detail})
        problems.append(Problem(problem.code, problem.params, path=path_text(path) or None))
    return problems


def locate(problems: list[Problem], source: Source) -> list[Problem]:
    """Fill in file, line and column from the source text (paths are "fields[3].key")."""
    if not source.positions:
        return [p.located(file=source.file) for p in problems]
    out = []
    for problem in problems:
        path = _parse_path(problem.path or "")
        line, column = source.locate(path)
        if "expr_column" in problem.params and line is not None and column is not None:
            column = column + _raw_offset(source, tuple(path), problem.params)
        params = {k: v for k, v in problem.params.items() if k not in ("expr_line", "expr_column")}
        moved = Problem(problem.code, params, file=problem.file, path=problem.path, line=None, column=None,
                        severity=problem.severity, text=problem.text)
        out.append(moved.located(file=source.file, line=line, column=column))
    return out


def _raw_offset(source: Source, path: tuple[str | int, ...], params: Mapping[str, Any]) -> int:
    """Columns from a JSON string's opening quote to the expression's character at
    (expr_line, expr_column): escapes (\\" \\n \\uXXXX) take more than one column in the file."""
    start = source.positions.get(path)
    if start is None or source.text[start] != '"':
        return 0
    text = source.text
    target_line, target_column = params.get("expr_line") or 1, params.get("expr_column") or 1
    i, line, column = start + 1, 1, 1
    while i < len(text) and text[i] != '"' and (line, column) < (target_line, target_column):
        if text[i] == "\\":
            if text[i + 1] == "n":
                line, column = line + 1, 0
            i += 6 if text[i + 1] == "u" else 2
        else:
            i += 1
        column += 1
    return i - start


def _parse_path(text: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in text.replace("[", ".[").split("."):
        if not chunk:
            continue
        if chunk.startswith("[") and chunk.endswith("]"):
            parts.append(int(chunk[1:-1]))
        else:
            parts.append(chunk)
    return parts


def check_form(body: Any, file: str | None = None, *, resolve_form: FormResolver | None = None,
               ) -> tuple[FormDefinition | None, list[Problem]]:
    """Every problem of a definition (errors and warnings), located; the definition when its
    shape is valid."""
    try:
        source = _source(body, file)
    except JsonSyntaxError as exc:
        return None, [Problem("form.json_syntax", {"error": exc.message}, file=file, line=exc.line,
                              column=exc.column)]
    if not isinstance(source.data, Mapping):
        return None, locate([Problem("form.not_object")], source)
    try:
        definition = FormDefinition.model_validate(source.data)
    except ValidationError as exc:
        return None, locate(shape_problems(exc, source.data), source)
    from engine.forms.logic import expression_problems
    from engine.forms.structure import structure_problems

    problems = structure_problems(definition)
    if not any(p.severity == "error" for p in problems):
        problems += expression_problems(definition, resolve_form=resolve_form)
    return definition, locate(problems, source)


def load_form(body: Any, file: str | None = None, *, resolve_form: FormResolver | None = None) -> FormDefinition:
    """A valid FormDefinition, or InvalidInput carrying every located problem."""
    definition, problems = check_form(body, file, resolve_form=resolve_form)
    errors = [p for p in problems if p.severity == "error"]
    if errors or definition is None:
        raise InvalidInput("form.invalid", problems=errors)
    return definition


i18n.register_messages(
    {
        "form.invalid": {"zh-CN": "表单定义有 {count} 处错误", "en": "The form definition has {count} error(s)"},
        "form.json_syntax": {"zh-CN": "JSON 语法错误：{error}", "en": "JSON syntax error: {error}"},
        "form.not_object": {"zh-CN": "表单定义应为 JSON 对象", "en": "A form definition is a JSON object"},
        "form.missing": {"zh-CN": "缺少必填属性“{name}”", "en": "Missing required property “{name}”"},
        "form.unknown_property": {"zh-CN": "未知属性“{name}”", "en": "Unknown property “{name}”"},
        "form.unknown_property_hint": {"zh-CN": "未知属性“{name}”，是否想写“{hint}”？",
                                       "en": "Unknown property “{name}”; did you mean “{hint}”?"},
        "form.unknown_type": {"zh-CN": "未知字段类型“{type}”（可用：{known}）",
                              "en": "Unknown field type “{type}” (known: {known})"},
        "form.bad_key": {"zh-CN": "标识“{value}”无效：应以小写字母开头，只含小写字母、数字和下划线",
                         "en": "“{value}” is not a valid key: start with a-z, then a-z, 0-9 or _"},
        "form.not_allowed": {"zh-CN": "“{value}”不可用，可选：{expected}",
                             "en": "“{value}” is not allowed; expected {expected}"},
        "form.invalid_value": {"zh-CN": "取值无效：{detail}", "en": "Invalid value: {detail}"},
    }
)
