"""The reports engine's tables: share links, per-role default dashboards, scheduled deliveries,
and the incremental rollups that keep dashboards fast as records pile up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import Base, utcnow
from engine.store.types import JSONDoc, UTCDateTime


class ShareLink(Base):
    """A read-only link to a dashboard. It shows what its creator may see (checked again on
    every view, so revoking the creator's rights revokes the link), optionally narrowed to a
    scope and with filter values fixed. Only the token's hash is stored."""

    __tablename__ = "report_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    dashboard: Mapped[str] = mapped_column(String(128), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope_cap: Mapped[str | None] = mapped_column(String(16))
    filters: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleDashboard(Base):
    """The dashboard a role opens by default (数据驾驶舱 for managers, a personal one for
    workers); the lowest `priority` wins when a person has several roles."""

    __tablename__ = "report_role_defaults"

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    dashboard: Mapped[str] = mapped_column(String(128))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportSchedule(Base):
    """A dashboard export e-mailed on a schedule (the weekly safety report). Each run is a
    durable timer; the next one is scheduled when a run finishes."""

    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    dashboard: Mapped[str] = mapped_column(String(128), index=True)
    # pdf | png | xlsx
    format: Mapped[str] = mapped_column(String(8))
    # [{"kind": "user" | "role" | "email", "value": …}]
    recipients: Mapped[list[Any]] = mapped_column(JSONDoc)
    # daily | weekly | monthly
    cadence: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int | None] = mapped_column(Integer)  # weekly: 0 = Monday
    day: Mapped[int | None] = mapped_column(Integer)  # monthly: 1–28
    time: Mapped[str] = mapped_column(String(5), default="08:00")  # local HH:MM
    filters: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rollup(Base):
    """One incremental rollup: a form's records pre-aggregated by month, department and the
    dimension fields some dashboard groups by (see engine.reports.rollups)."""

    __tablename__ = "report_rollups"
    __table_args__ = (UniqueConstraint("form", "signature", name="uq_report_rollup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(128))
    signature: Mapped[str] = mapped_column(String(64))
    # {"dims": [field keys], "sums": [field keys]}
    spec: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The audit head's number the build read in its transaction: record writes numbered above it
    # are not in the rollup yet (engine.events.WRITE_SEQ); None for rollups built before it existed.
    built_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RollupRow(Base):
    """A group of a rollup: records of one local month, department and dimension values."""

    __tablename__ = "report_rollup_rows"
    __table_args__ = (
        UniqueConstraint("rollup_id", "month", "department_id", "k1", "k2", "k3", name="uq_report_rollup_row"),
        Index("ix_report_rollup_rows_month", "rollup_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rollup_id: Mapped[int] = mapped_column(ForeignKey("report_rollups.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # local "YYYY-MM"
    department_id: Mapped[int] = mapped_column(Integer, default=0)  # 0: none
    k1: Mapped[str] = mapped_column(String(200), default="")
    k2: Mapped[str] = mapped_column(String(200), default="")
    k3: Mapped[str] = mapped_column(String(200), default="")
    n: Mapped[int] = mapped_column(Integer, default=0)
    s1: Mapped[float] = mapped_column(Float, default=0.0)
    s2: Mapped[float] = mapped_column(Float, default=0.0)
    s3: Mapped[float] = mapped_column(Float, default=0.0)
    c1: Mapped[int] = mapped_column(Integer, default=0)
    c2: Mapped[int] = mapped_column(Integer, default=0)
    c3: Mapped[int] = mapped_column(Integer, default=0)
