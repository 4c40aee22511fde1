"""What the platform stores for users: versioned definitions, record documents, files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import Base, utcnow
from engine.store.types import JSONDoc, UTCDateTime


class Definition(Base):
    """One version of a form, flow, rule set or dashboard. Records and instances pin a version."""

    __tablename__ = "definitions"
    __table_args__ = (
        UniqueConstraint("kind", "key", "version", name="uq_definition_version"),
        Index("ix_definitions_kind_key_status", "kind", "key", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    # draft | published | retired
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Plain JSON (not JSONB) on PostgreSQL: it keeps the author's key order, so an exported pack
    # is byte-identical to the files it was installed from.
    body: Mapped[Any] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    pack: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Record(Base):
    """A form submission: a JSON document plus the columns every record has."""

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_form_created", "form", "created_at"),
        Index("ix_records_form_owner", "form", "owner_id"),
        Index("ix_records_form_department", "form", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(128))
    form_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="active")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    # Lower-cased text of the record's text fields, for simple search without a JSON scan.
    search_text: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": row_version}


class Counter(Base):
    """Named counters (serial numbers such as HZ-202611-0042), incremented atomically."""

    __tablename__ = "counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class StoredFile(Base):
    """An uploaded file, stored under its content hash; the client's name is display-only."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(255))
    form: Mapped[str | None] = mapped_column(String(128))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
