"""Text functions (Excel names): CONCAT, LEFT, MID, SUBSTITUTE, REGEXMATCH, TEXT …

Positions are 1-based like Excel. Regular expressions are length-limited and patterns with
nested quantifiers (the classic catastrophic-backtracking shape) are refused.
"""

from __future__ import annotations

from typing import Any

from engine.expr.errors import fail
from engine.expr.functions.formatting import format_value
from engine.expr.functions.registry import register
from engine.expr.limits import MAX_LIST_ITEMS, MAX_TEXT_RESULT
from engine.expr.runtime import type_error, tz_of
from engine.expr.values import to_text


def _method(method: str) -> Any:
    """Fast path `x.upper()` when x is exactly str; anything else goes to the function."""

    def fast(args: Any, tmp: Any, fallback: str) -> str:
        t = tmp()
        return f"({t}.{method}() if type({t} := {args[0]}) is _str else {fallback}({t}))"

    return fast


def _binary(template: str) -> Any:
    """Fast path for two text arguments, e.g. `b in a` for CONTAINS(a, b)."""

    def fast(args: Any, tmp: Any, fallback: str) -> str:
        a = tmp()
        if args[1][:1] in ("'", '"'):  # a text literal: no need to check its type
            test = template.format(a=a, b=args[1])
            return f"({test} if type({a} := {args[0]}) is _str else {fallback}({a}, {args[1]}))"
        b = tmp()
        test = template.format(a=a, b=b)
        guard = f"(type({a} := {args[0]}) is _str) & (type({b} := {args[1]}) is _str)"
        return f"({test} if {guard} else {fallback}({a}, {b}))"

    return fast


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise type_error("text", value)


def bounded(text: str) -> str:
    if len(text) > MAX_TEXT_RESULT:
        raise fail("expr.limit.text_too_long", limit=MAX_TEXT_RESULT)
    return text


@register(
    "concat",
    "values: any...",
    "text",
    category="text",
    propagate_null=False,
    en="Joins values into one text; null counts as empty text.",
    zh="将多个值连接为一段文本，空值视为空文本。",
    examples=[('CONCAT("A", 1, "-", true)', '"A1-true"')],
)
def concat(*values: Any) -> str:
    return bounded("".join(to_text(v) for v in values))


@register(
    "left",
    "text: text, count: integer?",
    "text",
    category="text",
    en="The first characters of a text (1 by default).",
    zh="取文本开头的若干字符（默认 1 个）。",
    examples=[('LEFT("安全生产", 2)', '"安全"')],
)
def left(text: Any, count: Any = 1) -> str:
    return as_text(text)[: max(int(count or 0), 0)]


@register(
    "right",
    "text: text, count: integer?",
    "text",
    category="text",
    en="The last characters of a text (1 by default).",
    zh="取文本末尾的若干字符（默认 1 个）。",
    examples=[('RIGHT("HZ-2026", 4)', '"2026"')],
)
def right(text: Any, count: Any = 1) -> str:
    n = max(int(count or 0), 0)
    return as_text(text)[-n:] if n else ""


@register(
    "mid",
    "text: text, start: integer, count: integer",
    "text",
    category="text",
    en="Characters from a 1-based position.",
    zh="从第 start 个字符起取 count 个字符。",
    examples=[('MID("HZ-2026-001", 4, 4)', '"2026"')],
)
def mid(text: Any, start: Any, count: Any) -> str:
    begin = max(int(start), 1) - 1
    return as_text(text)[begin : begin + max(int(count), 0)]


@register(
    "len",
    "value: text|list[any]",
    "integer",
    category="text",
    propagate_null=False,
    en="Number of characters of a text, or items of a list; null is 0.",
    zh="文本的字符数或列表的项数；空值为 0。",
    examples=[('LEN("隐患")', "2"), ("LEN([1, 2, 3])", "3")],
)
def length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple):
        return len(value)
    raise type_error("text", value)


@register(
    "upper",
    "text: text",
    "text",
    category="text",
    fast=_method("upper"),
    en="Upper-case letters.",
    zh="转为大写字母。",
    examples=[('UPPER("ppe")', '"PPE"')],
)
def upper(text: Any) -> str:
    return as_text(text).upper()


@register(
    "lower",
    "text: text",
    "text",
    category="text",
    fast=_method("lower"),
    en="Lower-case letters.",
    zh="转为小写字母。",
    examples=[('LOWER("PPE")', '"ppe"')],
)
def lower(text: Any) -> str:
    return as_text(text).lower()


@register(
    "trim",
    "text: text",
    "text",
    category="text",
    en="Removes leading/trailing spaces and collapses inner runs of spaces.",
    zh="去掉首尾空格，并将中间连续空格合并为一个。",
    examples=[('TRIM("  a   b ")', '"a b"')],
)
def trim(text: Any) -> str:
    return " ".join(as_text(text).split())


@register(
    "replace",
    "text: text, start: integer, count: integer, new: text",
    "text",
    category="text",
    en="Replaces `count` characters from a 1-based position (Excel REPLACE).",
    zh="从第 start 个字符起，用新文本替换 count 个字符（同 Excel REPLACE）。",
    examples=[('REPLACE("HZ-0001", 1, 2, "YH")', '"YH-0001"')],
)
def replace(text: Any, start: Any, count: Any, new: Any) -> str:
    source = as_text(text)
    begin = max(int(start), 1) - 1
    return bounded(source[:begin] + as_text(new) + source[begin + max(int(count), 0) :])


@register(
    "substitute",
    "text: text, old: text, new: text, instance: integer?",
    "text",
    category="text",
    en="Replaces occurrences of `old` by `new` (all, or only the n-th).",
    zh="将文本中的 old 替换为 new（全部替换，或只替换第 n 次出现）。",
    examples=[('SUBSTITUTE("a-b-c", "-", "/")', '"a/b/c"'), ('SUBSTITUTE("a-b-c", "-", "/", 2)', '"a-b/c"')],
)
def substitute(text: Any, old: Any, new: Any, instance: Any = None) -> str:
    source, old_text, new_text = as_text(text), as_text(old), as_text(new)
    if not old_text:
        return source
    if instance is None:
        return bounded(source.replace(old_text, new_text))
    at = -1
    for _ in range(int(instance)):
        at = source.find(old_text, at + 1)
        if at < 0:
            return source
    return source[:at] + new_text + source[at + len(old_text) :]


@register(
    "contains",
    "text: text, part: text",
    "boolean",
    category="text",
    fast=_binary("{b} in {a}"),
    en="Whether the text contains `part` (case-sensitive); false for null.",
    zh="文本是否包含 part（区分大小写）；空值为否。",
    examples=[('CONTAINS("氨气泄漏", "泄漏")', "true")],
)
def contains(text: Any, part: Any) -> bool:
    return as_text(part) in as_text(text)


@register(
    "startswith",
    "text: text, prefix: text",
    "boolean",
    category="text",
    fast=_binary("{a}.startswith({b})"),
    en="Whether the text starts with `prefix`.",
    zh="文本是否以 prefix 开头。",
    examples=[('STARTSWITH("HZ-001", "HZ")', "true")],
)
def startswith(text: Any, prefix: Any) -> bool:
    return as_text(text).startswith(as_text(prefix))


@register(
    "endswith",
    "text: text, suffix: text",
    "boolean",
    category="text",
    fast=_binary("{a}.endswith({b})"),
    en="Whether the text ends with `suffix`.",
    zh="文本是否以 suffix 结尾。",
    examples=[('ENDSWITH("report.pdf", ".pdf")', "true")],
)
def endswith(text: Any, suffix: Any) -> bool:
    return as_text(text).endswith(as_text(suffix))


@register(
    "text",
    "value: any, format: text?",
    "text",
    category="text",
    propagate_null=False,
    needs_context=True,
    en='A value as text; numbers accept an Excel-like format ("0.00", "#,##0", "0%"), dates '
    'a pattern ("YYYY-MM-DD HH:mm").',
    zh='将值转为文本；数字可用类 Excel 格式（"0.00"、"#,##0"、"0%"），日期可用 "YYYY-MM-DD HH:mm" 格式。',
    examples=[
        ('TEXT(3.14159, "0.00")', '"3.14"'),
        ('TEXT(0.256, "0.0%")', '"25.6%"'),
        ('TEXT(1234567, "#,##0")', '"1,234,567"'),
        ('TEXT(d"2026-03-01", "YYYY/MM/DD")', '"2026/03/01"'),
    ],
)
def text(c: Any, value: Any, fmt: Any = None) -> str:
    return format_value(value, fmt, tz_of(c))


@register(
    "find",
    "part: text, text: text, start: integer?",
    "integer",
    category="text",
    en="1-based position of `part` in the text, or null when absent.",
    zh="part 在文本中的位置（从 1 开始），找不到时为空。",
    examples=[('FIND("-", "HZ-001")', "3")],
)
def find(part: Any, text: Any, start: Any = 1) -> int | None:
    at = as_text(text).find(as_text(part), max(int(start or 1), 1) - 1)
    return at + 1 if at >= 0 else None


@register(
    "split",
    "text: text, separator: text",
    "list[text]",
    category="text",
    en="Splits text into a list at each separator.",
    zh="按分隔符将文本拆分为列表。",
    examples=[('SPLIT("a,b,c", ",")', '["a", "b", "c"]')],
)
def split(text: Any, separator: Any) -> list[str]:
    sep = as_text(separator)
    parts = as_text(text).split(sep) if sep else list(as_text(text))
    if len(parts) > MAX_LIST_ITEMS:
        raise fail("expr.limit.list_too_long", limit=MAX_LIST_ITEMS)
    return parts


@register(
    "rept",
    "text: text, times: integer",
    "text",
    category="text",
    en="Repeats a text (bounded length).",
    zh="将文本重复若干次（长度有上限）。",
    examples=[('REPT("★", 3)', '"★★★"')],
)
def rept(text: Any, times: Any) -> str:
    count = max(int(times), 0)
    if len(as_text(text)) * count > MAX_TEXT_RESULT:
        raise fail("expr.limit.text_too_long", limit=MAX_TEXT_RESULT)
    return as_text(text) * count


@register(
    "padleft",
    "text: text, length: integer, fill: text?",
    "text",
    category="text",
    en="Pads the text on the left to a length (with spaces or `fill`).",
    zh="在文本左侧补齐到指定长度（默认补空格）。",
    examples=[('PADLEFT("7", 3, "0")', '"007"')],
)
def padleft(text: Any, length: Any, fill: Any = " ") -> str:
    size = int(length)
    if size > MAX_TEXT_RESULT:
        raise fail("expr.limit.text_too_long", limit=MAX_TEXT_RESULT)
    pad = as_text(fill or " ")
    source = as_text(text)
    if len(source) >= size or not pad:
        return source
    return (pad * size)[: size - len(source)] + source


@register(
    "value",
    "text: text|number",
    "number",
    category="text",
    en='A number from text ("1,234.5", "15%"); null when it is not a number.',
    zh='将文本转为数字（支持 "1,234.5"、"15%"）；无法转换时为空。',
    examples=[('VALUE("1,234.5")', "1234.5"), ('VALUE("15%")', "0.15")],
)
def value(text: Any) -> float | int | None:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return text
    source = as_text(text).strip().replace(",", "")
    scale = 1.0
    if source.endswith("%"):
        source, scale = source[:-1], 0.01
    try:
        number = float(source) * scale
    except ValueError:
        return None
    return (
        int(number)
        if number.is_integer() and scale == 1.0 and "." not in source and "e" not in source.lower()
        else number
    )


@register(
    "substr",
    "text: text, start: integer, length: integer?",
    "text",
    category="text",
    en="JSON Logic's substr: 0-based start, negative counts from the end; a negative length "
    "stops that many characters before the end.",
    zh="JSON Logic 的 substr：起点从 0 开始，负数从末尾倒数；长度为负时表示截止到距末尾若干字符处。",
    examples=[
        ('SUBSTR("jsonlogic", 4)', '"logic"'),
        ('SUBSTR("jsonlogic", -5)', '"logic"'),
        ('SUBSTR("jsonlogic", 1, 3)', '"son"'),
        ('SUBSTR("jsonlogic", 4, -2)', '"log"'),
    ],
)
def substr(text: Any, start: Any, length: Any = None) -> str:
    source = to_text(text)
    begin = int(start)
    begin = max(len(source) + begin, 0) if begin < 0 else begin
    if length is None:
        return source[begin:]
    count = int(length)
    if count < 0:
        return source[begin : len(source) + count]
    return source[begin : begin + count]
