"""Lark's syntax errors → located problems in words a rule author understands (zh-CN and en).

Lark reports what it expected as terminal names (`RPAR`, `__ANON_3`); authors need "a value"
or "a closing parenthesis ')'" (Lark issue #778 calls raw names inscrutable). Stray characters
are all reported at once; for tokens, the first error (later ones are usually its echoes).
"""

from __future__ import annotations

from collections.abc import Iterable

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.errors import Problem
from engine.expr.errors import caret_context, problem

_VALUE_STARTERS = {
    "NAME",
    "NUMBER",
    "STRING",
    "DATE",
    "DURATION",
    "TRUE",
    "FALSE",
    "NULL",
    "LPAR",
    "LSQB",
    "MINUS",
    "PLUS",
    "NOT",
}
_COMPARISONS = {"EQ", "EQ_ALT", "NE", "NE_ALT", "LT", "LE", "GT", "GE", "IN"}
_ARITHMETIC = {"STAR", "SLASH", "PERCENT", "CARET", "AMP", "DOTDOT"}

_WORDS: dict[str, tuple[str, str]] = {
    "value": ("a value (number, text, field or function)", "一个值（数字、文本、字段或函数）"),
    "comparison": ("a comparison (==, !=, <, >, in …)", "比较运算符（==、!=、<、>、in …）"),
    "operator": ("an operator (+, -, *, /, &)", "运算符（+、-、*、/、&）"),
    "andor": ("'and' / 'or'", "“and” / “or”"),
    "RPAR": ("a closing parenthesis ')'", "右括号 “)”"),
    "LPAR": ("an opening parenthesis '('", "左括号 “(”"),
    "RSQB": ("a closing bracket ']'", "右方括号 “]”"),
    "COMMA": ("a comma ','", "逗号 “,”"),
    "DOT": ("'.'", "“.”"),
    "WHERE": ("'where'", "“where”"),
    "BY": ("'by'", "“by”"),
    "IN": ("'in'", "“in”"),
    "NAME": ("a field name", "字段名"),
    "$END": ("the end of the expression", "表达式结束"),
}

_TOKEN_KIND: dict[str, tuple[str, str]] = {
    "NAME": ("name '{v}'", "名称 “{v}”"),
    "NUMBER": ("number {v}", "数字 {v}"),
    "DURATION": ("duration {v}", "时长 {v}"),
    "STRING": ("text {v}", "文本 {v}"),
    "DATE": ("date {v}", "日期 {v}"),
    "$END": ("the end of the expression", "表达式结束"),
}

_KEYWORDS = {"AND", "OR", "NOT", "IN", "TRUE", "FALSE", "NULL", "WHERE", "WITHIN", "ORDER", "BY"}


def describe_expected(expected: Iterable[str]) -> dict[str, str]:
    """Group expected terminals into a few phrases ("a value, or ')'")."""
    names = set(expected)
    keys: list[str] = []
    if names & {"NAME", "NUMBER", "STRING"}:
        keys.append("value")
        names -= _VALUE_STARTERS | {"AND", "OR"}
    if names & _COMPARISONS == {"IN"}:
        keys.append("IN")
        names.discard("IN")
    elif names & _COMPARISONS:
        keys.append("comparison")
        names -= _COMPARISONS
    if names & (_ARITHMETIC | {"PLUS", "MINUS"}):
        keys.append("operator")
        names -= _ARITHMETIC | {"PLUS", "MINUS"}
    if names & {"AND", "OR"}:
        keys.append("andor")
        names -= {"AND", "OR", "NOT"}
    for name in ("RPAR", "RSQB", "COMMA", "LPAR", "WHERE", "BY", "IN", "DOT", "NAME", "$END"):
        if name in names:
            keys.append(name)
            names.discard(name)
    keys.extend(sorted(n for n in names if n in _WORDS))
    en = [_WORDS[k][0] if k in _WORDS else k for k in keys] or ["something else"]
    zh = [_WORDS[k][1] if k in _WORDS else k for k in keys] or ["其他内容"]
    return {"en": _join(en, "or"), "zh-CN": "、".join(zh[:-1]) + ("或" if len(zh) > 1 else "") + zh[-1]}


def describe_token(token: Token) -> dict[str, str]:
    """What the author wrote at the error spot, in words."""
    value = str(token)
    if token.type in _TOKEN_KIND:
        en, zh = _TOKEN_KIND[token.type]
        return {"en": en.format(v=value), "zh-CN": zh.format(v=value)}
    if token.type in _KEYWORDS:
        return {"en": f"keyword '{value}'", "zh-CN": f"关键字 “{value}”"}
    return {"en": f"'{value}'", "zh-CN": f"“{value}”"}


def _join(parts: list[str], word: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def with_context(found: Problem, text: str) -> Problem:
    if found.line is None or found.column is None or "context" in found.params:
        return found
    params = {**found.params, "context": caret_context(text, found.line, found.column)}
    return Problem(found.code, params=params, line=found.line, column=found.column)


def lexical_problems(lark: Lark, text: str) -> list[Problem]:
    """Every character no token can start with (all at once: lexing resumes after each)."""
    problems: list[Problem] = []
    offset = 0
    while offset < len(text):
        try:
            for _ in lark.lex(text[offset:]):
                pass
            break
        except UnexpectedCharacters as error:
            at = offset + (error.pos_in_stream or 0)
            problems.append(_char_problem(text, at))
            offset = at + 1
    return problems


def _char_problem(text: str, at: int) -> Problem:
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    char = text[at]
    quoted = char in "\"'" or (char == "d" and text[at + 1 : at + 2] in ("'", '"'))
    if quoted:
        return problem("expr.syntax.unterminated_string", line=line, column=column, text=text)
    return problem("expr.syntax.unexpected_char", line=line, column=column, text=text, char=char)


def token_problem(lark: Lark, text: str, error: UnexpectedInput) -> Problem:
    if not isinstance(error, UnexpectedToken):  # pragma: no cover - lexing was checked first
        return problem(
            "expr.syntax.unexpected_char", line=error.line, column=error.column, text=text, char="?"
        )
    token = error.token
    expected = _acceptable(error)
    if token.type == "$END":
        line, column = _end_position(text)
        return problem(
            "expr.syntax.unexpected_end",
            line=line,
            column=column,
            text=text,
            expected=describe_expected(expected),
        )
    previous = _previous_token(lark, text, token)
    if expected == {"LPAR"} and previous is not None and previous.type in ("AND", "OR"):
        # `a and and b`: the second `and` was read as the start of AND(...); blame it instead.
        token, expected = previous, {"NAME", "NUMBER"}
    return problem(
        "expr.syntax.unexpected_token",
        line=token.line,
        column=token.column,
        text=text,
        found=describe_token(token),
        expected=describe_expected(expected),
    )


def _acceptable(error: UnexpectedToken) -> set[str]:
    """The terminals really acceptable here (LALR's merged lookaheads over-report)."""
    try:
        accepts = set(error.interactive_parser.accepts())
    except Exception:  # pragma: no cover - fall back to Lark's own list
        accepts = set()
    return accepts or set(error.expected)


def _previous_token(lark: Lark, text: str, token: Token) -> Token | None:
    previous = None
    try:
        for tok in lark.lex(text):
            if (tok.start_pos or 0) >= (token.start_pos or 0):
                break
            previous = tok
    except UnexpectedInput:
        return previous
    return previous


def _end_position(text: str) -> tuple[int, int]:
    stripped = text.rstrip()
    lines = stripped.split("\n")
    return len(lines), len(lines[-1]) + 1
