"""The append-only, hash-chained audit log.

Each entry's hash covers its own content and the previous entry's hash; ids come from the head
row bumped under a row lock, so entries are numbered 1..N without gaps and the head remembers N
and the last hash.
An edited row breaks its own hash, a removed row breaks the chain or the count, and `verify`
names the first entry where the story stops adding up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from engine import i18n
from engine.store import json_codec
from engine.store.base import utcnow
from engine.store.models import AuditEntry, AuditHead
from engine.store.prepared import Statements, raw_cursor

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did it, as the audit log records it (a user, an API key's user, or the system)."""

    id: int | None
    name: str

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(id=None, name=name)


# `json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)`,
# through orjson: a record's data on create is most of an entry's cost.
canonical = json_codec.canonical


def canonical_with(value: dict[str, Any], key: str, text: str) -> str:
    """`canonical({**value, key: x})` given `text`, the canonical JSON of x: a record's data,
    serialised once for its row, goes into its audit entry's diff without a second pass."""
    items = sorted({**value, key: None}.items())
    return "{" + ",".join(f"{canonical(k)}:{text if k == key else canonical(v)}" for k, v in items) + "}"


def entry_hash(entry_id: int, at: datetime, actor_id: int | None, actor: str, action: str,
               object_type: str, object_id: str, diff: Any, prev_hash: str) -> str:
    return _digest(entry_id, at, actor_id, actor, action, object_type, object_id, canonical(diff), prev_hash)


def _digest(entry_id: int, at: datetime, actor_id: int | None, actor: str, action: str, object_type: str,
            object_id: str, diff_text: str, prev_hash: str) -> str:
    """SHA-256 of the previous hash and the canonical JSON of the entry, with the diff given as
    its canonical text: the diff (a whole record on create) is serialised once per append. The
    keys sort as action, actor, actor_id, at, diff, id, object_id, object_type, so the text is
    exactly `canonical` of the whole entry (a test keeps it so)."""
    before = canonical({"action": action, "actor": actor, "actor_id": actor_id, "at": at.isoformat()})
    after = canonical({"id": entry_id, "object_id": object_id, "object_type": object_type})
    body = f'{before[:-1]},"diff":{diff_text},{after[1:]}'
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _hash_of(entry: Any) -> str:
    return entry_hash(entry.id, entry.at, entry.actor_id, entry.actor, entry.action, entry.object_type,
                      entry.object_id, entry.diff, entry.prev_hash)


def _sound(entry: Any) -> bool:
    """The entry's hash matches its content, encoded as now or, for an entry written before the
    encoder changed, as then (the two differ on a stored diff only if it holds NaN, ±Infinity,
    -0.0 or a float from 1e16 up, which only SQLite keeps as written)."""
    if _hash_of(entry) == entry.hash:
        return True
    legacy = json_codec.legacy_canonical(entry.diff)
    if legacy == canonical(entry.diff):
        return False
    return _digest(entry.id, entry.at, entry.actor_id, entry.actor, entry.action, entry.object_type,
                   entry.object_id, legacy, entry.prev_hash) == entry.hash


_HEAD = AuditHead.__table__
_LOG = AuditEntry.__table__
# Three Core statements per entry (no ORM flush): every engine writes one per change, so this is
# on the hot path of record submits and task completions.
_ADVANCE = _HEAD.update().where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.seq, _HEAD.c.hash)
_INSERT = _LOG.insert()
_SET_HASH = _HEAD.update().where(_HEAD.c.id == 1)
# The diff goes in as the canonical text its hash covers, not serialised a second time (a
# record's whole data on create): JSON text on SQLite, cast to JSONB on PostgreSQL.
# Every column bound explicitly, so the statement compiles whole without its parameters (the
# prepared path in append_raw compiles it once).
_COLUMNS = {c.name: bindparam(c.name, type_=c.type) for c in _LOG.columns if c.name != "diff"}
_INSERT_TEXT = {
    "sqlite": _LOG.insert().values(**_COLUMNS, diff=bindparam("diff_text", type_=Text)),
    "postgresql": _LOG.insert().values(**_COLUMNS, diff=cast(bindparam("diff_text", type_=Text), JSONB)),
}


def append(session: Session, actor: Actor, action: str, object_type: str, object_id: Any,
           diff: Any = None, *, diff_text: str | None = None) -> int:
    """Record a write in the caller's transaction: if the write rolls back, so does its entry.
    The UPDATE of the head takes its row lock, so concurrent appenders queue and the chain stays
    linear. Returns the entry's number.

    The three statements run on the driver's cursor of the session's connection (same
    transaction): through `session.execute` they cost several times SQLite's own work, and every
    record write pays for them. `diff_text`: `canonical(diff)` when the caller has it already
    (see `canonical_with`)."""
    cursor, dialect = raw_cursor(session)
    try:
        number = append_raw(cursor, dialect, actor, action, object_type, object_id, diff, diff_text=diff_text)
    finally:
        cursor.close()
    if number is not None:
        return number
    advanced = session.execute(_ADVANCE).first()
    if advanced is None:  # an emptied table (tests truncate): start the chain again
        session.execute(_HEAD.insert().values(id=1, seq=0, hash=GENESIS))
        advanced = session.execute(_ADVANCE).one()
    row = _sealed(advanced[0], advanced[1], actor, action, object_type, object_id, diff, diff_text)
    as_text = _INSERT_TEXT.get(session.get_bind().dialect.name)
    if as_text is not None:
        session.execute(as_text, row)
    else:  # another database: its JSON type serialises what reads back as the text hashed
        session.execute(_INSERT, _with_diff(row))
    session.execute(_SET_HASH, {"hash": row["hash"]})
    return int(row["id"])


def _sealed(entry_id: int, prev_hash: str, actor: Actor, action: str, object_type: str, object_id: Any,
            diff: Any, diff_text: str | None = None) -> dict[str, Any]:
    """The row of entry `entry_id`, chained to `prev_hash`, its diff as the canonical text hashed."""
    at = utcnow()
    if diff_text is None:
        diff_text = canonical(diff if diff is not None else {})
    digest = _digest(entry_id, at, actor.id, actor.name, action, object_type, str(object_id), diff_text,
                     prev_hash)
    return {"id": entry_id, "at": at, "actor_id": actor.id, "actor": actor.name, "action": action,
            "object_type": object_type, "object_id": str(object_id), "prev_hash": prev_hash, "hash": digest,
            "diff_text": diff_text}


def _with_diff(row: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in row.items() if k != "diff_text"}
    values["diff"] = json.loads(row["diff_text"])
    return values


# The same three statements for callers already on the DBAPI cursor (engine.store.prepared): the
# flow engine's task completions, where SQLAlchemy's per-execute cost dominated the entry's.
_PREPARED = Statements({"advance": _ADVANCE,
                        "set_hash": _HEAD.update().where(_HEAD.c.id == 1).values(hash=bindparam("hash"))})
_PREPARED_INSERT = Statements({"insert": _INSERT})
_PREPARED_INSERT_TEXT = {name: Statements({"insert": statement}) for name, statement in _INSERT_TEXT.items()}


def append_raw(cursor: Any, dialect: Dialect, actor: Actor, action: str, object_type: str, object_id: Any,
               diff: Any = None, *, diff_text: str | None = None) -> int | None:
    """`append` on a DBAPI cursor of the session's connection; None when there is no head row
    yet (the caller then uses `append`, which starts the chain)."""
    prepared = _PREPARED[dialect]
    advanced = prepared["advance"].row(cursor, {})
    if advanced is None:
        return None
    row = _sealed(advanced[0], advanced[1], actor, action, object_type, object_id, diff, diff_text)
    as_text = _PREPARED_INSERT_TEXT.get(dialect.name)
    if as_text is not None:
        as_text[dialect]["insert"].run(cursor, row)
    else:
        _PREPARED_INSERT[dialect]["insert"].run(cursor, _with_diff(row))
    prepared["set_hash"].run(cursor, {"hash": row["hash"]})
    return int(row["id"])


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_id: int | None = None
    # audit.missing | audit.link | audit.altered | audit.truncated
    reason: str | None = None
    removed: int = 0

    def message(self, locale: str | None = None) -> str:
        if self.ok:
            return i18n.message("audit.ok", locale, count=self.checked)
        return i18n.message(self.reason or "audit.altered", locale, id=self.bad_id, removed=self.removed)


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute the chain from the first entry; stop at the first inconsistency."""
    expected_prev = GENESIS
    expected_id = 1
    checked = 0
    for entry in _stream(session, batch):
        if entry.id != expected_id:
            return VerifyResult(False, checked, expected_id, "audit.missing")
        if entry.prev_hash != expected_prev:
            return VerifyResult(False, checked, entry.id, "audit.link")
        if not _sound(entry):
            return VerifyResult(False, checked, entry.id, "audit.altered")
        expected_prev = entry.hash
        expected_id += 1
        checked += 1
    last = session.execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar_one_or_none() or 0
    if last != checked:
        return VerifyResult(False, checked, checked + 1, "audit.truncated", removed=last - checked)
    return VerifyResult(True, checked)


def _stream(session: Session, batch: int) -> Iterator[Any]:
    """Plain rows, batch by batch: verifying a million entries must not fill the session."""
    table = AuditEntry.__table__
    after = 0
    while True:
        rows = session.execute(select(table).where(table.c.id > after).order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def query(session: Session, *, actor_id: int | None = None, actor: str | None = None, object_type: str | None = None,
          object_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
          batch: int = 2000) -> Iterator[Any]:
    """Entries matching the filters, oldest first, streamed in batches."""
    table = AuditEntry.__table__
    conditions = []
    if actor_id is not None:
        conditions.append(table.c.actor_id == actor_id)
    if actor:
        conditions.append(table.c.actor == actor)
    if object_type:
        conditions.append(table.c.object_type == object_type)
    if object_id is not None:
        conditions.append(table.c.object_id == str(object_id))
    if since is not None:
        conditions.append(table.c.at >= since)
    if until is not None:
        conditions.append(table.c.at < until)
    after = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.id > after, *conditions).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


i18n.register_messages(
    {
        "audit.ok": {"zh-CN": "审计链完整：已校验 {count} 条", "en": "Audit chain intact: {count} entries checked"},
        "audit.missing": {"zh-CN": "审计链被破坏：第 {id} 条记录被删除",
                          "en": "Audit chain broken: entry {id} was removed"},
        "audit.link": {"zh-CN": "审计链被破坏：第 {id} 条的前一哈希与上一条不符（之前的记录被删除或改动）",
                       "en": "Audit chain broken at entry {id}: its previous-hash does not match the entry before"},
        "audit.altered": {"zh-CN": "审计链被破坏：第 {id} 条内容与其哈希不符（记录被篡改）",
                          "en": "Audit chain broken at entry {id}: its content does not match its hash (altered)"},
        "audit.truncated": {"zh-CN": "审计链被破坏：从第 {id} 条起末尾 {removed} 条被删除",
                            "en": "Audit chain broken: {removed} entries from entry {id} on were removed"},
    }
)
