"""Regular-expression text functions with bounded work: patterns are length-limited and the
classic catastrophic-backtracking shape (a quantified group containing a quantifier, such as
`(a+)+`) is refused, since Python's `re` has no timeout."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from engine.expr.errors import fail
from engine.expr.functions.registry import register
from engine.expr.functions.text import as_text, bounded
from engine.expr.limits import MAX_REGEX_LENGTH

_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:\?)?\)(?:[+*?]|\{)")


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    if len(pattern) > MAX_REGEX_LENGTH:
        raise fail("expr.runtime.bad_regex", pattern=pattern[:40], detail=f"longer than {MAX_REGEX_LENGTH}")
    if _NESTED_QUANTIFIER.search(pattern):
        raise fail("expr.runtime.bad_regex", pattern=pattern, detail="nested repetition")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise fail("expr.runtime.bad_regex", pattern=pattern, detail=str(error)) from None


@register(
    "regexmatch",
    "text: text, pattern: text",
    "boolean",
    category="text",
    en="Whether a regular expression matches anywhere in the text.",
    zh="正则表达式是否能在文本中匹配到。",
    examples=[('REGEXMATCH("13800138000", "^1[3-9][0-9]{9}$")', "true")],
)
def regexmatch(text: Any, pattern: Any) -> bool:
    return _regex(as_text(pattern)).search(as_text(text)) is not None


@register(
    "regexextract",
    "text: text, pattern: text",
    "text",
    category="text",
    en="The first match of a regular expression (its first group if it has one), or null.",
    zh="正则表达式的第一个匹配（有分组时取第一个分组），无匹配时为空。",
    examples=[('REGEXEXTRACT("编号 HZ-42", "HZ-([0-9]+)")', '"42"')],
)
def regexextract(text: Any, pattern: Any) -> str | None:
    match = _regex(as_text(pattern)).search(as_text(text))
    if match is None:
        return None
    return match.group(1) if match.groups() else match.group(0)


@register(
    "regexreplace",
    "text: text, pattern: text, replacement: text",
    "text",
    category="text",
    en="Replaces every match of a regular expression.",
    zh="替换正则表达式的全部匹配。",
    examples=[('REGEXREPLACE("a1b22", "[0-9]+", "#")', '"a#b#"')],
)
def regexreplace(text: Any, pattern: Any, replacement: Any) -> str:
    return bounded(_regex(as_text(pattern)).sub(as_text(replacement).replace("\\", "\\\\"), as_text(text)))
