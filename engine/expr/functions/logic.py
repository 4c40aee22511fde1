"""Logic functions. IF/IFS/SWITCH/AND/OR/COALESCE are compiled inline so that only the
branch taken is evaluated (an IF guarding a division by a null never evaluates it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.expr.functions.registry import register, register_inline
from engine.expr.runtime import is_number, truth

Tmp = Callable[[], str]


def _if(args: Sequence[str], tmp: Tmp) -> str:
    """cond1, value1, cond2, value2, …, [else] → a chain of Python conditional expressions"""
    parts = []
    pairs = len(args) // 2
    for i in range(pairs):
        parts.append(f"{args[2 * i + 1]} if {args[2 * i]} else ")
    default = args[-1] if len(args) % 2 else "None"
    return "(" + "".join(parts) + default + ")"


def _switch(args: Sequence[str], tmp: Tmp) -> str:
    subject = tmp()
    rest = args[1:]
    parts = []
    for i in range(len(rest) // 2):
        probe = (
            f"_rt.eq({subject}, {rest[2 * i]})" if i else f"_rt.eq(({subject} := {args[0]}), {rest[2 * i]})"
        )
        parts.append(f"{rest[2 * i + 1]} if {probe} else ")
    default = rest[-1] if len(rest) % 2 else "None"
    if not parts:
        return f"(({subject} := {args[0]}), {default})[1]"
    return "(" + "".join(parts) + default + ")"


def _and(args: Sequence[str], tmp: Tmp) -> str:
    return "(" + " and ".join(args) + ")"


def _or(args: Sequence[str], tmp: Tmp) -> str:
    return "(" + " or ".join(args) + ")"


def _not(args: Sequence[str], tmp: Tmp) -> str:
    return f"(not {args[0]})"


def _coalesce(args: Sequence[str], tmp: Tmp) -> str:
    parts = []
    for arg in args[:-1]:
        name = tmp()
        parts.append(f"{name} if ({name} := {arg}) is not None else ")
    return "(" + "".join(parts) + args[-1] + ")"


register_inline(
    "if",
    "condition: boolean, value: any, more: any...",
    "T",
    inline=_if,
    category="logic",
    en="The value of the first true condition: IF(c1, v1, c2, v2, …, otherwise). Without an "
    "`otherwise`, null.",
    zh="返回第一个成立条件对应的值：IF(条件1, 值1, 条件2, 值2, …, 否则值)；没有“否则值”时为空。",
    examples=[
        ('IF(5 > 3, "yes", "no")', '"yes"'),
        ('IF(200 >= 320, "red", 200 >= 160, "orange", "blue")', '"orange"'),
    ],
)
register_inline(
    "ifs",
    "condition: boolean, value: any, more: any...",
    "T",
    inline=_if,
    category="logic",
    en="Like IF with condition/value pairs only; null when none holds.",
    zh="与 IF 相同，但只有“条件, 值”对；都不成立时为空。",
    examples=[('IFS(1 > 2, "a", 2 > 1, "b")', '"b"')],
)
register_inline(
    "switch",
    "value: any, case: any, result: any, more: any...",
    "T",
    inline=_switch,
    category="logic",
    en="Compares a value with each case and returns the matching result, or the last argument as default.",
    zh="将值依次与各个情形比较，返回匹配的结果；最后一个参数为默认值。",
    examples=[('SWITCH("major", "general", 1, "major", 3, 0)', "3")],
)
register_inline(
    "and",
    "conditions: boolean...",
    "boolean",
    inline=_and,
    category="logic",
    en="True when every condition is true (null counts as false).",
    zh="所有条件都成立时为真（空值视为否）。",
    examples=[("AND(true, 1 < 2)", "true")],
)
register_inline(
    "or",
    "conditions: boolean...",
    "boolean",
    inline=_or,
    category="logic",
    en="True when any condition is true.",
    zh="任一条件成立时为真。",
    examples=[("OR(false, 1 > 2)", "false")],
)
register_inline(
    "not",
    "condition: boolean",
    "boolean",
    inline=_not,
    category="logic",
    en="The opposite of a condition (null counts as false, so NOT(null) is true).",
    zh="条件取反（空值视为否，因此 NOT(null) 为真）。",
    examples=[("NOT(1 > 2)", "true")],
)
register_inline(
    "coalesce",
    "values: T...",
    "T",
    inline=_coalesce,
    category="logic",
    aliases=["ifblank"],
    en="The first argument that is not null.",
    zh="返回第一个非空的参数。",
    examples=[('COALESCE(null, "", "x")', '""'), ("COALESCE(null, 0)", "0")],
)


@register(
    "xor",
    "conditions: boolean...",
    "boolean",
    category="logic",
    propagate_null=False,
    en="True when an odd number of conditions are true.",
    zh="成立的条件个数为奇数时为真。",
    examples=[("XOR(true, false)", "true")],
)
def xor(*conditions: Any) -> bool:
    return sum(truth(c) for c in conditions) % 2 == 1


@register(
    "isblank",
    "value: any",
    "boolean",
    category="logic",
    propagate_null=False,
    en="True for null, empty text, text of only spaces and an empty list.",
    zh="空值、空文本、只有空格的文本或空列表时为真。",
    examples=[('ISBLANK("  ")', "true"), ("ISBLANK(0)", "false")],
)
def isblank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return False


@register(
    "isnumber",
    "value: any",
    "boolean",
    category="logic",
    propagate_null=False,
    en="True when the value is a number.",
    zh="值为数字时为真。",
    examples=[('ISNUMBER("3")', "false")],
)
def isnumber(value: Any) -> bool:
    return is_number(value)


@register(
    "istext",
    "value: any",
    "boolean",
    category="logic",
    propagate_null=False,
    en="True when the value is text.",
    zh="值为文本时为真。",
    examples=[('ISTEXT("3")', "true")],
)
def istext(value: Any) -> bool:
    return isinstance(value, str)
