"""Rule text → `Rule`s, with every syntax error located and worded for a rule author.

The grammar (grammar.lark) finds the clauses; expression text is cut out by position and kept
as `ExprText` for engine.expr. A syntax error gives line, column, the caret context, what was
found and what could come there in words ("a quoted text", "then"), and a did-you-mean for a
misspelled keyword. After an error the parser restarts at the next `rule "…"` line, so a file
with three broken rules reports three problems at once.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from engine import i18n
from engine.errors import Problem
from engine.expr.values import CalendarDuration, duration_key, parse_duration
from engine.rules import model as m

GRAMMAR = Path(__file__).with_name("grammar.lark")
_RULE_START = re.compile(r'^[ \t]*rule[ \t]+["\']', re.M)

_WORDS: dict[str, dict[str, str]] = {
    "STRING": {"en": "a quoted text", "zh-CN": "带引号的文本"},
    "NAME": {"en": "a name", "zh-CN": "名称"},
    "NUMBER": {"en": "a number", "zh-CN": "数字"},
    "DURATION": {"en": "a duration such as 7d or 24h", "zh-CN": "时长（如 7d、24h）"},
    "DATE": {"en": 'a date such as d"2026-01-31"', "zh-CN": '日期（如 d"2026-01-31"）'},
    "OP": {"en": "an operator", "zh-CN": "运算符"},
    "$END": {"en": "the end of the file", "zh-CN": "文件结尾"},
}


@lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, cache=True)


def _literal(name: str) -> str | None:
    try:
        pattern = parser().get_terminal(name).pattern
    except KeyError:
        return None
    return pattern.value if isinstance(pattern, PatternStr) else None


def _expected_words(names: set[str]) -> dict[str, str]:
    keywords = sorted(f'"{lit}"' for lit in (_literal(n) for n in names) if lit)
    kinds = [n for n in ("NAME", "STRING", "NUMBER", "DURATION", "DATE", "OP", "$END") if n in names]
    return {loc: ", ".join(keywords + [_WORDS[k][loc] for k in kinds]) for loc in i18n.LOCALES}


def _syntax_problem(exc: UnexpectedInput, text: str, line_offset: int, file: str | None) -> Problem:
    expected: set[str] = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.accepts or exc.expected)
        found = "end of file" if exc.token.type == "$END" else repr(str(exc.token))
    elif isinstance(exc, UnexpectedCharacters):
        found = repr(text[exc.pos_in_stream]) if exc.pos_in_stream < len(text) else "end of file"
    else:
        found = "end of file"
    hint = ""
    word = str(getattr(getattr(exc, "token", None), "value", "") or "")
    keywords = [lit for lit in (_literal(n) for n in expected) if lit and lit.isalpha()]
    close = difflib.get_close_matches(word, keywords, n=1, cutoff=0.6) if word.isalpha() else []
    if close:
        hint = close[0]
    line = (exc.line or 1) if not isinstance(exc, UnexpectedEOF) else text.count("\n") + 1
    column = exc.column if isinstance(getattr(exc, "column", None), int) and exc.column > 0 else 1
    context = exc.get_context(text).rstrip("\n") if not isinstance(exc, UnexpectedEOF) else ""
    code = "rules.syntax_hint" if hint else "rules.syntax"
    return Problem(code, {"found": found, "expected": _expected_words(expected), "hint": hint, "context": context},
                   file=file, line=line + line_offset, column=column)


def parse_rules(text: str, file: str | None = None) -> tuple[list[m.Rule], list[Problem]]:
    """Every rule that parses, and a problem for each one that does not."""
    rules: list[m.Rule] = []
    problems: list[Problem] = []
    offset_chars, offset_lines = 0, 0
    while True:
        chunk = text[offset_chars:]
        try:
            tree = parser().parse(chunk)
        except UnexpectedInput as exc:
            problems.append(_syntax_problem(exc, chunk, offset_lines, file))
            error_pos = getattr(exc, "pos_in_stream", None)
            if error_pos is None:
                error_pos = len(chunk)
            # Keep the rules before the broken one, then restart at the next rule after the error.
            rules.extend(_salvage(chunk[:_rule_start_before(chunk, error_pos)], offset_lines, file, problems))
            following = _RULE_START.search(chunk, _line_end(chunk, error_pos))
            if following is None:
                break
            offset_lines += chunk.count("\n", 0, following.start())
            offset_chars += following.start()
            continue
        rules.extend(_Build(chunk, offset_lines).transform(tree))
        break
    return rules, problems


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _rule_start_before(text: str, pos: int) -> int:
    starts = [s.start() for s in _RULE_START.finditer(text) if s.start() <= pos]
    return starts[-1] if starts else 0


def _salvage(text: str, offset_lines: int, file: str | None, problems: list[Problem]) -> list[m.Rule]:
    if not text.strip():
        return []
    try:
        return _Build(text, offset_lines).transform(parser().parse(text))
    except UnexpectedInput:
        return []


def to_timedelta(text: str) -> timedelta:
    value = parse_duration(text)
    return duration_key(value) if isinstance(value, CalendarDuration) else value


def _string(token: Token) -> str:
    raw = str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", raw)


class _Build(Transformer):
    """Parse tree → model. Expression subtrees become the exact source text they cover."""

    def __init__(self, text: str, line_offset: int) -> None:
        super().__init__()
        self.text = text
        self.offset = line_offset

    def _where(self, item: Any) -> m.Where:
        meta = item.meta if isinstance(item, Tree) else item
        return m.Where(meta.line + self.offset, meta.column)

    # --- expressions ------------------------------------------------------------------------
    @v_args(meta=True)
    def expr(self, meta: Any, _children: list[Any]) -> m.ExprText:
        return m.ExprText(self.text[meta.start_pos:meta.end_pos], meta.line + self.offset, meta.column)

    def group(self, children: list[Any]) -> str:
        return ""

    # --- structure --------------------------------------------------------------------------
    def start(self, rules: list[m.Rule]) -> list[m.Rule]:
        return rules

    @v_args(meta=True)
    def rule(self, meta: Any, children: list[Any]) -> m.Rule:
        name = _string(children[0])
        values: dict[str, Any] = {"priority": 0, "enabled": True, "foreach": None, "condition": None,
                                  "else_actions": (), "dedupe": None}
        actions: list[m.Action] = []
        trigger: Any = None
        for child in children[1:]:
            if isinstance(child, tuple) and child and child[0] == "attr":
                values[child[1]] = child[2]
            elif isinstance(child, m.Action):
                actions.append(child)
            elif isinstance(child, m.ForEach):
                values["foreach"] = child
            elif isinstance(child, tuple) and child and child[0] == "if":
                values["condition"] = child[1]
            elif isinstance(child, tuple) and child and child[0] == "else":
                values["else_actions"] = child[1]
            elif isinstance(child, m.Dedupe):
                values["dedupe"] = child
            else:
                trigger = child
        source = self.text[meta.start_pos:meta.end_pos]
        return m.Rule(name=name, trigger=trigger, actions=tuple(actions), line=meta.line + self.offset,
                      source=source, **values)

    def priority(self, c: list[Token]) -> tuple[str, str, int]:
        return ("attr", "priority", int(float(c[0])))

    def enabled(self, _c: list[Any]) -> tuple[str, str, bool]:
        return ("attr", "enabled", True)

    def disabled(self, _c: list[Any]) -> tuple[str, str, bool]:
        return ("attr", "enabled", False)

    # --- triggers ---------------------------------------------------------------------------
    @v_args(meta=True)
    def record_trigger(self, meta: Any, c: list[Any]) -> m.RecordTrigger:
        event, fields = c[1]
        alias = c[2] if len(c) > 2 else None
        return m.RecordTrigger(str(c[0]), event, fields, alias, self._where(meta))

    def created(self, _c: list[Any]) -> tuple[str, tuple[str, ...]]:
        return ("created", ())

    def updated(self, c: list[Token]) -> tuple[str, tuple[str, ...]]:
        return ("updated", tuple(str(t) for t in c))

    def deleted(self, _c: list[Any]) -> tuple[str, tuple[str, ...]]:
        return ("deleted", ())

    def alias(self, c: list[Token]) -> str:
        return str(c[0])

    def at(self, c: list[Token]) -> str:
        return _string(c[0])

    def flow_ref(self, c: list[Token]) -> str | None:
        return _string(c[0]) if c else None

    @v_args(meta=True)
    def flow_trigger(self, meta: Any, c: list[Any]) -> m.FlowTrigger:
        event, node = c[1]
        alias = c[2] if len(c) > 2 else None
        return m.FlowTrigger(c[0], event, node, alias, self._where(meta))

    def started(self, _c: list[Any]) -> tuple[str, None]:
        return ("started", None)

    def completed(self, _c: list[Any]) -> tuple[str, None]:
        return ("completed", None)

    def rejected(self, _c: list[Any]) -> tuple[str, None]:
        return ("rejected", None)

    def node_entered(self, c: list[Token]) -> tuple[str, str]:
        return ("node_entered", _string(c[0]))

    def node_completed(self, c: list[Token]) -> tuple[str, str]:
        return ("node_completed", _string(c[0]))

    def task_overdue(self, _c: list[Any]) -> tuple[str, None]:
        return ("task_overdue", None)

    @v_args(meta=True)
    def every(self, meta: Any, c: list[Token]) -> m.ScheduleTrigger:
        return m.ScheduleTrigger("every", every=to_timedelta(str(c[0])), where=self._where(meta))

    @v_args(meta=True)
    def daily(self, meta: Any, c: list[str]) -> m.ScheduleTrigger:
        return m.ScheduleTrigger("daily", at=c[0] if c else None, where=self._where(meta))

    @v_args(meta=True)
    def weekly(self, meta: Any, c: list[Any]) -> m.ScheduleTrigger:
        return m.ScheduleTrigger("weekly", day=str(c[0]).lower(), at=c[1] if len(c) > 1 else None,
                                 where=self._where(meta))

    @v_args(meta=True)
    def cron(self, meta: Any, c: list[Token]) -> m.ScheduleTrigger:
        return m.ScheduleTrigger("cron", cron=_string(c[0]), where=self._where(meta))

    @v_args(meta=True)
    def reading_trigger(self, meta: Any, c: list[Any]) -> m.ReadingTrigger:
        return m.ReadingTrigger(_string(c[0]), c[1] if len(c) > 1 else None, self._where(meta))

    @v_args(meta=True)
    def webhook_trigger(self, meta: Any, c: list[Any]) -> m.WebhookTrigger:
        return m.WebhookTrigger(_string(c[0]), c[1] if len(c) > 1 else None, self._where(meta))

    # --- clauses ----------------------------------------------------------------------------
    @v_args(meta=True)
    def foreach(self, meta: Any, c: list[Any]) -> m.ForEach:
        return m.ForEach(str(c[0]), str(c[1]), c[2] if len(c) > 2 else None, self._where(meta))

    def condition(self, c: list[m.ExprText]) -> tuple[str, m.ExprText]:
        return ("if", c[0])

    def else_branch(self, c: list[m.Action]) -> tuple[str, tuple[m.Action, ...]]:
        return ("else", tuple(c))

    def dedupe(self, c: list[Any]) -> m.Dedupe:
        return m.Dedupe(tuple(c[:-1]), to_timedelta(str(c[-1])))

    # --- actions ----------------------------------------------------------------------------
    def recipients(self, c: list[m.Recipient]) -> tuple[m.Recipient, ...]:
        return tuple(c)

    def role(self, c: list[Any]) -> m.RoleRecipient:
        return m.RoleRecipient(_string(c[0]), c[1] if len(c) > 1 else None)

    def manager(self, c: list[m.ExprText]) -> m.ManagerRecipient:
        return m.ManagerRecipient(c[0])

    def person(self, c: list[m.ExprText]) -> m.ExprRecipient:
        return m.ExprRecipient(c[0])

    def cc(self, c: list[Any]) -> tuple[str, tuple[m.Recipient, ...]]:
        return ("cc", c[0])

    def via(self, c: list[Token]) -> tuple[str, tuple[str, ...]]:
        return ("via", tuple(str(t) for t in c))

    def template(self, c: list[Token]) -> tuple[str, str]:
        return ("template", _string(c[0]))

    def message(self, c: list[Token]) -> tuple[str, str]:
        return ("message", _string(c[0]))

    def assignments(self, c: list[m.Assignment]) -> tuple[m.Assignment, ...]:
        return tuple(c)

    def assignment(self, c: list[Any]) -> m.Assignment:
        name, op, value = c
        if str(op) != "=":
            raise _BadAssignment(op)
        return m.Assignment(str(name), value, m.Where(name.line + self.offset, name.column))

    def _delivery(self, parts: list[Any]) -> m.Delivery:
        values: dict[str, Any] = {}
        for part in parts:
            key = "channels" if part[0] == "via" else part[0]
            values[key] = part[1]
        return m.Delivery(**values)

    def _split(self, c: list[Any]) -> tuple[list[Any], list[Any]]:
        deliveries = [x for x in c if isinstance(x, tuple) and x and x[0] in ("via", "template", "message")]
        return [x for x in c if not (isinstance(x, tuple) and x and x[0] in ("via", "template", "message"))], deliveries

    @v_args(meta=True)
    def notify(self, meta: Any, c: list[Any]) -> m.Action:
        rest, deliveries = self._split(c)
        return m.Action("notify", self._where(meta), to=rest[0], delivery=self._delivery(deliveries))

    @v_args(meta=True)
    def escalate(self, meta: Any, c: list[Any]) -> m.Action:
        rest, deliveries = self._split(c)
        cc = next((x[1] for x in rest if isinstance(x, tuple) and x and x[0] == "cc"), ())
        return m.Action("escalate", self._where(meta), to=rest[0], cc=cc, delivery=self._delivery(deliveries))

    @v_args(meta=True)
    def create_record(self, meta: Any, c: list[Any]) -> m.Action:
        return m.Action("create_record", self._where(meta), form=str(c[0]), assignments=c[1] if len(c) > 1 else ())

    @v_args(meta=True)
    def update_record(self, meta: Any, c: list[Any]) -> m.Action:
        return m.Action("update_record", self._where(meta), target=c[0], assignments=c[1])

    @v_args(meta=True)
    def start_flow(self, meta: Any, c: list[Any]) -> m.Action:
        return m.Action("start_flow", self._where(meta), name=_string(c[0]), target=c[1] if len(c) > 1 else None)

    @v_args(meta=True)
    def raise_alert(self, meta: Any, c: list[Any]) -> m.Action:
        rest, deliveries = self._split(c)
        to = rest[2] if len(rest) > 2 else ()
        return m.Action("raise_alert", self._where(meta), name=_string(rest[0]), level=str(rest[1]), to=to,
                        delivery=self._delivery(deliveries))

    @v_args(meta=True)
    def call_webhook(self, meta: Any, c: list[Any]) -> m.Action:
        return m.Action("call_webhook", self._where(meta), name=_string(c[0]), assignments=c[1] if len(c) > 1 else ())


class _BadAssignment(Exception):
    def __init__(self, token: Token) -> None:
        super().__init__(str(token))
        self.token = token


i18n.register_messages({
    "rules.syntax": {"zh-CN": "语法错误：此处是 {found}，应为：{expected}",
                     "en": "Syntax error: found {found}, expected one of: {expected}"},
    "rules.syntax_hint": {"zh-CN": "语法错误：此处是 {found}，是否想写 “{hint}”？应为：{expected}",
                          "en": "Syntax error: found {found}; did you mean '{hint}'? Expected one of: {expected}"},
})
