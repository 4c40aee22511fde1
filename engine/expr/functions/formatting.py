"""TEXT(value, format): Excel-like number formats and YYYY-MM-DD style date patterns.

Rounding is half away from zero, as in Excel (Python's round() rounds halves to even)."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.expr.runtime import type_error
from engine.expr.values import to_text

_DATE_TOKENS = re.compile(r"YYYY|YY|MM|DD|HH|mm|ss")


def round_half_up(value: float | int, digits: int = 0) -> float | int:
    quantum = Decimal(1).scaleb(-digits)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    return int(rounded) if digits <= 0 else float(rounded)


def format_value(value: Any, fmt: Any, tz: tzinfo) -> str:
    if value is None:
        return ""
    if fmt is None:
        if isinstance(value, datetime):
            return to_text(value.astimezone(tz) if value.tzinfo else value)
        return to_text(value)
    if not isinstance(fmt, str):
        raise type_error("text", fmt)
    if isinstance(value, bool):
        return to_text(value)
    if isinstance(value, int | float):
        return format_number(value, fmt)
    if isinstance(value, date):
        return format_date(value, fmt, tz)
    return to_text(value)


def format_number(value: float | int, fmt: str) -> str:
    percent = fmt.endswith("%")
    body = fmt.rstrip("%")
    grouping = "," in body
    decimals = len(body.split(".", 1)[1]) if "." in body else 0
    number = value * 100 if percent else value
    rounded = Decimal(str(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}" if grouping else f"{rounded:.{decimals}f}"
    return text + ("%" if percent else "")


def format_date(value: date, fmt: str, tz: tzinfo) -> str:
    moment = value
    if isinstance(value, datetime) and value.tzinfo is not None:
        moment = value.astimezone(tz)
    parts = {
        "YYYY": f"{moment.year:04d}",
        "YY": f"{moment.year % 100:02d}",
        "MM": f"{moment.month:02d}",
        "DD": f"{moment.day:02d}",
        "HH": f"{getattr(moment, 'hour', 0):02d}",
        "mm": f"{getattr(moment, 'minute', 0):02d}",
        "ss": f"{getattr(moment, 'second', 0):02d}",
    }
    return _DATE_TOKENS.sub(lambda m: parts[m.group(0)], fmt)
