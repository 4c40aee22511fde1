"""Dictionaries: shared lookup tables a pack ships (hazard categories, the 重大事故隐患 criteria,
permit validity per level, gas limits) and formulas, conditions and rules read with
`LOOKUP("dictionary", key, "field")`.

A dictionary is a versioned definition of kind "dictionary"; the lookup reads the published
version, compiled once per checksum, so editing a table takes effect without a restart.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import Problem
from engine.store.models import Definition

KIND = "dictionary"
Label = dict[str, str]


class DictionaryColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Label
    type: Literal["text", "number", "integer", "boolean", "duration"] = "text"


class DictionaryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, description="What LOOKUP is given, e.g. an option value or a code")
    label: Label
    values: dict[str, Any] = Field(default_factory=dict, description="One value per column")
    note: Label | None = None


class DictionaryDefinition(BaseModel):
    """A lookup table: columns, and entries with a key, a zh/en label and a value per column."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Label
    description: Label | None = None
    source: str | None = Field(default=None, description="Where the entries come from (a standard, a clause)")
    columns: list[DictionaryColumn] = Field(default_factory=list)
    entries: list[DictionaryEntry]

    @model_validator(mode="after")
    def _consistent(self) -> DictionaryDefinition:
        keys = [e.key for e in self.entries]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"duplicate entry keys: {', '.join(duplicates)}")
        columns = {c.key for c in self.columns}
        for entry in self.entries:
            unknown = sorted(set(entry.values) - columns)
            if unknown:
                raise ValueError(f"entry {entry.key!r} has values for unknown columns: {', '.join(unknown)}")
        return self


def check_dictionary(body: Any, file: str | None = None) -> list[Problem]:
    try:
        DictionaryDefinition.model_validate(body)
    except ValidationError as exc:
        return [Problem("dictionary.invalid", {"detail": err["msg"]}, file=file,
                        path=".".join(str(p) for p in err["loc"]) or None) for err in exc.errors()]
    from engine.forms.site_calendar import CALENDAR_DICTIONARY, check_calendar_entries

    return check_calendar_entries(body, file) if body.get("key") == CALENDAR_DICTIONARY else []


_COMPILED: OrderedDict[tuple[str, str], dict[str, dict[str, Any]]] = OrderedDict()
_LOCK = Lock()


class DictionaryLookup:
    """The site's `LookupSource`: entries of published dictionaries by key.

    `LOOKUP(d, key)` gives the whole entry (`key`, `label` in the site's language, and each
    column); `LOOKUP(d, key, "label")` or a column name gives one value. Unknown → null.
    """

    def __init__(self, session: Session, locale: str | None = None) -> None:
        self.session = session
        self.locale = locale
        # One look-up per dictionary for this object's life (one record write, one rule run):
        # a form with ten LOOKUPs asks the database once.
        self._seen: dict[str, dict[str, dict[str, Any]] | None] = {}

    def _table(self, source: str) -> dict[str, dict[str, Any]] | None:
        if source in self._seen:
            return self._seen[source]
        table = self._published(source)
        self._seen[source] = table
        return table

    def _published(self, source: str) -> dict[str, dict[str, Any]] | None:
        # The checksum first: the body (every entry, as JSON) is read and parsed only when this
        # version is not compiled yet.
        published = (Definition.kind == KIND, Definition.key == source, Definition.status == "published")
        row = self.session.execute(
            select(Definition.id, Definition.checksum).where(*published).order_by(Definition.version.desc()).limit(1)
        ).first()
        if row is None:
            return None
        cache_key = (source, row.checksum, self.locale)
        with _LOCK:
            found = _COMPILED.get(cache_key)
        if found is not None:
            return found
        body = self.session.execute(select(Definition.body).where(Definition.id == row.id)).scalar_one()
        definition = DictionaryDefinition.model_validate(body)
        table = {
            e.key: {"key": e.key, "label": i18n.localized(e.label, self.locale), **e.values} for e in definition.entries
        }
        with _LOCK:
            _COMPILED[cache_key] = table
            while len(_COMPILED) > 256:
                _COMPILED.popitem(last=False)
        return table

    def table(self, source: str) -> dict[str, dict[str, Any]] | None:
        """Every entry of a published dictionary by key (None when it is not installed)."""
        return self._table(source)

    def lookup(self, source: str, key: Any, field: str | None = None) -> Any:
        table = self._table(source)
        if table is None or key is None:
            return None
        entry = table.get(str(key))
        if entry is None or field is None:
            return entry
        return entry.get(field)


i18n.register_messages(
    {"dictionary.invalid": {"zh-CN": "字典定义有误：{detail}", "en": "Dictionary definition: {detail}"}}
)
