"""Versioned definitions (forms, flows, rule sets, dashboards): drafts, publishing, history.

A definition is edited as a draft and published as version N; publishing retires the previous
published version but keeps it readable, because records and flow instances pin the version
they were written with. Publishing a body identical to the current version is a no-op, so
installing the same pack twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.store import audit
from engine.store.audit import Actor
from engine.store.base import utcnow
from engine.store.models import Definition


def canonical_json(body: Any) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def checksum(body: Any) -> str:
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


@dataclass(frozen=True)
class Published:
    version: int
    created: bool


class DefinitionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _query(self, kind: str, key: str):
        return select(Definition).where(Definition.kind == kind, Definition.key == key)

    def current(self, kind: str, key: str) -> Definition | None:
        """The published version new work uses."""
        return self.session.execute(
            self._query(kind, key).where(Definition.status == "published").order_by(Definition.version.desc()).limit(1)
        ).scalar_one_or_none()

    def require_current(self, kind: str, key: str) -> Definition:
        found = self.current(kind, key)
        if found is None:
            raise NotFound(what=f"{kind} {key}")
        return found

    def get(self, kind: str, key: str, version: int) -> Definition | None:
        return self.session.execute(self._query(kind, key).where(Definition.version == version)).scalar_one_or_none()

    def require(self, kind: str, key: str, version: int) -> Definition:
        found = self.get(kind, key, version)
        if found is None:
            raise NotFound(what=f"{kind} {key} v{version}")
        return found

    def draft(self, kind: str, key: str) -> Definition | None:
        return self.session.execute(self._query(kind, key).where(Definition.status == "draft")).scalar_one_or_none()

    def latest(self, kind: str, key: str) -> Definition | None:
        """The newest version in any state (what a designer opens)."""
        return self.session.execute(
            self._query(kind, key).order_by(Definition.version.desc()).limit(1)
        ).scalar_one_or_none()

    def versions(self, kind: str, key: str) -> list[Definition]:
        return list(self.session.execute(self._query(kind, key).order_by(Definition.version)).scalars())

    def keys(self, kind: str, *, pack: str | None = None, include_drafts: bool = True) -> list[str]:
        query = select(Definition.key).where(Definition.kind == kind).distinct().order_by(Definition.key)
        if pack is not None:
            query = query.where(Definition.pack == pack)
        if not include_drafts:
            query = query.where(Definition.status == "published")
        return list(self.session.execute(query).scalars())

    def save_draft(self, actor: Actor, kind: str, key: str, body: Any, *, pack: str | None = None,
                   note: str | None = None) -> Definition:
        """Create or replace the draft (the version after the newest one)."""
        row = self.draft(kind, key)
        if row is None:
            newest = self.session.execute(
                select(func.max(Definition.version)).where(Definition.kind == kind, Definition.key == key)
            ).scalar()
            row = Definition(kind=kind, key=key, version=(newest or 0) + 1, status="draft")
            self.session.add(row)
        row.body = body
        row.checksum = checksum(body)
        row.pack = pack if pack is not None else row.pack
        row.note = note
        row.author_id = actor.id
        self.session.flush()
        audit.append(self.session, actor, "definition.draft", kind, f"{key}@{row.version}",
                     {"checksum": row.checksum})
        return row

    def publish(self, actor: Actor, kind: str, key: str, body: Any | None = None, *, pack: str | None = None,
                note: str | None = None) -> Published:
        """Publish the draft (or `body`); identical to the current version → nothing changes."""
        if body is not None:
            current = self.current(kind, key)
            if current is not None and current.checksum == checksum(body):
                stale = self.draft(kind, key)
                if stale is not None and stale.checksum == current.checksum:
                    self.session.delete(stale)
                return Published(current.version, created=False)
            self.save_draft(actor, kind, key, body, pack=pack, note=note)
        row = self.draft(kind, key)
        if row is None:
            raise NotFound(what=f"draft of {kind} {key}")
        current = self.current(kind, key)
        if current is not None and current.checksum == row.checksum:
            self.session.delete(row)
            return Published(current.version, created=False)
        if current is not None:
            current.status = "retired"
        row.status = "published"
        row.published_at = utcnow()
        if note:
            row.note = note
        self.session.flush()
        published_changed(self.session)
        audit.append(self.session, actor, "definition.publish", kind, f"{key}@{row.version}",
                     {"checksum": row.checksum, "previous": current.version if current else None})
        return Published(row.version, created=True)

    def discard_draft(self, actor: Actor, kind: str, key: str) -> None:
        row = self.draft(kind, key)
        if row is not None:
            audit.append(self.session, actor, "definition.discard", kind, f"{key}@{row.version}", {})
            self.session.delete(row)

    def retire(self, actor: Actor, kind: str, key: str) -> None:
        """Stop new work on a definition (uninstall); existing records keep their version."""
        for row in self.versions(kind, key):
            if row.status in ("published", "draft"):
                row.status = "retired"
        published_changed(self.session)
        audit.append(self.session, actor, "definition.retire", kind, key, {})


PUBLISHED_GENERATION = "safeflow_published_generation"


def published_changed(session: Session) -> None:
    """Count a change to what is published in this session: caches of compiled published
    definitions kept for one transaction (the rule book) compare this to know they are stale."""
    session.info[PUBLISHED_GENERATION] = session.info.get(PUBLISHED_GENERATION, 0) + 1


def published_generation(session: Session) -> int:
    return int(session.info.get(PUBLISHED_GENERATION, 0))
