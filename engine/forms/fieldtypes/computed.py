"""Values the server computes: serial numbers and formulas. Clients never write them; the
record service fills them in on every write, whatever a client sent."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from engine import i18n
from engine.forms.fieldtypes.base import Expression, FieldBase, nullable, register

SERIAL_TOKEN = re.compile(r"\{([a-z]+)(?::(\d+))?\}")
DATE_TOKENS = {"yyyy": "%Y", "yy": "%y", "mm": "%m", "dd": "%d"}


@register
class SerialField(FieldBase):
    """A number like HZ-202611-0042 from a pattern: {yyyy} {yy} {mm} {dd} (creation date, site
    time) and one {seq:N} (N digits, zero padded). The sequence restarts whenever the date part
    changes, and is taken from a database counter atomically, so parallel submissions never
    share a number."""

    type: Literal["serial"]
    widget: ClassVar[str] = "serial"
    searchable: ClassVar[bool] = True
    computed: ClassVar[bool] = True
    pattern: str = Field(default="{yyyy}{mm}{dd}-{seq:4}", max_length=100,
                         description="e.g. HZ-{yyyy}{mm}-{seq:4}")

    @field_validator("pattern")
    @classmethod
    def _one_sequence(cls, value: str) -> str:
        tokens = SERIAL_TOKEN.findall(value)
        unknown = [name for name, _ in tokens if name != "seq" and name not in DATE_TOKENS]
        if unknown:
            raise ValueError(f"unknown token(s) {unknown}; use {{yyyy}} {{yy}} {{mm}} {{dd}} {{seq:N}}")
        if sum(1 for name, _ in tokens if name == "seq") != 1:
            raise ValueError("the pattern needs exactly one {seq} or {seq:N}")
        return value

    def period(self, local: datetime) -> str:
        """The part of the pattern that restarts the sequence (e.g. "202611")."""
        return "".join(local.strftime(DATE_TOKENS[name]) for name, _ in SERIAL_TOKEN.findall(self.pattern)
                       if name in DATE_TOKENS)

    def render(self, local: datetime, seq: int) -> str:
        def token(match: re.Match[str]) -> str:
            name, width = match.group(1), match.group(2)
            if name == "seq":
                return str(seq).zfill(int(width or 1))
            return local.strftime(DATE_TOKENS[name])

        return SERIAL_TOKEN.sub(token, self.pattern)

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "string"})


@register
class FormulaField(FieldBase):
    """A read-only value computed from other fields (`L * E * C`, `sum(measures.cost)`),
    recomputed by the server on every write in dependency order."""

    type: Literal["formula"]
    widget: ClassVar[str] = "formula"
    computed: ClassVar[bool] = True
    expr: Expression
    result: Literal["text", "number", "integer", "boolean", "date", "datetime", "duration"] | None = Field(
        default=None, description="The result type; inferred from the expression when omitted")
    decimals: int | None = Field(default=None, ge=0, le=10, description="Round a numeric result")

    def expr_type_spec(self) -> Any:
        return self.result or "any"

    def sql_kind(self) -> str | None:
        kind = self.result
        if kind in ("number", "integer", "boolean"):
            return kind
        if kind == "duration":
            return "integer"
        return "text" if kind in ("text", "date", "datetime") else None

    def display(self, value: Any, locale: str | None = None) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return i18n.message("field.yes" if value else "field.no", locale)
        if isinstance(value, float) and self.decimals is not None:
            return f"{value:.{self.decimals}f}"
        return super().display(value, locale)
