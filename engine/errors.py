"""Errors as values with a location, collected and rendered in the caller's locale.

Every engine reports bad input as `Problem`s (code + params + where), so a check can list all of
them at once and the API/CLI can render each as `file:line:column: message` in zh-CN or en.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from engine import i18n

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None
    path: str | None = None
    line: int | None = None
    column: int | None = None
    severity: Severity = "error"
    # Pre-rendered text per locale, for messages composed from parts (e.g. parser context).
    text: Mapping[str, str] | None = None

    def message(self, locale: str | None = None) -> str:
        if i18n.has_message(self.code):
            return i18n.message(self.code, locale, **self.params)
        if self.text:
            return i18n.localized(self.text, locale)
        return self.code

    def where(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        head = ":".join(parts)
        return f"{head}: {self.path}" if self.path else head

    def format(self, locale: str | None = None) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.where()}: {tag}{self.message(locale)}"

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message(locale), "severity": self.severity}
        for key in ("file", "path", "line", "column"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def located(self, **where: Any) -> Problem:
        """The same problem with more location filled in (e.g. the file once known)."""
        values = {k: v for k, v in where.items() if getattr(self, k) is None}
        return Problem(**{**self.__dict__, **values})


class SafeFlowError(Exception):
    """Base of every error SafeFlow raises on purpose; carries a stable code and problems."""

    status: int = 400
    default_code: str = "error.bad_request"

    def __init__(
        self,
        code: str | None = None,
        /,
        *,
        problems: Iterable[Problem] | None = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        self.code = code or self.default_code
        self.problems: list[Problem] = list(problems or [])
        if len(self.problems) == 1 and self.problems[0].code == self.code:
            # Raised with its one problem's code: the headline message needs that problem's values.
            params = {**self.problems[0].params, **params}
        params.setdefault("count", len(self.problems))
        self.params = params
        if status is not None:
            self.status = status
        super().__init__(self.message("en"))

    def message(self, locale: str | None = None) -> str:
        if i18n.has_message(self.code):
            return i18n.message(self.code, locale, **self.params)
        if len(self.problems) == 1:
            return self.problems[0].message(locale)
        return self.code

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message(locale)}
        if self.problems:
            out["problems"] = [p.to_dict(locale) for p in self.problems]
        return out


class InvalidInput(SafeFlowError):
    """Bad definitions, records or requests: one or more located problems (HTTP 422)."""

    status = 422
    default_code = "error.invalid"

    @classmethod
    def from_problems(cls, problems: Iterable[Problem], code: str | None = None) -> InvalidInput:
        return cls(code, problems=problems)


class Unauthorized(SafeFlowError):
    status = 401
    default_code = "auth.unauthorized"


class Forbidden(SafeFlowError):
    status = 403
    default_code = "auth.forbidden"


class NotFound(SafeFlowError):
    status = 404
    default_code = "error.not_found"


class Conflict(SafeFlowError):
    status = 409
    default_code = "error.conflict"


def raise_if_errors(problems: Iterable[Problem], code: str | None = None) -> None:
    """Raise InvalidInput when any collected problem is an error (warnings pass)."""
    collected = list(problems)
    if any(p.severity == "error" for p in collected):
        raise InvalidInput.from_problems(collected, code)


i18n.register_messages(
    {
        "error.bad_request": {"zh-CN": "请求无效", "en": "Bad request"},
        "error.invalid": {"zh-CN": "输入有误，共 {count} 处问题", "en": "Invalid input: {count} problem(s)"},
        "error.not_found": {"zh-CN": "未找到：{what}", "en": "Not found: {what}"},
        "error.conflict": {"zh-CN": "冲突：{what}", "en": "Conflict: {what}"},
        "error.internal": {"zh-CN": "服务器内部错误", "en": "Internal server error"},
        "auth.unauthorized": {"zh-CN": "未登录或凭证无效", "en": "Not authenticated or invalid credentials"},
        "auth.forbidden": {"zh-CN": "无权执行此操作", "en": "You are not allowed to do this"},
    }
)


def problems_summary(problems: Iterable[Problem], locale: str | None = None) -> str:
    return "\n".join(p.format(locale) for p in problems)


def text_of(mapping: Mapping[str, str]) -> dict[str, str]:
    """Normalise a {"zh": .., "en": ..} label into catalogue locales."""
    return {loc: i18n.localized(mapping, loc) for loc in i18n.LOCALES}
