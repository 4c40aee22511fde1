"""Uploaded media and places: images, files, a drawn signature, a geolocation.

Media values are ids of stored files (see engine/forms/files.py: content-sniffed, stored under
their hash). The field says which kinds it accepts; the record service checks each id exists and
that its sniffed kind is one of them, so a renamed .exe never becomes a "photo".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import (
    DEFAULT_CONTEXT,
    FieldBase,
    FieldError,
    ValueContext,
    nullable,
    register,
    split_list,
)
from engine.forms.fieldtypes.people import ID_SCHEMA, parse_id

IMAGE_KINDS = ("jpeg", "png", "webp", "gif")
DOCUMENT_KINDS = ("pdf", "docx", "xlsx", "pptx", "doc", "xls", "ppt", "txt", "csv")
FileKind = Literal["jpeg", "png", "webp", "gif", "pdf", "docx", "xlsx", "pptx", "doc", "xls", "ppt", "txt", "csv"]


class _Media(FieldBase):
    value_type: ClassVar[str | None] = "integer"
    sql_type: ClassVar[str | None] = "integer"
    multiple: bool = False
    max_items: int | None = Field(default=None, ge=1, le=100)
    max_size_mb: float | None = Field(default=None, gt=0, description="Per file; the site limit applies too")

    def accepted(self) -> tuple[str, ...]:
        raise NotImplementedError

    def expr_type_spec(self) -> Any:
        return "list[integer]" if self.multiple else "integer"

    def sql_kind(self) -> str | None:
        return None if self.multiple else "integer"

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if self.multiple:
            items = split_list(raw) if isinstance(raw, str) else raw
            if not isinstance(items, list | tuple):
                raise FieldError("field.type", expected=i18n.both("field.kind.files"))
            return list(dict.fromkeys(parse_id(i) for i in items)) or None
        if isinstance(raw, list | tuple) and len(raw) == 1:
            raw = raw[0]
        return parse_id(raw)

    def json_schema(self) -> dict[str, Any]:
        if self.multiple:
            schema: dict[str, Any] = {"type": "array", "items": dict(ID_SCHEMA), "uniqueItems": True}
            if self.max_items:
                schema["maxItems"] = self.max_items
            return nullable(schema)
        return nullable(dict(ID_SCHEMA))

    def references(self, value: Any) -> Iterable[tuple[str, int]]:
        if value is None:
            return ()
        return (("file", v) for v in (value if isinstance(value, list) else [value]))

    def display(self, value: Any, locale: str | None = None) -> str:
        if value is None:
            return ""
        return ", ".join(f"#{v}" for v in (value if isinstance(value, list) else [value]))

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return self.display(value) or None


@register
class ImageField(_Media):
    type: Literal["image"]
    widget: ClassVar[str] = "image-upload"
    accept: list[Literal["jpeg", "png", "webp", "gif"]] = Field(default_factory=lambda: list(IMAGE_KINDS))
    camera_only: bool = Field(default=False, description="Ask the phone for a fresh photo, not the gallery")

    def accepted(self) -> tuple[str, ...]:
        return tuple(self.accept)


@register
class FileField(_Media):
    type: Literal["file"]
    widget: ClassVar[str] = "file-upload"
    accept: list[FileKind] = Field(default_factory=lambda: list(DOCUMENT_KINDS + IMAGE_KINDS))

    def accepted(self) -> tuple[str, ...]:
        return tuple(self.accept)


@register
class SignatureField(_Media):
    """A handwritten signature drawn on screen and uploaded as a PNG."""

    type: Literal["signature"]
    widget: ClassVar[str] = "signature-pad"

    def accepted(self) -> tuple[str, ...]:
        return ("png",)


@register
class GeoField(FieldBase):
    """Where something is: latitude/longitude (WGS-84 degrees), accuracy in metres, and an
    optional address. `max_accuracy` refuses a fix too vague to find the spot again."""

    type: Literal["geo"]
    widget: ClassVar[str] = "geolocation"
    sql_type: ClassVar[str | None] = None
    max_accuracy: float | None = Field(default=None, gt=0, description="Largest accepted accuracy radius, metres")

    def expr_type_spec(self) -> Any:
        return {"lat": "number", "lng": "number", "accuracy": "number", "address": "text"}

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if isinstance(raw, str):
            parts = [p.strip() for p in raw.replace("，", ",").split(",")]
            if len(parts) not in (2, 3):
                raise FieldError("field.type", expected=i18n.both("field.kind.geo"))
            raw = dict(zip(("lat", "lng", "accuracy"), parts, strict=False))
        if not isinstance(raw, dict):
            raise FieldError("field.type", expected=i18n.both("field.kind.geo"))
        out: dict[str, Any] = {}
        for key in ("lat", "lng", "accuracy"):
            value = raw.get(key)
            if value is None or value == "":
                continue
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                raise FieldError("field.type", expected=i18n.both("field.kind.geo")) from None
        address = raw.get("address")
        if address:
            out["address"] = str(address).strip()[:500]
        extra = set(raw) - {"lat", "lng", "accuracy", "address"}
        if extra:
            raise FieldError("field.geo_extra", keys=", ".join(sorted(extra)))
        return out

    def json_schema(self) -> dict[str, Any]:
        return nullable({
            "type": "object",
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lng": {"type": "number", "minimum": -180, "maximum": 180},
                "accuracy": {"type": "number", "minimum": 0},
                "address": {"type": "string", "maxLength": 500},
            },
            "required": ["lat", "lng"],
            "additionalProperties": False,
        })

    def check(self, value: Any) -> list[FieldError]:
        accuracy = value.get("accuracy")
        if self.max_accuracy is not None and accuracy is not None and accuracy > self.max_accuracy:
            return [FieldError("field.geo_vague", accuracy=accuracy, limit=self.max_accuracy)]
        return []

    def display(self, value: Any, locale: str | None = None) -> str:
        if not value:
            return ""
        text = f"{value['lat']:.6f},{value['lng']:.6f}"
        if value.get("accuracy") is not None:
            text += f",{value['accuracy']:g}"
        return text

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return self.display(value) or None


i18n.register_messages(
    {
        "field.kind.files": {"zh-CN": "文件编号列表", "en": "a list of file ids"},
        "field.kind.geo": {"zh-CN": "位置（纬度,经度[,精度米]）", "en": "a location (lat,lng[,accuracy m])"},
        "field.geo_extra": {"zh-CN": "位置只能包含 lat、lng、accuracy、address，多了：{keys}",
                            "en": "A location holds lat, lng, accuracy and address only; unexpected: {keys}"},
        "field.geo_vague": {"zh-CN": "定位精度 {accuracy} 米，超过允许的 {limit} 米",
                            "en": "Location accuracy {accuracy} m is worse than the allowed {limit} m"},
        "field.file_missing": {"zh-CN": "文件 #{id} 不存在", "en": "File #{id} does not exist"},
        "field.file_kind": {"zh-CN": "文件 #{id} 的类型 {kind} 不被接受（可接受：{accept}）",
                            "en": "File #{id} is {kind}, which this field does not accept ({accept})"},
        "field.file_size": {"zh-CN": "文件 #{id} 超过 {limit} MB", "en": "File #{id} is larger than {limit} MB"},
    }
)
