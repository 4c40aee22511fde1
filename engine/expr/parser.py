"""Text → AST. The Lark grammar (LALR, basic lexer, strict) is built once; a Transformer
applied during the parse builds the typed AST bottom-up without recursion, so no input depth
can exhaust the Python stack. Lark's errors come back as `ExprError`s in words.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput

from engine.errors import Problem
from engine.expr import ast
from engine.expr.errors import ExprError, problem
from engine.expr.limits import MAX_DEPTH, MAX_NUMBER_DIGITS, MAX_TEXT_LENGTH
from engine.expr.syntax_errors import lexical_problems, token_problem, with_context
from engine.expr.values import parse_duration

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "/": "/", "b": "\b", "f": "\f"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _pos(first: Any, last: Any) -> dict[str, int]:
    """The span from the start of `first` to the end of `last` (tokens or nodes)."""
    start = first.start_pos if isinstance(first, Token) else first.start
    end = last.end_pos if isinstance(last, Token) else last.end
    return {
        "line": first.line or 0,
        "column": first.column or 0,
        "start": start or 0,
        "end_line": last.end_line or 0,
        "end_column": last.end_column or 0,
        "end": end or 0,
    }


def _error(code: str, at: Any, **params: Any) -> ExprError:
    line, column = (at.line, at.column)
    return ExprError(problems=[problem(code, line=line, column=column, **params)])


def _check_name(token: Token) -> str:
    name = str(token)
    if name.startswith("__"):
        raise _error("expr.sandbox.dunder", token, name=name)
    return name


class _ToAst(Transformer):
    """Parse-tree callbacks → AST nodes (run inside the LALR parser, bottom-up)."""

    # --- literals -------------------------------------------------------------------------
    def number(self, children: list[Token]) -> ast.Literal:
        (tok,) = children
        text = str(tok)
        if len(text) > MAX_NUMBER_DIGITS:
            raise _error("expr.syntax.bad_number", tok, value=text[:20] + "…")
        value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            raise _error("expr.syntax.bad_number", tok, value=text)
        return ast.Literal(value, **_pos(tok, tok))

    def duration(self, children: list[Token]) -> ast.Literal:
        (tok,) = children
        try:
            value = parse_duration(str(tok))
        except (ValueError, OverflowError):
            raise _error("expr.syntax.bad_number", tok, value=str(tok)) from None
        return ast.Literal(value, **_pos(tok, tok))

    def string(self, children: list[Token]) -> ast.Literal:
        (tok,) = children
        body = str(tok)[1:-1]

        def unescape(match: re.Match[str]) -> str:
            seq = match.group(1)
            if seq.startswith("u") and len(seq) == 5:
                return chr(int(seq[1:], 16))
            if seq in _ESCAPES:
                return _ESCAPES[seq]
            raise _error("expr.syntax.bad_escape", tok, value="\\" + seq)

        return ast.Literal(_ESCAPE_RE.sub(unescape, body), **_pos(tok, tok))

    def date(self, children: list[Token]) -> ast.Literal:
        (tok,) = children
        body = str(tok)[2:-1].strip()
        value: date | datetime
        try:
            if len(body) == 10:
                value = date.fromisoformat(body)
            elif _DATETIME_RE.match(body):
                value = datetime.fromisoformat(body.replace("Z", "+00:00"))
            else:
                raise ValueError(body)
        except ValueError:
            raise _error("expr.syntax.bad_date", tok, value=body) from None
        return ast.Literal(value, **_pos(tok, tok))

    def true(self, children: list[Token]) -> ast.Literal:
        return ast.Literal(True, **_pos(children[0], children[0]))

    def false(self, children: list[Token]) -> ast.Literal:
        return ast.Literal(False, **_pos(children[0], children[0]))

    def null(self, children: list[Token]) -> ast.Literal:
        return ast.Literal(None, **_pos(children[0], children[0]))

    def list_literal(self, children: list[Any]) -> ast.ListExpr:
        items = tuple(c for c in children if isinstance(c, ast.Node))
        return ast.ListExpr(items, **_pos(children[0], children[-1]))

    def paren(self, children: list[Any]) -> ast.Node:
        return children[1]

    # --- names and operators --------------------------------------------------------------
    def path(self, children: list[Token]) -> ast.Name:
        names = tuple(_check_name(t) for t in children if t.type == "NAME")
        return ast.Name(names, **_pos(children[0], children[-1]))

    def not_op(self, children: list[Any]) -> ast.Unary:
        return ast.Unary("not", children[1], **_pos(children[0], children[1]))

    def unary_op(self, children: list[Any]) -> ast.Unary:
        return ast.Unary(str(children[0]), children[1], **_pos(children[0], children[1]))

    def binary(self, children: list[Any]) -> ast.Binary:
        left, op, right = children
        return ast.Binary(str(op), left, right, **_pos(left, right))

    def range(self, children: list[Any]) -> ast.Range:
        low, _, high = children
        return ast.Range(low, high, **_pos(low, high))

    def comp_op(self, children: list[Token]) -> str:
        text = " ".join(str(t).lower() for t in children)
        return {"=": "==", "<>": "!="}.get(text, text)

    def compare(self, children: list[Any]) -> ast.Compare:
        left, op, right = children
        return ast.Compare(op, left, right, **_pos(left, right))

    def _boolop(self, op: str, children: list[Any]) -> ast.BoolOp:
        operands = tuple(c for c in children if isinstance(c, ast.Node))
        return ast.BoolOp(op, operands, **_pos(operands[0], operands[-1]))

    def or_test(self, children: list[Any]) -> ast.BoolOp:
        return self._boolop("or", children)

    def and_test(self, children: list[Any]) -> ast.BoolOp:
        return self._boolop("and", children)

    # --- calls and aggregates -------------------------------------------------------------
    def source(self, children: list[Any]) -> tuple[str, ast.Name, ast.Node, Token]:
        return ("source", children[0], children[2], children[1])

    def within(self, children: list[Any]) -> tuple[str, ast.Node, Token]:
        return ("within", children[1], children[0])

    def order_by(self, children: list[Any]) -> tuple[str, ast.Name, Token]:
        return ("order_by", children[2], children[0])

    def call(self, children: list[Any]) -> ast.Node:
        name_tok, rpar = children[0], children[-1]
        args = [
            c for c in children[2:-1] if c is not None and not (isinstance(c, Token) and c.type == "COMMA")
        ]
        spelled = _check_name(name_tok)
        pos = _pos(name_tok, rpar)
        if any(isinstance(a, tuple) for a in args):
            return _aggregate(spelled, args, name_tok, pos)
        return ast.Call(spelled.lower(), tuple(args), spelled, **pos)


def _aggregate(spelled: str, args: list[Any], name_tok: Token, pos: dict[str, int]) -> ast.Aggregate:
    """Shape a call containing `where` / `within` / `order by` into an Aggregate node."""
    function = spelled.lower()
    if function not in ast.AGGREGATE_FUNCTIONS:
        extra = next(a for a in args if isinstance(a, tuple))
        raise _error("expr.syntax.where_outside_aggregate", extra[-1], keyword=str(extra[-1]).lower())
    kinds = [
        "source" if isinstance(a, tuple) and a[0] == "source" else a[0] if isinstance(a, tuple) else "expr"
        for a in args
    ]
    if function == "consecutive":
        shape = ["expr", "source", "expr"]
        if kinds[:3] != shape or any(k not in ("within", "order_by") for k in kinds[3:]):
            raise _shape_error(function, name_tok)
        n, source, condition = args[0], args[1], args[2]
    else:
        if not kinds or kinds[0] != "source" or any(k not in ("within",) for k in kinds[1:]):
            raise _shape_error(function, name_tok)
        n, source, condition = None, args[0], None
    options = {a[0]: a for a in args if isinstance(a, tuple) and a[0] in ("within", "order_by")}
    if function == "consecutive" and "order_by" not in options:
        raise _shape_error(function, name_tok)
    source_path: ast.Name = source[1]
    if function in ("count", "exists", "consecutive"):
        if len(source_path.path) != 1:
            raise _shape_error(function, source_path)
        form, field = source_path.path[0], None
    else:
        if len(source_path.path) != 2:
            raise _shape_error(function, source_path)
        form, field = source_path.path
    return ast.Aggregate(
        function,
        form,
        field,
        where=source[2],
        within=options["within"][1] if "within" in options else None,
        order_by=options["order_by"][1].path if "order_by" in options else None,
        n=n,
        condition=condition,
        **pos,
    )


_SHAPES = {
    "count": "count(form where condition[, within 7d])",
    "exists": "exists(form where condition[, within 7d])",
    "sum": "sum(form.field where condition[, within 7d])",
    "avg": "avg(form.field where condition[, within 7d])",
    "min": "min(form.field where condition[, within 7d])",
    "max": "max(form.field where condition[, within 7d])",
    "consecutive": "consecutive(n, form where key_condition, condition, order by field[, within 7d])",
}


def _shape_error(function: str, at: Any) -> ExprError:
    return _error("expr.syntax.aggregate_shape", at, function=function, shape=_SHAPES[function])


@cache
def _lark() -> Lark:
    grammar = resources.files("engine.expr").joinpath("grammar.lark").read_text(encoding="utf-8")
    parser = Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        strict=True,
        maybe_placeholders=True,
        # No propagate_positions: the transformer runs inside the parser and takes every node's
        # span from its first and last token, which is exact and avoids a wrapper per rule.
        transformer=_ToAst(),
    )
    # Lark.lex() builds (and strict-checks) a new lexer per call unless one is kept here.
    parser.lexer = parser._build_lexer()
    return parser


def grammar_parser() -> Lark:
    """The built (cached) Lark parser, for tools that want raw tokens (e.g. highlighting)."""
    return _lark()


@lru_cache(maxsize=4096)
def parse(text: str) -> ast.Node:
    """Parse expression text into the AST, or raise `ExprError` with located problems."""
    if not isinstance(text, str):
        raise ExprError(problems=[Problem("expr.syntax.empty")])
    if len(text) > MAX_TEXT_LENGTH:
        raise ExprError(
            problems=[
                problem("expr.limit.too_long", line=1, column=1, length=len(text), limit=MAX_TEXT_LENGTH)
            ]
        )
    if not text.strip():
        raise ExprError(problems=[problem("expr.syntax.empty", line=1, column=1)])
    _check_bracket_depth(text)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:  # report every stray character, else the first bad token
        raise ExprError(
            problems=lexical_problems(_lark(), text) or [token_problem(_lark(), text, error)]
        ) from None
    except ExprError as error:  # raised by the transformer: add the caret context
        lexical = lexical_problems(_lark(), text)
        raise ExprError(problems=lexical or [with_context(p, text) for p in error.problems]) from None
    assert isinstance(tree, ast.Node)
    _check_depth(text, tree)
    return tree


def _too_deep(text: str, line: int, column: int) -> ExprError:
    return ExprError(
        problems=[problem("expr.limit.too_deep", line=line, column=column, text=text, limit=MAX_DEPTH)]
    )


def _check_bracket_depth(text: str) -> None:
    """Refuse absurd parenthesis nesting before parsing (strings are skipped)."""
    depth, quote, escaped, line, column = 0, "", False, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote or char == "\n":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(text, line, column)
        elif char in ")]":
            depth = max(depth - 1, 0)


def _check_depth(text: str, root: ast.Node) -> None:
    stack: list[tuple[ast.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(text, node.line, node.column)
        stack.extend((child, depth + 1) for child in ast.children(node))
