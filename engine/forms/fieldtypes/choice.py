"""Choices: yes/no, single and multiple choice from options, and cascading choice through an
option tree (area → workshop → line).

Stored values are option *values* (stable codes); labels are for people and Excel. Options may
carry a `parent` and `data` so an `options_filter` expression can narrow them by the record
(`option.parent == area`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine import i18n
from engine.forms.fieldtypes.base import (
    DEFAULT_CONTEXT,
    Expression,
    FieldBase,
    FieldError,
    Label,
    ValueContext,
    nullable,
    register,
    split_list,
)

TRUE_WORDS = {"true", "yes", "y", "1", "是", "对", "有", "√", "✓", "✔", "合格", "通过", "on"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "错", "无", "×", "✗", "✘", "不合格", "不通过", "off"}


@register
class BooleanField(FieldBase):
    type: Literal["boolean"]
    widget: ClassVar[str] = "switch"
    value_type: ClassVar[str | None] = "boolean"
    sql_type: ClassVar[str | None] = "boolean"
    true_label: Label | None = None
    false_label: Label | None = None

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            word = raw.strip().lower()
            if word in TRUE_WORDS or word == i18n.localized(self.true_label, "zh-CN").lower() or \
                    word == i18n.localized(self.true_label, "en").lower():
                return True
            if word in FALSE_WORDS or word == i18n.localized(self.false_label, "zh-CN").lower() or \
                    word == i18n.localized(self.false_label, "en").lower():
                return False
        raise FieldError("field.type", expected=i18n.both("field.kind.boolean"))

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "boolean"})

    def display(self, value: Any, locale: str | None = None) -> str:
        if value is None:
            return ""
        label = self.true_label if value else self.false_label
        return i18n.localized(label, locale) if label else i18n.message("field.yes" if value else "field.no", locale)

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return self.display(value, ctx.locale) or None

    def excel_choices(self, locale: str | None = None) -> list[str] | None:
        return [self.display(True, locale), self.display(False, locale)]


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=200)
    label: Label | None = None
    parent: str | None = Field(default=None, description="For options_filter: the option this one belongs under")
    data: dict[str, str | int | float | bool] = Field(default_factory=dict,
                                                       description="Extra facts an options_filter may test")
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, raw: Any) -> Any:
        return {"value": raw} if isinstance(raw, str) else raw

    def text(self, locale: str | None = None) -> str:
        return i18n.localized(self.label, locale) or self.value


class _Choice(FieldBase):
    widget: ClassVar[str] = "select"
    searchable: ClassVar[bool] = True
    options: list[Option] = Field(min_length=1, description='Options: "value" strings or {"value", "label", …}')
    options_filter: Expression | None = Field(
        default=None, description="Offer only options for which this is true; `option` is the option")

    def option_values(self) -> list[str]:
        return [o.value for o in self.options]

    @cached_property
    def _text_index(self) -> dict[str, str]:
        """Option value, zh label or en label (any case) → the option's value."""
        index: dict[str, str] = {o.value: o.value for o in self.options}
        for option in self.options:
            for key in (option.value, option.text("zh-CN"), option.text("en")):
                index.setdefault(key.strip().lower(), option.value)
        return index

    def _one(self, raw: Any) -> str:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise FieldError("field.type", expected=i18n.both("field.kind.option"))
        index = self._text_index
        if isinstance(raw, str) and raw in index:
            return index[raw]
        text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
        found = index.get(text.strip().lower())
        if found is None:
            raise FieldError("field.not_option", value=text, options=", ".join(self.option_values()[:20]))
        return found

    @cached_property
    def _labels(self) -> dict[str, dict[str, str]]:
        """Per locale, option value → label; filled as locales are asked for (search text and
        exports ask for every row's option)."""
        return {}

    def label_of(self, value: str, locale: str | None = None) -> str:
        loc = i18n.normalize_locale(locale)
        labels = self._labels.get(loc)
        if labels is None:
            labels = self._labels[loc] = {o.value: o.text(loc) for o in reversed(self.options)}
        return labels.get(value, value)

    def excel_choices(self, locale: str | None = None) -> list[str] | None:
        return [o.text(locale) for o in self.options]


class _Single(_Choice):
    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return self._one(raw)

    def coercer(self) -> Callable[[Any, ValueContext], Any]:
        slow = self.coerce
        if type(self).coerce_value is not _Single.coerce_value:
            return slow
        index = self._text_index

        def coerce(raw: Any, ctx: ValueContext) -> Any:
            found = index.get(raw) if type(raw) is str else None
            return found if found is not None and raw.strip() else slow(raw, ctx)

        return coerce

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "string", "enum": self.option_values()})

    def display(self, value: Any, locale: str | None = None) -> str:
        return "" if value is None else self.label_of(value, locale)

    def searcher(self) -> Callable[[Any], str | None]:
        if not self.searchable or type(self).search_text is not FieldBase.search_text \
                or type(self).display is not _Single.display:
            return super().searcher()
        # `label_of(value)` in the default locale, its labels looked up once here: search text
        # asks for every row's option on every write.
        self.label_of("", None)
        labels = self._labels[i18n.normalize_locale(None)]
        return lambda value: None if value is None else labels.get(value, value)

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return None if value is None else self.label_of(value, ctx.locale)


@register
class SelectField(_Single):
    type: Literal["select"]


@register
class RadioField(_Single):
    type: Literal["radio"]
    widget: ClassVar[str] = "radio"


class _Multi(_Choice):
    value_type: ClassVar[str | None] = "list[text]"
    sql_type: ClassVar[str | None] = None
    min_items: int | None = Field(default=None, ge=0)
    max_items: int | None = Field(default=None, ge=1)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        items = split_list(raw) if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise FieldError("field.type", expected=i18n.both("field.kind.options"))
        values = [self._one(item) for item in items]
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise FieldError("field.duplicate_item", value=value)
            seen.add(value)
        return values or None

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": {"enum": self.option_values()}, "uniqueItems": True}
        if self.min_items is not None:
            schema["minItems"] = self.min_items
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return nullable(schema)

    def display(self, value: Any, locale: str | None = None) -> str:
        return ", ".join(self.label_of(v, locale) for v in value or ())

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return self.display(value, ctx.locale) or None


@register
class MultiSelectField(_Multi):
    type: Literal["multiselect"]
    widget: ClassVar[str] = "multiselect"


@register
class CheckboxesField(_Multi):
    type: Literal["checkboxes"]
    widget: ClassVar[str] = "checkboxes"


class CascadeOption(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=200)
    label: Label | None = None
    children: list[CascadeOption] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, raw: Any) -> Any:
        return {"value": raw} if isinstance(raw, str) else raw

    def text(self, locale: str | None = None) -> str:
        return i18n.localized(self.label, locale) or self.value


@register
class CascadeField(FieldBase):
    """A path through an option tree, stored as the list of values from the top: ["a1", "w2",
    "l3"]. `levels` names each depth (area, workshop, line) for labels and Excel."""

    type: Literal["cascade"]
    widget: ClassVar[str] = "cascader"
    value_type: ClassVar[str | None] = "list[text]"
    sql_type: ClassVar[str | None] = None
    searchable: ClassVar[bool] = True
    levels: list[Label] = Field(default_factory=list, description="A label per depth")
    options: list[CascadeOption] = Field(min_length=1)
    leaf_only: bool = Field(default=True, description="The path must end at an option without children")

    def _walk(self, path: list[str]) -> list[CascadeOption] | None:
        nodes, chosen = self.options, []
        for step in path:
            match = next((n for n in nodes if n.value == step), None)
            if match is None:
                return None
            chosen.append(match)
            nodes = match.children
        return chosen

    def _find_by_text(self, parts: list[str]) -> list[str]:
        nodes, values = self.options, []
        for part in parts:
            key = part.strip().lower()
            match = next((n for n in nodes if key in (n.value.lower(), n.text("zh-CN").lower(), n.text("en").lower())),
                         None)
            if match is None:
                raise FieldError("field.not_option", value=part, options=", ".join(n.value for n in nodes[:20]))
            values.append(match.value)
            nodes = match.children
        return values

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if isinstance(raw, str):
            parts = [p for p in (s.strip() for s in raw.replace("／", "/").replace(">", "/").split("/")) if p]
            return self._find_by_text(parts) or None
        if isinstance(raw, list | tuple) and all(isinstance(p, str) for p in raw):
            return list(raw) or None
        raise FieldError("field.type", expected=i18n.both("field.kind.cascade"))

    def json_schema(self) -> dict[str, Any]:
        return nullable({"type": "array", "items": {"type": "string"}, "minItems": 1})

    def check(self, value: Any) -> list[FieldError]:
        chosen = self._walk(value)
        if chosen is None:
            return [FieldError("field.cascade_path", value=" / ".join(value))]
        if self.leaf_only and chosen[-1].children:
            return [FieldError("field.cascade_leaf", value=" / ".join(value))]
        return []

    def display(self, value: Any, locale: str | None = None) -> str:
        chosen = self._walk(value or []) or []
        return " / ".join(n.text(locale) for n in chosen) if chosen else " / ".join(value or [])

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return self.display(value, ctx.locale) or None


i18n.register_messages(
    {
        "field.yes": {"zh-CN": "是", "en": "Yes"},
        "field.no": {"zh-CN": "否", "en": "No"},
        "field.kind.boolean": {"zh-CN": "是/否", "en": "yes or no"},
        "field.kind.option": {"zh-CN": "一个选项", "en": "one of the options"},
        "field.kind.options": {"zh-CN": "选项列表", "en": "a list of options"},
        "field.kind.cascade": {"zh-CN": "逐级选项路径（如 一厂/二车间/3号线）",
                               "en": "a path of options (e.g. Plant 1/Workshop 2/Line 3)"},
        "field.cascade_path": {"zh-CN": "“{value}”不在选项树中", "en": "“{value}” is not a path in the option tree"},
        "field.cascade_leaf": {"zh-CN": "“{value}”还需继续选择下一级",
                               "en": "“{value}” needs a choice at the next level"},
        "field.option_filtered": {"zh-CN": "“{value}”在当前条件下不可选",
                                  "en": "“{value}” is not offered for this record"},
    }
)
