"""Text → checked AST → Python source → `compile()` → a function of (data, context).

`compile_expr` is the one entry point other engines use; results are cached by text, schema
fingerprint and options, so a form's formula is compiled once per form version. The generated
function runs with no builtins but `type`, so even a bug in code generation cannot reach
`open` or `__import__`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from threading import Lock
from typing import TYPE_CHECKING, Any

from engine.expr import ast as nodes
from engine.expr import listops, runtime
from engine.expr.aggregates import build_plan, run_aggregate
from engine.expr.checker import Analysis, ResolveForm, analyse
from engine.expr.codegen import CodeGen
from engine.expr.context import DEFAULT_CONTEXT, EvalContext
from engine.expr.errors import ExprError, raise_problems
from engine.expr.functions.jsonlogic import truthy
from engine.expr.parser import parse
from engine.expr.types import Schema, Type

if TYPE_CHECKING:
    from engine.expr.explain import Explanation

_CATCH = (
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    ArithmeticError,
    RecursionError,
    MemoryError,
)
_BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": {"type": type},
    "_str": str,
    "_dict": dict,
    "_rt": runtime,
    "_date": date,
    "_datetime": datetime,
    "_NUMS": frozenset({int, float}),
    "_truth": runtime.truth,
    "_truthy": truthy,
    "_Budget": listops.Budget,
    "_ls": listops,
    "_agg": run_aggregate,
    "_ExprError": ExprError,
    "_CATCH": _CATCH,
    "_KeyError": KeyError,
    "_clock": datetime.now,
    "_SITE_TZ": DEFAULT_CONTEXT.tz,
}


def _build(
    gen: CodeGen, body: str, params: str, fast: CodeGen | None = None, fast_body: str = ""
) -> Callable[..., Any]:
    """Wrap the body in a function whose only exceptions are ExprErrors. With a `fast` body
    (fields read by subscript), plain dicts with every field present take it; a missing field
    (KeyError) falls through to the null-safe body."""
    lines = [f"def _expr({params}):"]
    if gen.uses_budget:
        lines.append("    _w = _Budget()")
    if fast is not None:
        lines += [
            "    if type(d) is _dict:",
            "        try:",
            f"            return {fast_body}",
            "        except _KeyError:",
            "            pass",
            "        except _ExprError:",
            "            raise",
            "        except _CATCH as _e:",
            "            raise _rt.runtime_error(_e) from None",
        ]
    lines += [
        "    try:",
        f"        return {body}",
        "    except _ExprError:",
        "        raise",
        "    except _CATCH as _e:",
        "        raise _rt.runtime_error(_e) from None",
    ]
    source = "\n".join(lines)
    namespace = {**_BASE_GLOBALS, **gen.consts, **gen.functions}
    if fast is not None:
        namespace.update({**fast.consts, **fast.functions})
    name = "<expr " + hashlib.sha1(source.encode()).hexdigest()[:10] + ">"
    code = compile(source, name, "exec")
    exec(code, namespace)  # safe: generated from the AST, never user text
    fn = namespace["_expr"]
    fn.__source__ = source  # type: ignore[attr-defined]
    return fn  # type: ignore[no-any-return]


def compile_function(
    parts: Sequence[nodes.Node], analysis: Analysis, *, scope_param: str
) -> Callable[..., Any]:
    """One function returning a tuple of several sub-expressions' values (aggregate plans)."""
    gen = CodeGen(analysis, plan_for=lambda n: build_plan(n, analysis), scope_param=scope_param)
    body = "(" + "".join(gen.expr(n) + ", " for n in parts) + ")"
    return _build(gen, body, f"d, c=None, {scope_param}=None")


class CompiledExpr:
    """A checked, compiled expression. `evaluate(data, ctx=None)` is the generated function
    itself (no wrapper call), so a condition costs about what a hand-written lambda costs."""

    __slots__ = (
        "_explain_fn",
        "_skeleton",
        "_traced",
        "aggregates",
        "analysis",
        "ast",
        "evaluate",
        "references",
        "schema",
        "source",
        "text",
        "type",
    )

    text: str
    ast: nodes.Node  # the parsed tree (named for the contract other engines use)
    type: Type
    references: frozenset[str]
    aggregates: tuple[nodes.Aggregate, ...]
    evaluate: Callable[..., Any]

    def __init__(self, text: str, tree: nodes.Node, analysis: Analysis) -> None:
        self.text = text
        self.ast = tree
        self.analysis = analysis
        self.schema = analysis.schema
        self.type = analysis.type_of(tree)
        self.references = frozenset(analysis.references)
        self.aggregates = tuple(analysis.aggregates)
        gen = CodeGen(analysis, plan_for=lambda n: build_plan(n, analysis))
        body = gen.expr(tree)
        fast: CodeGen | None = None
        fast_body = ""
        if not self.aggregates and not gen.uses_budget and "d.get(" in body:
            # Re-evaluating after a KeyError is harmless only without queries and list work.
            fast = CodeGen(analysis, subscript_fields=True, const_prefix="_q")
            fast_body = fast.expr(tree)
        self.evaluate = _build(gen, body, "d, c=None", fast, fast_body)
        self.source: str = self.evaluate.__source__  # type: ignore[attr-defined]
        self._explain_fn: Callable[..., Any] | None = None
        self._traced: list[nodes.Node] = []
        self._skeleton: Any = None

    def explain(self, data: Mapping[str, Any], ctx: EvalContext | None = None) -> Explanation:
        """The value of every evaluated sub-expression, with its source span (see explain.py)."""
        from engine.expr.explain import explain

        return explain(self, self._tracing(), self._traced, data, ctx)

    def explain_dict(self, data: Mapping[str, Any], ctx: EvalContext | None = None) -> tuple[Any, dict[str, Any]]:
        """(the value, `explain(...).to_dict()`), built without intermediate objects."""
        from engine.expr.explain import explain_dict

        return explain_dict(self, self._tracing(), self._traced, data, ctx)

    def _tracing(self) -> Callable[..., Any]:
        if self._explain_fn is None:
            gen = CodeGen(self.analysis, plan_for=lambda n: build_plan(n, self.analysis), trace=True)
            body = gen.expr(self.ast)
            self._traced = gen.traced
            self._explain_fn = _build(gen, body, "d, c=None, _r=None")
        return self._explain_fn

    def skeleton(self) -> Any:
        """What explain shows that does not depend on the data (per node: kind, source text,
        position, children), built once: a rule explained on every event pays only for values."""
        from engine.expr.explain import build_skeleton

        found = self._skeleton
        if found is None:
            found = self._skeleton = build_skeleton(self.ast, self.text)
        return found

    def __repr__(self) -> str:
        return f"CompiledExpr({self.text!r}, type={self.type})"


_CACHE: OrderedDict[tuple[Any, ...], CompiledExpr] = OrderedDict()
_CACHE_SIZE = 4096
_LOCK = Lock()


def check(
    text_or_ast: str | nodes.Node,
    schema: Schema,
    *,
    expected: Type | None = None,
    resolve_form: ResolveForm | None = None,
) -> list[Any]:
    """Every problem of an expression (syntax, names, types), as located Problems."""
    text = text_or_ast if isinstance(text_or_ast, str) else None
    try:
        tree = parse(text_or_ast) if isinstance(text_or_ast, str) else text_or_ast
    except ExprError as error:
        return list(error.problems)
    return analyse(tree, schema, text=text, expected=expected, resolve_form=resolve_form).problems


def compile_expr(
    text: str | nodes.Node,
    schema: Schema | None = None,
    *,
    resolve_form: ResolveForm | None = None,
    expected: Type | None = None,
) -> CompiledExpr:
    """Check and compile; raises `ExprError` carrying every problem found."""
    from engine.expr.types import OPEN

    schema = schema or OPEN
    if isinstance(text, nodes.Node):
        return _compile_tree(None, text, schema, resolve_form, expected)
    key = (text, schema.fingerprint, str(expected), resolve_form)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    compiled = _compile_tree(text, parse(text), schema, resolve_form, expected)
    with _LOCK:
        _CACHE[key] = compiled
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return compiled


def _compile_tree(
    text: str | None,
    tree: nodes.Node,
    schema: Schema,
    resolve_form: ResolveForm | None,
    expected: Type | None,
) -> CompiledExpr:
    analysis = analyse(tree, schema, text=text, expected=expected, resolve_form=resolve_form)
    raise_problems(analysis.problems)
    if text is None:
        from engine.expr.unparse import unparse

        text = unparse(tree)
    return CompiledExpr(text, tree, analysis)
