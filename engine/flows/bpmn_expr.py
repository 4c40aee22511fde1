"""Translate BPMN condition expressions to the platform's expression language.

Camunda 7 / Flowable write JUEL (`${level == 'major' && score > 3}`), Camunda 8 writes FEEL
(`= level = "major" and score > 3`), other tools plain text. The common comparison/boolean
subset maps token by token; anything else (method calls, functions) is refused so the importer
can list it instead of guessing.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<op>==|!=|>=|<=|&&|\|\||[<>=!()])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_WORDS = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=", "and": "and", "or": "or",
          "not": "not", "true": "true", "false": "false", "null": "null", "empty": None}


def _tokens(text: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            return None
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def dialect_of(text: str) -> tuple[str, str]:
    """("juel" | "feel" | "plain", the bare expression)."""
    stripped = text.strip()
    match = re.fullmatch(r"[$#]\{(.*)\}", stripped, re.DOTALL)
    if match:
        return "juel", match.group(1).strip()
    if stripped.startswith("="):
        return "feel", stripped[1:].strip()
    return "plain", stripped


def translate_condition(text: str) -> str | None:
    """Our expression for a JUEL/FEEL/plain condition, or None when it is outside the subset."""
    dialect, body = dialect_of(text)
    tokens = _tokens(body)
    if not tokens:
        return None
    out: list[str] = []
    for index, (kind, value) in enumerate(tokens):
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        if kind == "string":
            inner = value[1:-1].replace('\\"', '"').replace("\\'", "'")
            out.append('"' + inner.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif kind == "number":
            out.append(value)
        elif kind == "name":
            word = _WORDS.get(value) if value in _WORDS else value
            if value in _WORDS and word is None:
                return None
            if nxt is not None and nxt[1] == "(" and value != "not":
                return None  # a function or method call
            out.append(str(word))
        else:
            if value == "=":
                if dialect != "feel":
                    return None
                out.append("==")
            elif value == "&&":
                out.append("and")
            elif value == "||":
                out.append("or")
            elif value == "!":
                out.append("not")
            else:
                out.append(value)
    result = " ".join(out)
    return result.replace("( ", "(").replace(" )", ")")


_RATIO = re.compile(
    r"^(?:nr|number)OfCompletedInstances/(?:nr|number)OfInstances(>=|>|==)([0-9.]+)$"
)
_ANY = re.compile(r"^(?:nr|number)OfCompletedInstances(>=1|>0|==1)$")
_ALL = re.compile(r"^(?:nr|number)OfCompletedInstances(==|>=)(?:nr|number)OfInstances$")


def completion_mode(condition: str | None) -> tuple[str, float | None] | None:
    """Map a multi-instance completionCondition to (mode, pass_ratio); None when not a known pattern."""
    if condition is None or not condition.strip():
        return "countersign", None
    _dialect, body = dialect_of(condition)
    compact = re.sub(r"\s+", "", body)
    if _ANY.match(compact):
        return "or_sign", None
    if _ALL.match(compact):
        return "countersign", None
    match = _RATIO.match(compact)
    if match:
        ratio = float(match.group(2))
        if ratio >= 1:
            return "countersign", None
        return "vote", ratio
    return None
