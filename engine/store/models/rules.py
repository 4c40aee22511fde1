"""The rule engine's tables: sensor readings, stored firings (explain), dedupe marks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import Base, utcnow
from engine.store.types import JSONDoc, UTCDateTime

# 64-bit ids where a table grows without bound (readings, firings); SQLite only autoincrements
# a plain INTEGER primary key, which is 64-bit there anyway.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class SensorReading(Base):
    """One value of a named metric from one source (a gas-holder pressure gauge, a detector).

    Written in batches by the ingest API; windows such as "the last 3 readings of this source"
    read it through `ix_readings_metric_source_at`; a daily purge keeps `sensor_retention_days`.
    """

    __tablename__ = "sensor_readings"
    __table_args__ = (
        Index("ix_readings_metric_source_at", "metric", "source", "at"),
        Index("ix_readings_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    metric: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleFiring(Base):
    """One evaluation of one rule version against one trigger, kept to answer "why did (or
    didn't) it fire": the value of every sub-condition and each action with its outcome."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        Index("ix_rule_firings_rule_at", "rule", "at"),
        Index("ix_rule_firings_record", "record_id", "rule"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(128))
    # The rule definition (a .rules file, possibly several rules) and its version.
    ruleset: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(128))
    record_id: Mapped[int | None] = mapped_column(Integer)
    # fired | not_matched | deduped | failed
    outcome: Mapped[str] = mapped_column(String(16))
    fired: Mapped[bool] = mapped_column(Boolean, default=False)
    event: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    conditions: Mapped[list[Any] | None] = mapped_column(JSONDoc)
    actions: Mapped[list[Any] | None] = mapped_column(JSONDoc)
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleDedupe(Base):
    """`dedupe by KEY for DURATION`: while `until` is in the future the rule does not act again
    for the same key (one notice per certificate, not one a day)."""

    __tablename__ = "rule_dedupe"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    rule: Mapped[str] = mapped_column(String(128), index=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
