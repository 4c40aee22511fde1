"""Dates, date-times, times of day and durations.

Stored forms are the ones the expression language and SQL compare as text: date
"YYYY-MM-DD", date-time UTC "YYYY-MM-DDTHH:MM:SSZ", time "HH:MM" (or "HH:MM:SS"), duration a
whole number of seconds. Input without a time zone means the site's time zone; Excel cells
(which have none) are written and read in it too.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import DEFAULT_CONTEXT, FieldBase, FieldError, ValueContext, nullable, register

DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
_LOOSE_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        match = _LOOSE_DATE.match(raw.strip())
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                pass
    raise FieldError("field.type", expected=i18n.both("field.kind.date"))


def parse_datetime(raw: Any, ctx: ValueContext) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time(0))
    elif isinstance(raw, str):
        text = raw.strip().replace("Z", "+00:00").replace("z", "+00:00")
        text = re.sub(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", text)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError("field.type", expected=i18n.both("field.kind.datetime")) from None
    else:
        raise FieldError("field.type", expected=i18n.both("field.kind.datetime"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ctx.tz)
    return value.astimezone(UTC).replace(microsecond=0)


def format_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Temporal(FieldBase):
    min: str | None = Field(default=None, description="Earliest value, in the stored format")
    max: str | None = Field(default=None, description="Latest value, in the stored format")

    def check(self, value: Any) -> list[FieldError]:
        if self.min is not None and value < self.min:
            return [FieldError("field.below_min", limit=self.min)]
        if self.max is not None and value > self.max:
            return [FieldError("field.above_max", limit=self.max)]
        return []


@register
class DateField(_Temporal):
    type: Literal["date"]
    widget: ClassVar[str] = "date"
    value_type: ClassVar[str | None] = "date"

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return parse_date(raw).isoformat()

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "string", "pattern": DATE_RE})

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return date.fromisoformat(value) if value else None


@register
class DateTimeField(_Temporal):
    type: Literal["datetime"]
    widget: ClassVar[str] = "datetime"
    value_type: ClassVar[str | None] = "datetime"

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return format_datetime(parse_datetime(raw, ctx))

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "string", "pattern": DATETIME_RE})

    def display(self, value: Any, locale: str | None = None) -> str:
        return value.replace("T", " ").replace("Z", " UTC") if value else ""

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        if not value:
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ctx.tz).replace(tzinfo=None)


@register
class TimeField(FieldBase):
    type: Literal["time"]
    widget: ClassVar[str] = "time"
    seconds: bool = Field(default=False, description="Keep seconds (HH:MM:SS)")

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if isinstance(raw, datetime):
            raw = raw.time()
        if isinstance(raw, time):
            value = raw
        elif isinstance(raw, str):
            match = re.match(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$", raw.strip())
            if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
                raise FieldError("field.type", expected=i18n.both("field.kind.time"))
            value = time(int(match[1]), int(match[2]), int(match[3] or 0))
        else:
            raise FieldError("field.type", expected=i18n.both("field.kind.time"))
        return value.strftime("%H:%M:%S" if self.seconds else "%H:%M")

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"})

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return time.fromisoformat(value) if value else None


_UNITS = {"d": 86400, "day": 86400, "天": 86400, "h": 3600, "hr": 3600, "小时": 3600, "min": 60, "m": 60,
          "分": 60, "分钟": 60, "s": 1, "sec": 1, "秒": 1, "w": 604800, "周": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(天|小时|分钟|分|秒|周|day|hr|min|sec|[dhmsw])", re.IGNORECASE)
_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.IGNORECASE)


def parse_duration_seconds(raw: Any) -> int:
    """Seconds from 5400, "1h 30min", "1.5h", "2天3小时", "01:30[:00]" or "PT1H30M"."""
    if isinstance(raw, timedelta):
        return round(raw.total_seconds())
    if isinstance(raw, bool):
        raise FieldError("field.type", expected=i18n.both("field.kind.duration"))
    if isinstance(raw, int | float):
        return round(raw)
    if isinstance(raw, str):
        text = raw.strip()
        iso = _ISO.match(text)
        if iso and any(iso.groups()):
            d, h, m, s = (int(g or 0) for g in iso.groups())
            return d * 86400 + h * 3600 + m * 60 + s
        clock = re.match(r"^(\d+):(\d{2})(?::(\d{2}))?$", text)
        if clock:
            return int(clock[1]) * 3600 + int(clock[2]) * 60 + int(clock[3] or 0)
        if re.fullmatch(r"\d+", text):
            return int(text)
        parts = _PART.findall(text)
        if parts and _PART.sub("", text).strip() == "":
            return round(sum(float(n) * _UNITS[u.lower() if u.isascii() else u] for n, u in parts))
    raise FieldError("field.type", expected=i18n.both("field.kind.duration"))


def format_duration(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if rest >= size:
            count, rest = divmod(rest, size)
            parts.append(f"{count}{unit}")
    if rest or not parts:
        parts.append(f"{rest}s")
    return sign + " ".join(parts)


@register
class DurationField(FieldBase):
    """How long something took or may take (a permit's validity, a stoppage); whole seconds."""

    type: Literal["duration"]
    widget: ClassVar[str] = "duration"
    value_type: ClassVar[str | None] = "duration"
    sql_type: ClassVar[str | None] = "integer"
    min: int | None = Field(default=0, description="Shortest allowed, in seconds")
    max: int | None = Field(default=None, description="Longest allowed, in seconds")

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return parse_duration_seconds(raw)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.min is not None:
            schema["minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        return nullable(schema)

    def display(self, value: Any, locale: str | None = None) -> str:
        return "" if value is None else format_duration(int(value))

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return None if value is None else format_duration(int(value))


i18n.register_messages(
    {
        "field.kind.date": {"zh-CN": "日期（如 2026-11-22）", "en": "a date (e.g. 2026-11-22)"},
        "field.kind.datetime": {"zh-CN": "日期时间（如 2026-11-22 08:30）",
                                "en": "a date-time (e.g. 2026-11-22 08:30)"},
        "field.kind.time": {"zh-CN": "时间（如 08:30）", "en": "a time of day (e.g. 08:30)"},
        "field.kind.duration": {"zh-CN": "时长（如 1h 30min、2天）", "en": "a duration (e.g. 1h 30min, 2d)"},
    }
)
