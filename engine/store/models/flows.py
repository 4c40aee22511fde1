"""Flow instances and their tasks.

The instance row holds the whole state document (tokens, tasks, history) with a row version
for optimistic locking; `flow_tasks` is a projection of its tasks kept in the same transaction,
so the inbox ("to do", "done", "cc'd to me") is an indexed query, not a scan of documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import Base, utcnow
from engine.store.types import JSONDoc, UTCDateTime


class StoredInstance(Base):
    __tablename__ = "flow_instances"
    __table_args__ = (
        Index("ix_flow_instances_flow", "flow_key", "flow_version", "status"),
        Index("ix_flow_instances_initiator", "initiator_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_key: Mapped[str] = mapped_column(String(128))
    flow_version: Mapped[int] = mapped_column(Integer)
    # running | completed | rejected | cancelled | error
    status: Mapped[str] = mapped_column(String(16))
    form: Mapped[str | None] = mapped_column(String(128))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"), index=True)
    initiator_id: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    row_version: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoredTask(Base):
    __tablename__ = "flow_tasks"
    __table_args__ = (
        Index("ix_flow_tasks_inbox", "assignee_id", "status", "created_at"),
        Index("ix_flow_tasks_actor", "actor_id", "completed_at"),
    )

    # "<instance id>.<n>", as the engine numbers them.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instances.id", ondelete="CASCADE"), index=True)
    flow_key: Mapped[str] = mapped_column(String(128))
    record_id: Mapped[int | None] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(64))
    # fill | approve | cc
    kind: Mapped[str] = mapped_column(String(16))
    # open | waiting | done | withdrawn | cc
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
