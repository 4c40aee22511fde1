"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from engine.store import json_codec

# Record documents and definition bodies: JSON text on SQLite, JSONB (indexable) on PostgreSQL.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class JSONText(dict[str, Any]):
    """A JSON document with its serialised text: a write that needs the text anyway (a record
    created with its audit entry, which hashes it) binds that text as it is instead of the store
    serialising the document a second time. Bind it once (`engine.forms.records` puts the plain
    dict back after the flush): edits made to it afterwards would not be in the text."""

    __slots__ = ("text",)

    def __init__(self, value: dict[str, Any], text: str) -> None:
        super().__init__(value)
        self.text = text


def dump_json(value: Any) -> str:
    """Every engine's JSON serialiser: the text a JSONText carries, or orjson's text, which reads
    back as `json.dumps`'s would (`engine.store.json_codec`)."""
    if type(value) is JSONText:
        return value.text
    return json_codec.dumps(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend stores.

    SQLite has no time zones and hands back naive values; mixing those with aware ones is the
    classic rule-engine bug (see notes on rule-engine #22), so every value leaving the store is
    aware UTC and every value entering it must be aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
