"""References: a user, several users, a department, and a record of another form.

Stored as ids. The store confirms every referenced id exists (in one query per kind, not per
row); Excel holds usernames, department codes and record ids, translated through the
`ValueContext` look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from pydantic import Field

from engine import i18n
from engine.forms.fieldtypes.base import (
    DEFAULT_CONTEXT,
    Expression,
    FieldBase,
    FieldError,
    Key,
    ValueContext,
    nullable,
    register,
    split_list,
)


def parse_id(raw: Any) -> int:
    if isinstance(raw, bool):
        raise FieldError("field.type", expected=i18n.both("field.kind.id"))
    if isinstance(raw, int) and raw > 0:
        return raw
    if isinstance(raw, float) and raw.is_integer() and raw > 0:
        return int(raw)
    if isinstance(raw, str) and raw.strip().lstrip("#").isdigit() and int(raw.strip().lstrip("#")) > 0:
        return int(raw.strip().lstrip("#"))
    raise FieldError("field.type", expected=i18n.both("field.kind.id"))


ID_SCHEMA = {"type": "integer", "minimum": 1}


class _OneRef(FieldBase):
    value_type: ClassVar[str | None] = "integer"
    sql_type: ClassVar[str | None] = "integer"
    ref_kind: ClassVar[str] = "user"

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        return parse_id(raw)

    def json_schema(self) -> dict[str, Any]:
        return nullable(dict(ID_SCHEMA))

    def references(self, value: Any) -> Iterable[tuple[str, int]]:
        return () if value is None else ((self.ref_kind, value),)


@register
class UserField(_OneRef):
    type: Literal["user"]
    widget: ClassVar[str] = "user-picker"
    default_current: bool = Field(default=False, description="New records start with the person filling in")

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return None if value is None else (ctx.user_name(value) or value)

    def from_cell(self, cell: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        if isinstance(cell, str) and cell.strip() and not cell.strip().lstrip("#").isdigit():
            found = ctx.user_by_name(cell.strip())
            if found is None:
                raise FieldError("field.unknown_user", value=cell.strip())
            return found
        return self.coerce(cell, ctx)


@register
class UsersField(FieldBase):
    type: Literal["users"]
    widget: ClassVar[str] = "users-picker"
    value_type: ClassVar[str | None] = "list[integer]"
    sql_type: ClassVar[str | None] = None
    max_items: int | None = Field(default=None, ge=1)

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        items = split_list(raw) if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise FieldError("field.type", expected=i18n.both("field.kind.ids"))
        return list(dict.fromkeys(parse_id(item) for item in items)) or None

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": dict(ID_SCHEMA), "uniqueItems": True}
        if self.max_items:
            schema["maxItems"] = self.max_items
        return nullable(schema)

    def references(self, value: Any) -> Iterable[tuple[str, int]]:
        return (("user", v) for v in value or ())

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return ", ".join(str(ctx.user_name(v) or v) for v in value) if value else None

    def from_cell(self, cell: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        if not isinstance(cell, str):
            return self.coerce(cell, ctx)
        ids = []
        for name in split_list(cell):
            found = int(name.lstrip("#")) if name.lstrip("#").isdigit() else ctx.user_by_name(name)
            if found is None:
                raise FieldError("field.unknown_user", value=name)
            ids.append(found)
        return self.coerce(ids, ctx)


@register
class DepartmentField(_OneRef):
    type: Literal["department"]
    widget: ClassVar[str] = "department-picker"
    ref_kind: ClassVar[str] = "department"
    default_current: bool = Field(default=False, description="New records start with the filler's department")

    def to_cell(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        return None if value is None else (ctx.department_name(value) or value)

    def from_cell(self, cell: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> Any:
        if isinstance(cell, str) and cell.strip() and not cell.strip().isdigit():
            found = ctx.department_by_name(cell.strip())
            if found is None:
                raise FieldError("field.unknown_department", value=cell.strip())
            return found
        return self.coerce(cell, ctx)


@register
class RelationField(FieldBase):
    """A record of another form (the area a hazard is in, the equipment a check is about).
    `display_field` is what pickers show; `filter` narrows the choices with an expression over
    the other form's fields, where `record` is the record being filled
    (`area == record.area`)."""

    type: Literal["relation"]
    widget: ClassVar[str] = "record-picker"
    value_type: ClassVar[str | None] = "integer"
    sql_type: ClassVar[str | None] = "integer"
    form: Key = Field(description="Key of the related form")
    display_field: Key | None = Field(default=None, description="Field of the related form shown in pickers")
    filter: Expression | None = Field(default=None, description="Choices: related records where this is true")
    multiple: bool = False

    def coerce_value(self, raw: Any, ctx: ValueContext) -> Any:
        if self.multiple:
            items = split_list(raw) if isinstance(raw, str) else raw
            if not isinstance(items, list | tuple):
                raise FieldError("field.type", expected=i18n.both("field.kind.ids"))
            return list(dict.fromkeys(parse_id(i) for i in items)) or None
        return parse_id(raw)

    def expr_type_spec(self) -> Any:
        return "list[integer]" if self.multiple else "integer"

    def sql_kind(self) -> str | None:
        return None if self.multiple else "integer"

    def json_schema(self) -> dict[str, Any]:
        if self.multiple:
            return nullable({"type": "array", "items": dict(ID_SCHEMA), "uniqueItems": True})
        return nullable(dict(ID_SCHEMA))

    def references(self, value: Any) -> Iterable[tuple[str, int]]:
        if value is None:
            return ()
        ids = value if isinstance(value, list) else [value]
        return ((f"record:{self.form}", v) for v in ids)


i18n.register_messages(
    {
        "field.kind.id": {"zh-CN": "编号（正整数）", "en": "an id (a positive whole number)"},
        "field.kind.ids": {"zh-CN": "编号列表", "en": "a list of ids"},
        "field.unknown_user": {"zh-CN": "找不到用户“{value}”", "en": "No user “{value}”"},
        "field.unknown_department": {"zh-CN": "找不到部门“{value}”", "en": "No department “{value}”"},
        "field.missing_ref": {"zh-CN": "引用的{kind} {id} 不存在", "en": "The referenced {kind} {id} does not exist"},
    }
)
