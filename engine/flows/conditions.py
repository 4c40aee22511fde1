"""Gateway conditions and assignee expressions, in the platform's one expression language.

Flows never parse expressions themselves: text goes to `engine.expr`, type-checked against the
flow's form schema, compiled once per pinned flow version and evaluated per step.
"""

from __future__ import annotations

import dis
from datetime import datetime
from typing import Any

from engine.errors import Problem


def bool_type() -> Any:
    from engine.expr import types

    return types.BOOLEAN


def check_condition(text: str, schema: Any) -> list[Problem]:
    """Problems with a gateway condition (must be a boolean over the form's fields)."""
    from engine.expr import check

    return list(check(text, schema, expected=bool_type()))


def check_expression(text: str, schema: Any) -> list[Problem]:
    """Problems with an expression of any type (assignees, automation values)."""
    from engine.expr import check

    return list(check(text, schema))


def compile_condition(text: str, schema: Any) -> Any:
    from engine.expr import compile_expr

    return compile_expr(text, schema, expected=bool_type())


def compile_expression(text: str, schema: Any) -> Any:
    from engine.expr import compile_expr

    return compile_expr(text, schema)


def reads_context(compiled: Any) -> bool:
    """Whether a compiled expression ever reads its context argument (the clock, calendar,
    lookups): most branch conditions only compare fields, and building a context per step costs
    more than evaluating them. Read off the generated function's code, so it cannot drift from
    what the expression compiler emits."""
    code = compiled.evaluate.__code__
    if code.co_argcount < 2:
        return False
    name = code.co_varnames[1]
    if name in code.co_cellvars:
        return True
    return any(ins.argval == name for ins in dis.get_instructions(code) if ins.opname.startswith("LOAD"))


def eval_context(now: datetime, calendar: Any = None, timezone: Any = None, lookup: Any = None, *,
                 calendar_loader: Any = None) -> Any:
    from engine.expr.context import EvalContext

    kwargs: dict[str, Any] = {"now": now, "lookup": lookup, "calendar_loader": calendar_loader}
    if calendar is not None:
        kwargs["calendar"] = calendar
        kwargs["tz"] = calendar.tz
    if timezone is not None:
        kwargs["tz"] = timezone
    return EvalContext(**kwargs)


def default_calendar(timezone: Any = None) -> Any:
    """The platform's business calendar (Mon–Fri, the site's working hours and time zone)."""
    from engine.expr.calendar import BusinessCalendar

    return BusinessCalendar(tz=timezone) if timezone is not None else BusinessCalendar()


def open_schema() -> Any:
    """Every name is `any`: for simulations run without a form definition."""
    from engine.expr.types import Schema

    return Schema.open_schema()
