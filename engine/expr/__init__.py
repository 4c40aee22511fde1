"""SafeFlow's one expression language: every condition and formula in the platform.

    compiled = compile_expr('level == "major" and age_hours(created_at) > 24', schema)
    compiled.evaluate(record)            # → True / False
    compiled.explain(record).lines()     # why

See docs/expr.md for the language and docs/expr-functions.md for the function library.
"""

from typing import Any

from engine.expr import functions as _functions  # noqa: F401  (registers the library)
from engine.expr.aggregates import AggregatePlan, BoundAggregate, bind
from engine.expr.ast import Aggregate, Expr
from engine.expr.calendar import BusinessCalendar
from engine.expr.compiler import CompiledExpr, check, compile_expr
from engine.expr.context import DataSource, EvalContext, LookupSource
from engine.expr.errors import ExprError
from engine.expr.explain import Explanation
from engine.expr.jsonlogic import from_jsonlogic
from engine.expr.memory import MemoryDataSource, MemoryLookupSource
from engine.expr.parser import parse
from engine.expr.types import Schema
from engine.expr.unparse import unparse


def evaluate(text: str, data: Any = None, ctx: EvalContext | None = None) -> Any:
    """Evaluate one expression on a dict (an open schema: every name is a field of `data`)."""
    return compile_expr(text).evaluate({} if data is None else data, ctx)


__all__ = [
    "Aggregate",
    "AggregatePlan",
    "BoundAggregate",
    "BusinessCalendar",
    "CompiledExpr",
    "DataSource",
    "EvalContext",
    "Explanation",
    "Expr",
    "ExprError",
    "LookupSource",
    "MemoryDataSource",
    "MemoryLookupSource",
    "Schema",
    "bind",
    "check",
    "compile_expr",
    "evaluate",
    "from_jsonlogic",
    "parse",
    "unparse",
]
