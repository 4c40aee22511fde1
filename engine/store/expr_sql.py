"""Bound expression ASTs → SQLAlchemy Core clauses (aggregate filters, report filters).

The SQL must answer exactly what the Python evaluation answers, including for nulls: SQL is
three-valued (`NULL = 'x'` is unknown and `NOT unknown` is unknown), the expression language is
two-valued (a comparison with null is false, so `not (area == "A")` is true for a null area).
Every boolean construct is therefore compiled together with its polarity, adding the explicit
`IS NULL` tests that make the negation come out as Python's. Anything without a faithful SQL
form raises an `ExprError` naming the construct, and the caller evaluates it in Python instead.

Record data lives in a JSON column (JSON on SQLite, JSONB on PostgreSQL); dates are stored as
"YYYY-MM-DD" and datetimes as UTC "YYYY-MM-DDTHH:MM:SSZ", so they compare correctly as text and
date literals are formatted the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Float, and_, cast, false, func, literal, null, or_, true
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.elements import ColumnElement

from engine.expr import ast
from engine.expr.calendar import SITE_TZ
from engine.expr.errors import ExprError, problem
from engine.expr.types import BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, TEXT, Schema, Type
from engine.expr.values import CalendarDuration, format_date, format_datetime_utc
from engine.store.types import UTCDateTime

ColumnFor = Callable[[str], ColumnElement[Any]]
_BOOLEAN_CALLS = ("isblank", "contains", "startswith")
_VALUE_CALLS = ("lower", "upper", "len")
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def to_sql(
    node: ast.Node,
    column_for: ColumnFor,
    *,
    dialect_name: str = "sqlite",
    schema: Schema | None = None,
    tz: tzinfo = SITE_TZ,
) -> ColumnElement[Any]:
    """Compile a bound boolean or arithmetic AST; `schema` (optional) types the columns and
    `tz` is the site timezone that naive datetime literals (`d"2026-03-16 08:00"`) mean."""
    compiler = _SqlCompiler(column_for, dialect_name, schema, tz)
    if _is_boolean(node):
        return compiler.boolean(node, negate=False)
    return compiler.value(node, None)


def _is_boolean(node: ast.Node) -> bool:
    if isinstance(node, ast.Compare | ast.BoolOp):
        return True
    if isinstance(node, ast.Unary):
        return node.op == "not"
    if isinstance(node, ast.Literal):
        return isinstance(node.value, bool)
    return isinstance(node, ast.Call) and node.name in _BOOLEAN_CALLS


def _hint_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str | date):
        return "text"
    return None


class _SqlCompiler:
    def __init__(self, column_for: ColumnFor, dialect: str, schema: Schema | None, tz: tzinfo) -> None:
        self.column_for = column_for
        self.dialect = dialect
        self.schema = schema
        self.tz = tz

    def refuse(self, node: ast.Node, en: str, zh: str) -> ExprError:
        return ExprError(
            problems=[
                problem(
                    "expr.runtime.not_pushable",
                    line=node.line or None,
                    column=node.column or None,
                    construct={"en": en, "zh-CN": zh},
                )
            ]
        )

    # --- values ---------------------------------------------------------------------------
    def value(self, node: ast.Node, hint: str | None) -> ColumnElement[Any]:
        if isinstance(node, ast.Literal):
            return self.literal(node)
        if isinstance(node, ast.Name):
            return self.column(node, hint)
        if isinstance(node, ast.Binary) and node.op in ("+", "-", "*", "/"):
            left, right = self.value(node.left, "number"), self.value(node.right, "number")
            if node.op == "/":
                return cast(left, Float) / func.nullif(right, 0)
            return {"+": left + right, "-": left - right, "*": left * right}[node.op]
        if isinstance(node, ast.Unary) and node.op == "-":
            return -self.value(node.operand, "number")
        if isinstance(node, ast.Call) and node.name in _VALUE_CALLS and len(node.args) == 1:
            arg = self.value(node.args[0], "text")
            if node.name == "len":
                return func.coalesce(func.length(arg), 0)
            return func.lower(arg) if node.name == "lower" else func.upper(arg)
        if isinstance(node, ast.Call):
            raise self.refuse(node, f"the function {node.name.upper()}", f"函数 {node.name.upper()}")
        if isinstance(node, ast.Binary):
            raise self.refuse(node, f"the operator {node.op}", f"运算符 {node.op}")
        raise self.refuse(
            node, f"a {type(node).__name__} used as a value", f"作为值使用的 {type(node).__name__}"
        )

    def literal(self, node: ast.Literal) -> ColumnElement[Any]:
        value = node.value
        if value is None:
            return null()
        if isinstance(value, datetime):
            return literal(format_datetime_utc(value, self.tz))
        if isinstance(value, date):
            return literal(format_date(value))
        if isinstance(value, timedelta | CalendarDuration):
            raise self.refuse(node, "a duration value", "时长值")
        if isinstance(value, bool | int | float | str):
            return literal(value)
        raise self.refuse(node, f"a {type(value).__name__} value", f"{type(value).__name__} 类型的值")

    def column(self, node: ast.Name, hint: str | None) -> ColumnElement[Any]:
        col = self.column_for(node.dotted)
        kind = self._field_kind(node) or hint
        if not isinstance(getattr(col, "type", None), sqltypes.JSON) or not hasattr(col, "as_string"):
            return col
        if kind == "number":
            return col.as_float()
        if kind == "boolean":
            return col.as_boolean()
        return col.as_string()

    def _field_kind(self, node: ast.Name) -> str | None:
        if self.schema is None:
            return None
        found: Type | None = self.schema.lookup(node.path[0]) if len(node.path) == 1 else None
        if found in (INTEGER, NUMBER):
            return "number"
        if found == BOOLEAN:
            return "boolean"
        if found in (TEXT, DATE, DATETIME):
            return "text"
        return None

    def _pair_hint(self, left: ast.Node, right: ast.Node) -> str | None:
        for side in (left, right):
            if isinstance(side, ast.Literal) and (hint := _hint_of(side.value)):
                return hint
            if isinstance(side, ast.Binary | ast.Unary) and side.op in "+-*/":
                return "number"
            if isinstance(side, ast.Call) and side.name in _VALUE_CALLS:
                return "number" if side.name == "len" else "text"
        return None

    # --- booleans -------------------------------------------------------------------------
    def boolean(self, node: ast.Node, negate: bool) -> ColumnElement[Any]:
        if isinstance(node, ast.Literal):
            if node.value is None or isinstance(node.value, bool):
                return true() if bool(node.value) != negate else false()
            raise self.refuse(node, "a non-boolean condition", "非布尔条件")
        if isinstance(node, ast.BoolOp):
            parts = [self.boolean(o, negate) for o in node.operands]
            conjunction = (node.op == "and") != negate
            return and_(*parts) if conjunction else or_(*parts)
        if isinstance(node, ast.Unary) and node.op == "not":
            return self.boolean(node.operand, not negate)
        if isinstance(node, ast.Compare):
            return self.compare(node, negate)
        if isinstance(node, ast.Name):
            col = self.column(node, "boolean")
            return or_(col == false(), col.is_(None)) if negate else col == true()
        if isinstance(node, ast.Call) and node.name in _BOOLEAN_CALLS:
            return self.boolean_call(node, negate)
        if isinstance(node, ast.Call):
            raise self.refuse(node, f"the function {node.name.upper()}", f"函数 {node.name.upper()}")
        raise self.refuse(
            node, f"a {type(node).__name__} used as a condition", f"作为条件使用的 {type(node).__name__}"
        )

    def _null_tests(self, *sides: tuple[ast.Node, ColumnElement[Any]]) -> list[ColumnElement[Any]]:
        return [col.is_(None) for node, col in sides if not isinstance(node, ast.Literal)]

    def compare(self, node: ast.Compare, negate: bool) -> ColumnElement[Any]:
        if node.op in ("in", "not in"):
            return self.membership(node, negate != (node.op == "not in"))
        hint = self._pair_hint(node.left, node.right)
        left, right = self.value(node.left, hint), self.value(node.right, hint)
        stamped_left, stamped_right = self._as_timestamp(node.left, right), self._as_timestamp(node.right, left)
        left = left if stamped_left is None else stamped_left
        right = right if stamped_right is None else stamped_right
        if node.op in ("==", "!="):
            equal = (node.op == "==") != negate
            for side, target in ((node.left, right), (node.right, left)):
                if isinstance(side, ast.Literal) and side.value is None:
                    return target.is_(None) if equal else target.is_not(None)
            if isinstance(node.left, ast.Literal) or isinstance(node.right, ast.Literal):
                if equal:
                    return left == right
                return or_(left != right, *self._null_tests((node.left, left), (node.right, right)))
            return left.is_not_distinct_from(right) if equal else left.is_distinct_from(right)
        stamped = stamped_left is not None or stamped_right is not None
        if hint == "text" and self.dialect == "postgresql" and not stamped:
            left, right = left.collate("C"), right.collate("C")
        op = _NEGATE[node.op] if negate else node.op
        clause = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        if not negate:
            return clause
        return or_(clause, *self._null_tests((node.left, left), (node.right, right)))

    def _as_timestamp(self, node: ast.Node, other: ColumnElement[Any]) -> ColumnElement[Any] | None:
        """A date/datetime literal compared with a real timestamp column (created_at, …) is bound
        as an aware datetime through the column's own type, not as ISO text: each backend stores
        timestamps its own way ("2026-03-16 08:00:00" on SQLite), so text would compare wrongly.
        A date means midnight of that day in the site timezone. None: nothing to change."""
        column_type = getattr(other, "type", None)
        if not isinstance(node, ast.Literal) or not isinstance(node.value, date) or not isinstance(
                column_type, sqltypes.DateTime | UTCDateTime):
            return None
        value = node.value
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=self.tz)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return literal(value.astimezone(UTC), type_=column_type)

    def membership(self, node: ast.Compare, negate: bool) -> ColumnElement[Any]:
        container = node.right
        if isinstance(container, ast.Range):
            hint = self._pair_hint(container.low, container.high)
            item = self.value(node.left, hint)
            low, high = self.value(container.low, hint), self.value(container.high, hint)
            if not negate:
                return and_(item >= low, item <= high)
            return or_(item < low, item > high, *self._null_tests((node.left, item)))
        if isinstance(container, ast.ListExpr) and all(isinstance(i, ast.Literal) for i in container.items):
            values = [i.value for i in container.items if isinstance(i, ast.Literal)]
            if any(isinstance(v, list | dict | timedelta | CalendarDuration) for v in values):
                raise self.refuse(node, "a list of non-scalar values", "包含非简单值的列表")
            has_null = None in values
            present = [
                format_date(v)
                if type(v) is date
                else format_datetime_utc(v, self.tz)
                if isinstance(v, datetime)
                else v
                for v in values
                if v is not None
            ]
            hint = _hint_of(present[0]) if present else None
            item = self.value(node.left, hint)
            inside = item.in_(present) if present else false()
            if not negate:
                return or_(inside, item.is_(None)) if has_null else inside
            outside = item.not_in(present) if present else true()
            return and_(outside, item.is_not(None)) if has_null else or_(outside, item.is_(None))
        if isinstance(container, ast.Literal) and isinstance(container.value, list):
            return self.membership(
                ast.Compare(node.op, node.left, ast.ListExpr(tuple(ast.Literal(v) for v in container.value))),
                negate,
            )
        if (isinstance(node.left, ast.Literal) and isinstance(node.left.value, str)) or (
            isinstance(container, ast.Name) and _hint_of(getattr(node.left, "value", None)) == "text"
        ):
            return self.boolean_call(ast.Call("contains", (container, node.left)), negate)
        raise self.refuse(node, "'in' over this value", "对该值使用 in")

    def boolean_call(self, node: ast.Call, negate: bool) -> ColumnElement[Any]:
        args = [self.value(a, "text") for a in node.args]
        sides = list(zip(node.args, args, strict=True))
        if node.name == "isblank" and len(args) == 1:
            (x,) = args
            blank = func.trim(x) == ""
            return and_(x.is_not(None), func.trim(x) != "") if negate else or_(x.is_(None), blank)
        if node.name == "contains" and len(args) == 2:
            text, part = args
            position = func.strpos(text, part) if self.dialect == "postgresql" else func.instr(text, part)
            return or_(position == 0, *self._null_tests(*sides)) if negate else position > 0
        if node.name == "startswith" and len(args) == 2:
            text, prefix = args
            head = func.substr(text, 1, func.length(prefix)) == prefix
            return or_(~head, *self._null_tests(*sides)) if negate else head
        raise self.refuse(node, f"the function {node.name.upper()}", f"函数 {node.name.upper()}")


def column_map(columns: Mapping[str, ColumnElement[Any]]) -> ColumnFor:
    """A `column_for` over a fixed mapping of field paths to columns."""

    def column_for(path: str) -> ColumnElement[Any]:
        if path not in columns:
            raise ExprError(
                problems=[
                    problem(
                        "expr.runtime.not_pushable",
                        construct={"en": f"the field {path}", "zh-CN": f"字段 {path}"},
                    )
                ]
            )
        return columns[path]

    return column_for
