"""The function registry: each expression function is one registered Python callable with its
signature, result type, bilingual description and runnable examples (SurveyJS's
FunctionFactory, typed). The checker, the compiler and the generated docs all read from here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.expr.types import ListType, TypeVar, parse_type
from engine.expr.types import Type as ExprType

CATEGORIES = {
    "text": {"en": "Text", "zh-CN": "文本"},
    "number": {"en": "Numbers", "zh-CN": "数字"},
    "logic": {"en": "Logic", "zh-CN": "逻辑"},
    "date": {"en": "Dates and times", "zh-CN": "日期与时间"},
    "list": {"en": "Lists and subtables", "zh-CN": "列表与子表"},
    "lookup": {"en": "Lookup and data", "zh-CN": "查找与数据"},
    "jsonlogic": {"en": "JSON Logic compatibility", "zh-CN": "JSON Logic 兼容"},
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[ExprType, ...]  # accepted alternatives
    optional: bool = False
    variadic: bool = False
    binds: tuple[str, ...] = ()  # a lambda argument: names bound while it runs per element

    @property
    def is_lambda(self) -> bool:
        return bool(self.binds)

    def spelling(self) -> str:
        kinds = "|".join(str(t) for t in self.types)
        suffix = "…" if self.variadic else "?" if self.optional else ""
        scope = f" (per {', '.join(self.binds)})" if self.binds else ""
        return f"{self.name}: {kinds}{suffix}{scope}"


ResultRule = ExprType | Callable[[Sequence[ExprType]], ExprType]
# Source generators: (argument sources, temporary-name maker) → source of the call.
Inline = Callable[[Sequence[str], Callable[[], str]], str]
# Type-guarded fast paths: (argument sources, temporary-name maker, fallback name) → source.
Fast = Callable[[Sequence[str], Callable[[], str], str], str]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    category: str
    params: tuple[Param, ...]
    result: ResultRule
    impl: Callable[..., Any] | None
    description: Mapping[str, str]
    examples: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()
    needs_context: bool = False
    # Codegen for functions whose arguments must not all be evaluated (IF, AND, COALESCE …):
    # receives the Python source of each argument and returns the source of the call.
    inline: Inline | None = None
    uses_budget: bool = False  # list functions with lambdas share the evaluation's work budget
    propagate_null: bool = False  # returns null when a required argument is null
    never_null: bool = False  # the result is never null (lets the compiler drop null checks)
    # Optional inline fast path for the common case, guarded by exact type checks, falling back
    # to the implementation (e.g. `x.upper() if type(x) is str else UPPER(x)`).
    fast: Fast | None = None

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional and not p.variadic)

    @property
    def max_args(self) -> int | None:
        return None if any(p.variadic for p in self.params) else len(self.params)

    def param_for(self, index: int) -> Param | None:
        if index < len(self.params):
            return self.params[index]
        if self.params and self.params[-1].variadic:
            return self.params[-1]
        return None

    def signature(self) -> str:
        result = self.result if isinstance(self.result, ExprType) else "…"
        return f"{self.name.upper()}({', '.join(p.spelling() for p in self.params)}) → {result}"

    def result_text(self) -> str:
        return (
            str(self.result)
            if isinstance(self.result, ExprType)
            else getattr(self.result, "__doc__", "") or "…"
        )


_REGISTRY: dict[str, FunctionSpec] = {}
_CANONICAL: dict[str, FunctionSpec] = {}


def parse_params(text: str) -> tuple[Param, ...]:
    """`"text: text, n: integer?, values: number|list[number]..., cond: boolean @item"`."""
    params: list[Param] = []
    for chunk in _split_top(text):
        name, _, spec = chunk.partition(":")
        spec = spec.strip()
        binds: tuple[str, ...] = ()
        if "@" in spec:
            spec, _, bound = spec.partition("@")
            binds = tuple(b.strip() for b in bound.split(","))
            spec = spec.strip()
        variadic = spec.endswith("...")
        spec = spec.removesuffix("...")
        optional = spec.endswith("?")
        spec = spec.removesuffix("?")
        types = tuple(_type(t) for t in spec.split("|"))
        params.append(Param(name.strip(), types, optional, variadic, binds))
    return tuple(params)


def _split_top(text: str) -> list[str]:
    """Split a signature on top-level commas; `@item,acc` binding lists stay together."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    merged: list[str] = []
    for part in parts:
        if merged and ":" not in part:
            merged[-1] += "," + part
        elif part.strip():
            merged.append(part)
    return merged


def _type(text: str) -> ExprType:
    text = text.strip()
    if text == "T":
        return TypeVar("T")
    if text == "list[T]":
        return ListType(TypeVar("T"))
    return parse_type(text)


def register(
    name: str,
    params: str,
    result: ResultRule | str,
    *,
    category: str,
    en: str,
    zh: str,
    examples: Sequence[tuple[str, str]] = (),
    aliases: Sequence[str] = (),
    needs_context: bool = False,
    inline: Inline | None = None,
    uses_budget: bool = False,
    propagate_null: bool = True,
    fast: Fast | None = None,
    never_null: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated callable as expression function `name` (case-insensitive).

    With `propagate_null` the function returns null when a required argument is null, so the
    implementation never sees None there."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        parsed = parse_params(params)
        impl = _null_propagating(fn, parsed, needs_context, uses_budget) if propagate_null else fn
        _add(
            FunctionSpec(
                name=name,
                category=category,
                params=parsed,
                result=_type(result) if isinstance(result, str) else result,
                impl=impl,
                description={"en": en, "zh-CN": zh},
                examples=tuple(examples),
                aliases=tuple(aliases),
                needs_context=needs_context,
                inline=inline,
                uses_budget=uses_budget,
                propagate_null=propagate_null,
                fast=fast,
                never_null=never_null,
            )
        )
        return fn

    return decorate


def register_inline(
    name: str,
    params: str,
    result: ResultRule | str,
    *,
    inline: Inline,
    category: str,
    en: str,
    zh: str,
    examples: Sequence[tuple[str, str]] = (),
    aliases: Sequence[str] = (),
) -> None:
    """A function compiled straight into the generated code (lazy arguments: IF, AND …)."""
    _add(
        FunctionSpec(
            name,
            category,
            parse_params(params),
            _type(result) if isinstance(result, str) else result,
            None,
            {"en": en, "zh-CN": zh},
            tuple(examples),
            tuple(aliases),
            inline=inline,
        )
    )


def _add(spec: FunctionSpec) -> None:
    for key in (spec.name, *spec.aliases):
        if not _NAME_RE.match(key):
            raise ValueError(f"function name {key!r} must be lower-case letters, digits and _")
        if key in _REGISTRY:
            raise ValueError(f"function {key!r} registered twice")
        if spec.category not in CATEGORIES:
            raise ValueError(f"unknown category {spec.category!r}")
        _REGISTRY[key] = spec
    _CANONICAL[spec.name] = spec


def _null_propagating(
    fn: Callable[..., Any], params: tuple[Param, ...], ctx: bool, budget: bool
) -> Callable[..., Any]:
    required = [i for i, p in enumerate(params) if not p.optional and not p.variadic and not p.is_lambda]
    if not required:
        return fn
    offset = int(ctx) + int(budget)
    positions = tuple(i + offset for i in required)

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        for i in positions:
            if i < len(args) and args[i] is None:
                return None
        return fn(*args)

    return wrapper


def lookup(name: str) -> FunctionSpec | None:
    return _REGISTRY.get(name.lower())


def all_functions() -> list[FunctionSpec]:
    """Every function once (aliases folded), by category then name."""
    order = list(CATEGORIES)
    return sorted(_CANONICAL.values(), key=lambda s: (order.index(s.category), s.name))


def names() -> list[str]:
    return sorted(_REGISTRY)
