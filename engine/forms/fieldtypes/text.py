"""Text-valued types: plain and long text, rich text, email, phone, ID-card number, URL and
QR/barcode values. Each normalises what people type (spaces, case) before it is stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import FieldBase, FieldError, ValueContext, nullable, register
from engine.forms.html import sanitize_html


class _TextLike(FieldBase):
    searchable: ClassVar[bool] = True
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    pattern: str | None = Field(default=None, description="A regular expression the whole value must match")

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise FieldError("field.type", expected=i18n.both("field.kind.text"))
        text = raw.strip() if isinstance(raw, str) else _plain_number(raw)
        return text or None

    def coercer(self) -> Callable[[Any, ValueContext], Any]:
        slow = self.coerce
        if type(self).coerce_value is not _TextLike.coerce_value:
            return slow

        def coerce(raw: Any, ctx: ValueContext) -> Any:
            return (raw.strip() or None) if type(raw) is str else slow(raw, ctx)

        return coerce

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.pattern:
            schema["pattern"] = self.pattern
        return nullable(schema)


def _plain_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@register
class TextField(_TextLike):
    type: Literal["text"]
    widget: ClassVar[str] = "input"
    max_length: int | None = Field(default=200, ge=1)


@register
class TextareaField(_TextLike):
    type: Literal["textarea"]
    widget: ClassVar[str] = "textarea"
    max_length: int | None = Field(default=5000, ge=1)
    rows: int = Field(default=3, ge=1, le=40)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        text = super().coerce_value(raw, ctx)
        return text.replace("\r\n", "\n") if text else text


@register
class RichTextField(_TextLike):
    """HTML limited to formatting tags; scripts, event handlers and javascript: links are
    removed on the way in, so stored rich text is safe to render."""

    type: Literal["richtext"]
    widget: ClassVar[str] = "richtext"
    max_length: int | None = Field(default=50000, ge=1)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if not isinstance(raw, str):
            raise FieldError("field.type", expected=i18n.both("field.kind.text"))
        return sanitize_html(raw) or None

    def search_text(self, value: Any) -> str | None:
        return re.sub(r"<[^>]+>", " ", value) if value else None


EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


@register
class EmailField(_TextLike):
    type: Literal["email"]
    widget: ClassVar[str] = "email"
    max_length: int | None = Field(default=254, ge=3)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        text = super().coerce_value(raw, ctx)
        if text is None:
            return None
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}" if local else text

    def check(self, value: Any) -> list[FieldError]:
        return [] if EMAIL_RE.match(value) else [FieldError("field.email")]


PHONE_PATTERNS = {
    "mobile": re.compile(r"^1[3-9]\d{9}$"),
    "landline": re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$"),
    "international": re.compile(r"^\+\d{6,15}$"),
}


@register
class PhoneField(_TextLike):
    """Mainland mobile (13812345678), landline (0571-88886666[-ext]) or +international."""

    type: Literal["phone"]
    widget: ClassVar[str] = "phone"
    kinds: list[Literal["mobile", "landline", "international"]] = Field(
        default_factory=lambda: ["mobile", "landline", "international"])
    max_length: int | None = Field(default=24, ge=6)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        text = super().coerce_value(raw, ctx)
        if text is None:
            return None
        text = re.sub(r"[\s()（）]", "", text)
        return re.sub(r"^\+86-?(?=1\d{10}$)", "", text)

    def check(self, value: Any) -> list[FieldError]:
        if any(PHONE_PATTERNS[k].match(value) for k in self.kinds):
            return []
        return [FieldError("field.phone")]


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_card_problem(value: str) -> str | None:
    """Why an 18-digit resident ID number (GB 11643) is wrong, or None: shape, birth date, the
    ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "field.idcard_shape"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "field.idcard_birth"
    if born.year < 1900 or born > date.today():
        return "field.idcard_birth"
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK[total % 11] != value[17]:
        return "field.idcard_checksum"
    return None


@register
class IdCardField(_TextLike):
    type: Literal["idcard"]
    widget: ClassVar[str] = "idcard"
    searchable: ClassVar[bool] = False  # personal data stays out of the search index
    max_length: int | None = Field(default=18, ge=18, le=18)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        text = super().coerce_value(raw, ctx)
        return text.replace(" ", "").upper() if text else None

    def check(self, value: Any) -> list[FieldError]:
        code = id_card_problem(value)
        return [FieldError(code)] if code else []

    def display(self, value: Any, locale: str | None = None) -> str:
        return value or ""


@register
class UrlField(_TextLike):
    """http(s) links only: a javascript: or file: link is refused, not stored."""

    type: Literal["url"]
    widget: ClassVar[str] = "url"
    max_length: int | None = Field(default=2000, ge=8)

    def check(self, value: Any) -> list[FieldError]:
        if re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
            return []
        return [FieldError("field.url")]


def ean13_ok(code: str) -> bool:
    if not re.fullmatch(r"\d{13}", code):
        return False
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == digits[12]


@register
class BarcodeField(_TextLike):
    """A scanned QR or barcode value (equipment tag, chemical container); EAN-13 values are
    checked against their check digit, Code 128 against its printable character set."""

    type: Literal["barcode"]
    widget: ClassVar[str] = "scanner"
    format: Literal["any", "qr", "code128", "ean13"] = "any"
    max_length: int | None = Field(default=2000, ge=1)

    def check(self, value: Any) -> list[FieldError]:
        if self.format == "ean13" and not ean13_ok(value):
            return [FieldError("field.ean13")]
        if self.format == "code128" and not all(32 <= ord(c) < 127 for c in value):
            return [FieldError("field.code128")]
        return []


i18n.register_messages(
    {
        "field.kind.text": {"zh-CN": "文本", "en": "text"},
        "field.email": {"zh-CN": "邮箱格式不正确", "en": "Not an email address"},
        "field.phone": {"zh-CN": "电话号码格式不正确", "en": "Not a phone number"},
        "field.idcard_shape": {"zh-CN": "身份证号应为 18 位（末位可为 X）",
                               "en": "An ID card number has 18 characters (the last may be X)"},
        "field.idcard_birth": {"zh-CN": "身份证号中的出生日期无效",
                               "en": "The birth date in the ID card number is invalid"},
        "field.idcard_checksum": {"zh-CN": "身份证号校验位错误", "en": "The ID card number's check character is wrong"},
        "field.url": {"zh-CN": "应为 http(s) 链接", "en": "Expected an http(s) link"},
        "field.ean13": {"zh-CN": "EAN-13 条码校验位错误", "en": "The EAN-13 check digit is wrong"},
        "field.code128": {"zh-CN": "Code 128 条码只能包含可打印 ASCII 字符",
                          "en": "A Code 128 value holds printable ASCII characters only"},
    }
)
