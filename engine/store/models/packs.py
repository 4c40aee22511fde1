"""Installed template packs: what was installed (the merge base for upgrades) and open conflicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import Base, utcnow
from engine.store.types import UTCDateTime


class InstalledPack(Base):
    __tablename__ = "packs"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    manifest_text: Mapped[str] = mapped_column(Text)
    # {"form/hazard": body, ...}: the pack's definitions exactly as installed. The base of the
    # three-way merge at the next upgrade, so a site's own edits are recognised as such.
    base: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {"README.md": "...", "demo/hazard.yaml": "..."}: files that are not definitions.
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    upgraded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    installed_by: Mapped[int | None] = mapped_column(Integer)


class PackConflict(Base):
    """A spot where the site and a new pack version both changed the same thing differently.

    The site's value stays in place (nothing is lost); the admin takes either side later.
    """

    __tablename__ = "pack_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack: Mapped[str] = mapped_column(ForeignKey("packs.key", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    # JSON pointer into the definition body ("" = the whole definition)
    path: Mapped[str] = mapped_column(String(512))
    base: Mapped[Any] = mapped_column(JSON, nullable=True)
    mine: Mapped[Any] = mapped_column(JSON, nullable=True)
    theirs: Mapped[Any] = mapped_column(JSON, nullable=True)
    from_version: Mapped[str] = mapped_column(String(32))
    to_version: Mapped[str] = mapped_column(String(32))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
