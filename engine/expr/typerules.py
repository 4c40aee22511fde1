"""Typing rules: literal types, operator result types, generic signatures and the words used
for them in messages. Kept apart from the checker's tree walk so the rules read as a table."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from engine.expr.functions.registry import FunctionSpec
from engine.expr.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DURATION,
    INTEGER,
    NULL,
    NUMBER,
    TEXT,
    ListType,
    Type,
    TypeVar,
    assignable,
    is_numeric,
    is_temporal,
    unify,
)
from engine.expr.values import CalendarDuration, type_label

# Types a condition may have: yes/no, untyped, or null (which counts as false).
CONDITIONISH = (BOOLEAN, ANY, NULL)


def literal_type(value: Any) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, timedelta | CalendarDuration):
        return DURATION
    if isinstance(value, list | tuple):
        return ListType(unify(literal_type(v) for v in value) or ANY)
    return ANY


def did_you_mean(name: str, candidates: Iterable[str]) -> dict[str, str]:
    pool = sorted(set(candidates))
    lowered = {c.lower(): c for c in pool}
    match = lowered.get(name.lower()) if name.lower() in lowered and lowered[name.lower()] != name else None
    if match is None:
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
        match = close[0] if close else None
    if match is None:
        return {"en": "", "zh-CN": ""}
    return {"en": f"; did you mean '{match}'?", "zh-CN": f"，是否是 “{match}”？"}


def arithmetic_type(op: str, left: Type, right: Type) -> Type | None:
    """The result type of `left op right`, or None when the operator does not apply."""
    if ANY in (left, right):
        return ANY
    if NULL in (left, right):
        other = right if left == NULL else left
        return (
            other
            if other != NULL and (is_numeric(other) or other in (DATE, DATETIME, DURATION))
            else (NUMBER if other == NULL else None)
        )
    if is_numeric(left) and is_numeric(right):
        if op in ("+", "-", "*", "%") and left == right == INTEGER:
            return INTEGER
        return NUMBER
    if op in ("+", "-") and is_temporal(left) and right == DURATION:
        return left
    if op == "+" and left == DURATION and is_temporal(right):
        return right
    if op == "-" and is_temporal(left) and is_temporal(right):
        return DURATION
    if op in ("+", "-") and left == right == DURATION:
        return DURATION
    if op == "*" and DURATION in (left, right) and (is_numeric(left) or is_numeric(right)):
        return DURATION
    if op == "/" and left == DURATION and is_numeric(right):
        return DURATION
    if op == "/" and left == right == DURATION:
        return NUMBER
    return None


def aggregate_type(function: str, field_type: Type) -> Type:
    if function == "count":
        return INTEGER
    if function in ("exists", "consecutive"):
        return BOOLEAN
    if function == "sum":
        return INTEGER if field_type == INTEGER else NUMBER if field_type != ANY else ANY
    if function == "avg":
        return NUMBER
    return field_type


def match_param(expected: Type, actual: Type, bound: dict[str, Type]) -> bool:
    if isinstance(expected, TypeVar):
        previous = bound.get(expected.name)
        merged = actual if previous is None else unify([previous, actual])
        if merged is None:
            return False
        bound[expected.name] = merged
        return True
    if isinstance(expected, ListType) and isinstance(expected.item, TypeVar):
        if actual in (ANY, NULL):
            return True
        if not isinstance(actual, ListType):
            return False
        return match_param(expected.item, actual.item, bound)
    return assignable(actual, expected)


def substitute(result: Type, bound: dict[str, Type]) -> Type:
    if isinstance(result, TypeVar):
        found = bound.get(result.name, ANY)
        return ANY if found == NULL else found
    if isinstance(result, ListType):
        return ListType(substitute(result.item, bound))
    return result


def arity_text(spec: FunctionSpec) -> str:
    if spec.max_args is None:
        return f"≥ {spec.min_args}"
    if spec.min_args == spec.max_args:
        return str(spec.min_args)
    return f"{spec.min_args}–{spec.max_args}"


def label_of(spelling: str) -> dict[str, str]:
    parts = [type_label(p.strip()) for p in spelling.split("|")]
    return {"en": " or ".join(p["en"] for p in parts), "zh-CN": "或".join(p["zh-CN"] for p in parts)}
