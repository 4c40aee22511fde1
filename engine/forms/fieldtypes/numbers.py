"""Numeric types: number, integer, money, percent and rating.

Values are JSON numbers. Text such as "1,200.50", "¥35" or "25%" is accepted where people
type it (API and Excel) and normalised; money is rounded to its decimals on the way in, so a
sum of stored amounts is what the user saw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import FieldBase, FieldError, ValueContext, nullable, register

_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(raw: Any, strip: str = "") -> float | int:
    if isinstance(raw, bool):
        raise FieldError("field.type", expected=i18n.both("field.kind.number"))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise FieldError("field.type", expected=i18n.both("field.kind.number"))
        return raw
    if isinstance(raw, Decimal):
        return float(raw)
    if isinstance(raw, str):
        text = re.sub(r"[\s,，_" + re.escape(strip) + "]", "", raw)
        if _NUMBER_TEXT.match(text):
            value = float(text)
            return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    raise FieldError("field.type", expected=i18n.both("field.kind.number"))


def whole_number(raw: Any) -> int:
    try:
        value = parse_number(raw)
    except FieldError:
        raise FieldError("field.type", expected=i18n.both("field.kind.integer")) from None
    if isinstance(value, float) and not value.is_integer():
        raise FieldError("field.type", expected=i18n.both("field.kind.integer"))
    return int(value)


def round_to(value: float | int, decimals: int | None) -> float | int:
    if decimals is None or isinstance(value, int):
        return value
    if round(value, decimals) == value:  # already at most `decimals` places: nothing to round
        return int(value) if decimals == 0 else value
    try:
        quantum = Decimal(1).scaleb(-decimals)
        rounded = float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return value
    return int(rounded) if decimals == 0 else rounded


class _Numeric(FieldBase):
    value_type: ClassVar[str | None] = "number"
    sql_type: ClassVar[str | None] = "number"
    widget: ClassVar[str] = "number"
    min: float | None = Field(default=None, description="Smallest value allowed")
    max: float | None = Field(default=None, description="Largest value allowed")
    decimals: int | None = Field(default=None, ge=0, le=10, description="Round to this many decimals when stored")
    unit: str | None = Field(default=None, max_length=20, description="Shown after the value (kg, m³, ppm)")

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if type(raw) is int or (type(raw) is float and math.isfinite(raw)):
            return round_to(raw, self.decimals)
        return round_to(parse_number(raw), self.decimals)

    def coercer(self) -> Callable[[Any, ValueContext], Any]:
        slow = self.coerce
        if type(self).coerce_value not in _PLAIN_NUMERIC:
            return slow
        decimals = self.decimals

        def coerce(raw: Any, ctx: ValueContext) -> Any:
            kind = type(raw)
            if kind is int:
                return raw  # round_to keeps an int as it is
            if kind is float and math.isfinite(raw):
                if decimals is None or (decimals and round(raw, decimals) == raw):
                    return raw  # round_to(x, None) is x, and so is x with at most `decimals` places
                return round_to(raw, decimals)
            return slow(raw, ctx)

        return coerce

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "number"}
        if self.min is not None:
            schema["minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        return nullable(schema)

    def display(self, value: Any, locale: str | None = None) -> str:
        if value is None:
            return ""
        text = f"{value:.{self.decimals}f}" if self.decimals is not None else _plain(value)
        return f"{text} {self.unit}" if self.unit else text


def _plain(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


@register
class NumberField(_Numeric):
    type: Literal["number"]


@register
class IntegerField(_Numeric):
    type: Literal["integer"]
    value_type: ClassVar[str | None] = "integer"
    sql_type: ClassVar[str | None] = "integer"

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return whole_number(raw)

    def json_schema(self) -> dict[str, Any]:
        schema = super().json_schema()
        schema["type"] = ["integer", "null"]
        return schema


@register
class MoneyField(_Numeric):
    type: Literal["money"]
    widget: ClassVar[str] = "money"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    decimals: int | None = Field(default=2, ge=0, le=4)
    min: float | None = 0

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return round_to(parse_number(raw, strip="¥￥$€元"), self.decimals)

    def display(self, value: Any, locale: str | None = None) -> str:
        if value is None:
            return ""
        return f"{self.currency} {value:,.{self.decimals or 0}f}"


# Types whose coercion of an int or a finite float is `round_to(raw, decimals)`.
_PLAIN_NUMERIC = (_Numeric.coerce_value, MoneyField.coerce_value)


@register
class PercentField(_Numeric):
    """Stored as a fraction (0.25), shown and typed as a percentage ("25%"), as Excel does."""

    type: Literal["percent"]
    widget: ClassVar[str] = "percent"

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if isinstance(raw, str) and raw.strip().endswith(("%", "％")):
            value = parse_number(raw.strip()[:-1]) / 100
        else:
            value = parse_number(raw)
        digits = None if self.decimals is None else self.decimals + 2
        return round_to(float(value), digits if digits is not None else 10)

    def display(self, value: Any, locale: str | None = None) -> str:
        if value is None:
            return ""
        return f"{value * 100:.{self.decimals or 0}f}%"


@register
class RatingField(_Numeric):
    type: Literal["rating"]
    widget: ClassVar[str] = "rating"
    value_type: ClassVar[str | None] = "integer"
    sql_type: ClassVar[str | None] = "integer"
    max: float | None = Field(default=5, ge=1, le=10, description="Number of stars")
    min: float | None = 1

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return whole_number(raw)

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "integer", "minimum": self.min or 1, "maximum": self.max or 5})


i18n.register_messages(
    {
        "field.kind.number": {"zh-CN": "数字", "en": "a number"},
        "field.kind.integer": {"zh-CN": "整数", "en": "a whole number"},
    }
)
