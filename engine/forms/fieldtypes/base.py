"""What a field type is: its definition model (pydantic, so the published JSON Schema of the
definition format is generated from it) plus its behaviour — coercion of API and Excel input,
the JSON Schema fragment its values must satisfy, extra checks, display, Excel codec and the
designer's widget name.

Each type is one small class registered with `@register`; nothing else in the engine switches on
type names, so adding a type touches one file plus its test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Annotated, Any, ClassVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from engine import i18n

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
_LABEL_KEYS = {"zh", "en", "zh-CN", "en-US"}


def _check_label(value: dict[str, str]) -> dict[str, str]:
    unknown = set(value) - _LABEL_KEYS
    if unknown:
        raise ValueError(f"label locales are zh and en, not {sorted(unknown)}")
    if not any(v.strip() for v in value.values()):
        raise ValueError("a label needs text in zh or en")
    return value


Label = Annotated[
    dict[str, str],
    AfterValidator(_check_label),
    Field(description='Text in both languages: {"zh": "…", "en": "…"}',
          examples=[{"zh": "隐患描述", "en": "Description"}]),
]
Expression = Annotated[str, Field(description="An expression in SafeFlow's expression language", min_length=1)]


class FieldError(Exception):
    """One bad value: a message code (registered in zh-CN and en) and its parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class ValueContext:
    """What coercion and the Excel codec may need besides the value: the site time zone, the
    locale for labels, and look-ups of people/departments by name (Excel holds names, records
    hold ids). Look-ups are callables so the store can answer them in bulk and cache."""

    tz: tzinfo = UTC
    locale: str = "zh-CN"
    user_by_name: Callable[[str], int | None] = lambda _name: None
    user_name: Callable[[int], str | None] = lambda _id: None
    department_by_name: Callable[[str], int | None] = lambda _name: None
    department_name: Callable[[int], str | None] = lambda _id: None
    extra: dict[str, Any] = field(default_factory=dict)


DEFAULT_CONTEXT = ValueContext()


class Check(BaseModel):
    """A validation rule: when `expr` is false the record is refused with `message`."""

    model_config = ConfigDict(extra="forbid")
    expr: Expression
    message: Label


class ItemBase(BaseModel):
    """What every item of a form's `fields` list has, layout items (sections, dividers)
    included: an identity, a label, and a condition under which it is shown."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    widget: ClassVar[str] = "input"
    # The expression-language type of the value ("text", "number", "list[integer]", …); None for
    # layout-only types, which hold no value.
    value_type: ClassVar[str | None] = None
    # How column_for extracts the value in SQL: text | number | integer | boolean | None (not
    # comparable in SQL, e.g. lists and objects).
    sql_type: ClassVar[str | None] = None
    # Text that search ("q") finds.
    searchable: ClassVar[bool] = False
    # Computed by the server: clients cannot write it and it is never required of them.
    computed: ClassVar[bool] = False

    type: str = Field(description="The item type (see docs/forms.md)")
    key: Key = Field(description="Stable identifier in records, expressions and the API")
    label: Label | None = None
    help: Label | None = Field(default=None, description="Help text under the item")
    visible_if: Expression | None = Field(default=None, description="Shown (and kept) only while this is true")
    span: int = Field(default=1, ge=1, le=4, description="Columns the item spans in its section")

    @property
    def holds_value(self) -> bool:
        return self.value_type is not None

    def expr_type_spec(self) -> Any:
        """The value's type for the expression checker (a spec `engine.expr.types.parse_type`
        reads: "number", "list[text]", {"lat": "number"} …)."""
        return self.value_type

    def sql_kind(self) -> str | None:
        return self.sql_type

    def title(self, locale: str | None = None) -> str:
        return i18n.localized(self.label, locale) or self.key


class FieldBase(ItemBase):
    """Properties every value-holding field has; a type adds its own and the behaviour hooks."""

    value_type: ClassVar[str | None] = "text"
    sql_type: ClassVar[str | None] = "text"

    placeholder: Label | None = None
    required: bool = False
    readonly: bool = False
    required_if: Expression | None = Field(default=None, description="Required while this is true")
    readonly_if: Expression | None = Field(default=None, description="Not editable while this is true")
    default: Any = Field(
        default=None,
        description="An expression evaluated when the record is created (a JSON number/boolean/list, or a string "
        "naming one of the field's options, is taken literally)",
    )
    checks: list[Check] = Field(default_factory=list, alias="validate",
                                description="Rules the value must satisfy, each with its message")
    indexed: bool = Field(default=False, description="Create a database index for filters, sorting and reports")

    # Coercion: API/JSON input -> the canonical stored value. None means empty.
    def coerce(self, raw: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        return self.coerce_value(raw, ctx)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return raw

    def coercer(self) -> Callable[[Any, ValueContext], Any]:
        """`coerce` as one callable for the record validator, which calls it for every cell of
        every row: a type may answer its usual input (a str for text, a number for numbers)
        straight away and hand the rest to `coerce`, with the same result."""
        return self.coerce

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) fragment a stored value satisfies (null = empty)."""
        return {}

    def check(self, value: Any) -> list[FieldError]:
        """Checks JSON Schema cannot express (checksums, option trees); value is not None."""
        return []

    def display(self, value: Any, locale: str | None = None) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        """The value as an Excel cell (labels for options, names for people)."""
        if value is None:
            return None
        if isinstance(value, list | dict):
            return self.display(value, ctx.locale)
        return value

    def from_cell(self, cell: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return self.coerce(cell, ctx)

    def search_text(self, value: Any) -> str | None:
        if not self.searchable or value is None:
            return None
        return self.display(value)

    def searcher(self) -> Callable[[Any], str | None]:
        """`search_text` as one callable for every cell of a sub-table column: a searchable
        type shown as its own text (str of the value) answers a str directly, same result."""
        slow = self.search_text
        if not (self.searchable and type(self).search_text is FieldBase.search_text
                and type(self).display is FieldBase.display):
            return slow
        return lambda value: value if type(value) is str else slow(value)

    def references(self, value: Any) -> Iterable[tuple[str, int]]:
        """(kind, id) pairs the store must confirm exist: ("user", 3), ("file", 12), …"""
        return ()

    @property
    def may_refer(self) -> bool:
        """Can a value of this field refer to something (so writes must look it up)?"""
        return type(self).references is not FieldBase.references

    @property
    def may_check(self) -> bool:
        """Does the type add checks of its own (checksums, option trees, limits)?"""
        return type(self).check is not FieldBase.check

    @property
    def may_search(self) -> bool:
        """Can a value of this field give search text?"""
        return self.searchable or type(self).search_text is not FieldBase.search_text

    def option_values(self) -> list[str] | None:
        return None

    def excel_choices(self, locale: str | None = None) -> list[str] | None:
        """Values offered as a drop-down list in the import template."""
        return None


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema fragment that also accepts null (empty). Written as `type: [t, "null"]` rather
    than `anyOf`, which validates several times faster on big sub-tables."""
    out = dict(schema)
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


_REGISTRY: dict[str, type[ItemBase]] = {}


def register(cls: type[ItemBase]) -> type[ItemBase]:
    """Class decorator: make a field type available under its `type` literal."""
    args = get_args(cls.model_fields["type"].annotation)
    if len(args) != 1 or not isinstance(args[0], str):
        raise TypeError(f"{cls.__name__} needs `type: Literal['its-name']`")
    name = args[0]
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"field type {name!r} is registered twice")
    _REGISTRY[name] = cls
    return cls


def registry() -> Mapping[str, type[ItemBase]]:
    return dict(_REGISTRY)


def type_names() -> list[str]:
    return sorted(_REGISTRY)


def field_union(*, exclude: Iterable[str] = ()) -> Any:
    """The discriminated union of the registered field models (pydantic picks by `type`)."""
    from typing import Union

    skip = set(exclude)
    members = tuple(cls for name, cls in _REGISTRY.items() if name not in skip)
    return Annotated[Union[members], Field(discriminator="type")]  # noqa: UP007 (runtime-built union)


WORD_SPLIT = re.compile(r"\s*[,，;；、\n]\s*")


def split_list(text: str) -> list[str]:
    """A list typed into one cell: "a, b；c" -> ["a", "b", "c"]."""
    return [part for part in WORD_SPLIT.split(text.strip()) if part]


i18n.register_messages(
    {
        "field.type": {"zh-CN": "应为{expected}", "en": "Expected {expected}"},
        "field.required": {"zh-CN": "必填", "en": "Required"},
        "field.too_long": {"zh-CN": "最多 {limit} 个字符", "en": "At most {limit} characters"},
        "field.too_short": {"zh-CN": "至少 {limit} 个字符", "en": "At least {limit} characters"},
        "field.below_min": {"zh-CN": "不能小于 {limit}", "en": "Must be at least {limit}"},
        "field.above_max": {"zh-CN": "不能大于 {limit}", "en": "Must be at most {limit}"},
        "field.too_few": {"zh-CN": "至少 {limit} 项", "en": "At least {limit} item(s)"},
        "field.too_many": {"zh-CN": "最多 {limit} 项", "en": "At most {limit} item(s)"},
        "field.pattern": {"zh-CN": "格式不正确", "en": "Wrong format"},
        "field.not_option": {"zh-CN": "“{value}”不是可选项（可选：{options}）",
                             "en": "“{value}” is not one of the options ({options})"},
        "field.duplicate_item": {"zh-CN": "重复的选项：{value}", "en": "Chosen twice: {value}"},
        "field.invalid": {"zh-CN": "值无效：{detail}", "en": "Invalid value: {detail}"},
    }
)
