"""The expression language's error type and its bilingual messages.

Every problem carries a stable code, line, column and (for syntax) a caret context, so the
designer UI, the CLI and the rule engine can all point at the exact spot in zh-CN or en.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine import i18n
from engine.errors import InvalidInput, Problem


class ExprError(InvalidInput):
    """Bad expression text, a type error found by the checker, or a failed evaluation."""

    default_code = "expr.invalid"

    def message(self, locale: str | None = None) -> str:
        """One problem: its own message; several: how many (each is listed by `render`)."""
        if len(self.problems) == 1 and self.code == self.default_code:
            return self.problems[0].message(locale)
        return super().message(locale)

    def shifted(self, line: int, column: int) -> ExprError:
        """The same error for an expression embedded in a larger file (a rule's `if`) that
        starts at `line`:`column` there, so positions point into that file."""
        return ExprError(self.code, problems=[shift(p, line, column) for p in self.problems], **self.params)

    def render(self, locale: str | None = None) -> str:
        """Every problem as `line:column: message` followed by its caret context."""
        out: list[str] = []
        for problem in self.problems:
            out.append(problem.format(locale))
            context = problem.params.get("context")
            if context:
                out.append(str(context))
        return "\n".join(out)


def problem(
    code: str,
    *,
    line: int | None = None,
    column: int | None = None,
    text: str | None = None,
    severity: str = "error",
    **params: Any,
) -> Problem:
    """A located problem; with the source `text`, the caret context is attached too."""
    if text is not None and line is not None and column is not None:
        params.setdefault("context", caret_context(text, line, column))
    return Problem(code, params=params, line=line, column=column, severity=severity)  # type: ignore[arg-type]


def shift(found: Problem, line: int, column: int) -> Problem:
    """Move a problem located in an embedded expression to its place in the enclosing text."""
    if found.line is None:
        return found
    new_column = found.column
    if found.line == 1 and found.column is not None:
        new_column = found.column + column - 1
    return Problem(**{**found.__dict__, "line": found.line + line - 1, "column": new_column})


def fail(code: str, **params: Any) -> ExprError:
    """An ExprError with one unlocated problem (runtime failures, limits)."""
    return ExprError(problems=[Problem(code, params=params)])


def raise_problems(problems: Iterable[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ExprError(problems=errors)


def caret_context(text: str, line: int, column: int, width: int = 60) -> str:
    """The offending line (clipped around the column) with a caret under the spot."""
    lines = text.splitlines() or [""]
    source = lines[min(max(line, 1), len(lines)) - 1]
    start = max(0, column - 1 - width // 2)
    clipped = source[start : start + width]
    prefix = "…" if start > 0 else ""
    caret_at = column - 1 - start + len(prefix)
    return f"{prefix}{clipped}\n{' ' * max(caret_at, 0)}^"


def both(en: str, zh: str) -> Mapping[str, str]:
    """A bilingual message fragment passed as a param (rendered in the caller's locale)."""
    return {"en": en, "zh-CN": zh}


i18n.register_messages(
    {
        "expr.invalid": {
            "zh-CN": "表达式有误，共 {count} 处问题",
            "en": "Invalid expression: {count} problem(s)",
        },
        # syntax
        "expr.syntax.unexpected_char": {
            "zh-CN": "无法识别的字符 “{char}”",
            "en": "Unexpected character '{char}'",
        },
        "expr.syntax.unterminated_string": {
            "zh-CN": "文本缺少结尾的引号",
            "en": "This text is missing its closing quote",
        },
        "expr.syntax.unexpected_token": {
            "zh-CN": "此处不应出现{found}，应为{expected}",
            "en": "Unexpected {found}; expected {expected}",
        },
        "expr.syntax.unexpected_end": {
            "zh-CN": "表达式不完整，末尾应为{expected}",
            "en": "The expression ends too early; expected {expected}",
        },
        "expr.syntax.empty": {"zh-CN": "表达式为空", "en": "The expression is empty"},
        "expr.syntax.bad_date": {
            "zh-CN": '“{value}” 不是有效的日期或时间（例如 d"2026-01-31" 或 d"2026-01-31 08:00"）',
            "en": '\'{value}\' is not a valid date or time (e.g. d"2026-01-31" or d"2026-01-31 08:00")',
        },
        "expr.syntax.bad_number": {"zh-CN": "数字 “{value}” 无效", "en": "'{value}' is not a valid number"},
        "expr.syntax.bad_escape": {
            "zh-CN": "文本中的转义序列 “{value}” 无效",
            "en": "Invalid escape sequence '{value}' in text",
        },
        "expr.syntax.where_outside_aggregate": {
            "zh-CN": "“{keyword}” 只能用在 count/sum/avg/min/max/exists/consecutive 中",
            "en": "'{keyword}' can only be used inside count/sum/avg/min/max/exists/consecutive",
        },
        "expr.syntax.aggregate_shape": {
            "zh-CN": "{function}(…) 的写法应为 {shape}",
            "en": "{function}(…) is written {shape}",
        },
        # sandbox and limits
        "expr.sandbox.dunder": {
            "zh-CN": "不允许使用以双下划线开头的名称 “{name}”",
            "en": "Names starting with a double underscore are not allowed: '{name}'",
        },
        "expr.limit.too_long": {
            "zh-CN": "表达式过长（{length} 个字符，上限 {limit}）",
            "en": "The expression is too long ({length} characters, at most {limit})",
        },
        "expr.limit.too_deep": {
            "zh-CN": "表达式嵌套过深（上限 {limit} 层）",
            "en": "The expression is nested too deeply (at most {limit} levels)",
        },
        "expr.limit.list_too_long": {
            "zh-CN": "列表过长（上限 {limit} 项）",
            "en": "The list is too long (at most {limit} items)",
        },
        "expr.limit.text_too_long": {
            "zh-CN": "生成的文本过长（上限 {limit} 个字符）",
            "en": "The resulting text is too long (at most {limit} characters)",
        },
        "expr.limit.work": {
            "zh-CN": "列表运算量超出上限（{limit} 次）",
            "en": "Too much list work in one evaluation (at most {limit} element visits)",
        },
        "expr.limit.number": {"zh-CN": "数值超出范围", "en": "The number is out of range"},
        # types and names
        "expr.unknown_field": {
            "zh-CN": "未知字段 “{name}”{hint}",
            "en": "Unknown field '{name}'{hint}",
        },
        "expr.unknown_function": {
            "zh-CN": "未知函数 “{name}”{hint}",
            "en": "Unknown function '{name}'{hint}",
        },
        "expr.unknown_form": {"zh-CN": "未知表单 “{name}”{hint}", "en": "Unknown form '{name}'{hint}"},
        "expr.no_member": {
            "zh-CN": "{type}没有字段 “{name}”",
            "en": "Cannot read field '{name}' of {type}",
        },
        "expr.arity": {
            "zh-CN": "{function} 需要 {expected} 个参数，实际为 {got} 个",
            "en": "{function} takes {expected} argument(s), got {got}",
        },
        "expr.arg_type": {
            "zh-CN": "{function} 的第 {index} 个参数应为{expected}，实际为{got}",
            "en": "Argument {index} of {function} must be {expected}, got {got}",
        },
        "expr.operand_types": {
            "zh-CN": "不能对{left}和{right}使用 “{op}”{hint}",
            "en": "Cannot apply '{op}' to {left} and {right}{hint}",
        },
        "expr.compare_types": {
            "zh-CN": "不能将{left}与{right}比较",
            "en": "Cannot compare {left} with {right}",
        },
        "expr.not_boolean": {
            "zh-CN": "“{op}” 需要是/否（布尔）值，实际为{got}",
            "en": "'{op}' needs yes/no (boolean) values, got {got}",
        },
        "expr.expected_type": {
            "zh-CN": "此处需要{expected}，但表达式的结果是{got}",
            "en": "Expected {expected} here, but the expression gives {got}",
        },
        "expr.range_context": {
            "zh-CN": "小数范围只能用在 in 之后",
            "en": "A range of decimal numbers can only be used after 'in'",
        },
        "expr.nested_aggregate": {
            "zh-CN": "{function}(…) 的条件中不能再嵌套依赖候选记录的统计",
            "en": "The condition of {function}(…) cannot contain another aggregate over the candidate row",
        },
        "expr.outer_only": {
            "zh-CN": "“{part}” 不能引用候选记录的字段",
            "en": "'{part}' cannot refer to fields of the candidate row",
        },
        "expr.lambda_outside": {
            "zh-CN": "“{name}” 只能在 filter/map/any/all 等列表函数的条件中使用",
            "en": "'{name}' can only be used inside the condition of a list function "
            "such as filter/map/any/all",
        },
        # runtime
        "expr.runtime.error": {"zh-CN": "计算失败：{detail}", "en": "Evaluation failed: {detail}"},
        "expr.runtime.type": {
            "zh-CN": "需要{expected}，实际为{got}（{value}）",
            "en": "Expected {expected}, got {got} ({value})",
        },
        "expr.runtime.compare": {
            "zh-CN": "不能将{left}与{right}比较",
            "en": "Cannot compare {left} with {right}",
        },
        "expr.runtime.no_data_source": {
            "zh-CN": "{function}(…) 需要查询已存储的记录，但当前没有数据源（表单公式不能访问数据库）",
            "en": "{function}(…) reads stored records and needs a data source, which is not available here "
            "(a form formula never touches the database)",
        },
        "expr.runtime.no_lookup_source": {
            "zh-CN": "LOOKUP 需要字典数据源，但当前没有提供",
            "en": "LOOKUP needs a dictionary source, which is not available here",
        },
        "expr.runtime.bad_regex": {
            "zh-CN": "正则表达式 “{pattern}” 无效或过于复杂：{detail}",
            "en": "Regular expression '{pattern}' is invalid or too complex: {detail}",
        },
        "expr.runtime.bad_value": {
            "zh-CN": "{function} 的参数值无效：{detail}",
            "en": "Invalid argument value for {function}: {detail}",
        },
        "expr.runtime.not_pushable": {
            "zh-CN": "{construct} 无法转换为数据库查询",
            "en": "{construct} cannot be turned into a database query",
        },
        "expr.runtime.unsupported_jsonlogic": {
            "zh-CN": "不支持的 JSON Logic 写法：{detail}",
            "en": "Unsupported JSON Logic: {detail}",
        },
    }
)
