"""Layout-only items: a section groups the fields after it (up to the next section) into
columns, optionally on a tab, and hides them all when its `visible_if` is false; a divider is a
line with an optional caption. Neither holds a value."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from engine.forms.fieldtypes.base import ItemBase, Key, register


@register
class SectionItem(ItemBase):
    type: Literal["section"]
    widget: ClassVar[str] = "section"
    columns: int = Field(default=1, ge=1, le=4, description="Columns the section's fields are laid out in")
    tab: Key | None = Field(default=None, description="Key of the tab the section is on")
    collapsed: bool = Field(default=False, description="Starts folded")


@register
class DividerItem(ItemBase):
    type: Literal["divider"]
    widget: ClassVar[str] = "divider"
