"""The record service: create, read, update, delete, restore and list records of a form.

Usable as a library by the API, flows (fill/approve nodes pass their node's field permissions)
and rules (a system actor: no principal). Every write validates against the form version the
record pins, recomputes formulas on the server, checks referenced users/departments/records/
files exist, writes its audit entry and emits its event in the caller's transaction — if the
transaction rolls back, neither the audit entry nor the event survives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import i18n
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.events import (
    RECORD_CREATED,
    RECORD_DELETED,
    RECORD_RESTORED,
    RECORD_UPDATED,
    Event,
    EventSink,
    write_meta,
)
from engine.expr import EvalContext
from engine.forms.catalog import FormCatalog
from engine.forms.compiled import CompiledForm
from engine.forms.dictionary import DictionaryLookup
from engine.forms.fieldtypes import FieldBase, ValueContext
from engine.forms.fieldtypes.media import _Media
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.files import file_rows, kind_of
from engine.forms.listing import ListQuery, query_page, relation_problems
from engine.forms.permissions import FieldPermissions
from engine.forms.site_calendar import calendar_loader
from engine.forms.validation import Prepared, prepare
from engine.services import Clock, SystemClock
from engine.store import audit
from engine.store.access import Access, Principal, authorize, scope_clause
from engine.store.audit import Actor
from engine.store.counters import next_value
from engine.store.models import Record, StoredFile
from engine.store.records import existing_ids, insert_record, update_record
from engine.store.types import JSONText

SYSTEM = Actor.system("system")


@dataclass
class RecordView:
    """A record as a caller may see it: fields hidden from them are left out."""

    id: int
    form: str
    form_version: int
    data: dict[str, Any]
    status: str
    owner_id: int | None
    department_id: int | None
    row_version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    changed: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, row: Record, hidden: frozenset[str] = frozenset(), changed: Sequence[str] = ()) -> RecordView:
        data = {k: v for k, v in (row.data or {}).items() if k not in hidden}
        return cls(id=row.id, form=row.form, form_version=row.form_version, data=data, status=row.status,
                   owner_id=row.owner_id, department_id=row.department_id, row_version=row.row_version,
                   created_at=row.created_at, updated_at=row.updated_at, deleted_at=row.deleted_at,
                   changed=list(changed))


@dataclass(frozen=True)
class Caller:
    """Who is acting and with what rights: a principal with their Access for the action, or
    the system (rules, imports run by an admin's CLI) with full access."""

    principal: Principal | None
    access: Access | None
    actor: Actor

    @property
    def hidden(self) -> frozenset[str]:
        return self.access.hidden if self.access else frozenset()


class RecordService:
    def __init__(self, session: Session, events: EventSink, *, tz: ZoneInfo | str = "Asia/Shanghai",
                 clock: Clock | None = None, catalog: FormCatalog | None = None,
                 value_ctx: ValueContext | None = None) -> None:
        self.session = session
        self.events = events
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.clock = clock or SystemClock()
        self.catalog = catalog or FormCatalog(session)
        self.value_ctx = value_ctx or ValueContext(tz=self.tz)

    # --- who --------------------------------------------------------------------------------

    def caller(self, form: str, action: str, principal: Principal | None, access: Access | None = None,
               actor: Actor | None = None) -> Caller:
        if principal is None:
            return Caller(None, access, actor or SYSTEM)
        if access is None:
            access = authorize(self.session, principal, "form", form, action)
        return Caller(principal, access, actor or principal.actor)

    def eval_context(self) -> EvalContext:
        return EvalContext(now=self.clock.now(), tz=self.tz, lookup=DictionaryLookup(self.session),
                           calendar_loader=calendar_loader(self.session, self.tz))

    def _row(self, form: str, record_id: int, caller: Caller, *, deleted: bool | None = False,
             lock: bool = False) -> Record:
        query = select(Record).where(Record.id == record_id, Record.form == form)
        if deleted is not None:
            query = query.where(Record.deleted_at.is_not(None) if deleted else Record.deleted_at.is_(None))
        if caller.principal is not None and caller.access is not None:
            query = query.where(scope_clause(self.session, caller.principal, caller.access.scope, Record.owner_id,
                                             Record.department_id))
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).scalar_one_or_none()
        if row is None:
            raise NotFound(what=f"{form} #{record_id}")
        return row

    # --- writes -----------------------------------------------------------------------------

    def create(self, form: str, data: Mapping[str, Any], *, principal: Principal | None = None,
               access: Access | None = None, node_permissions: FieldPermissions | None = None,
               owner_id: int | None = None, department_id: int | None = None, actor: Actor | None = None,
               keep_computed: bool = False, emit: bool = True, audit_entry: bool = True) -> RecordView:
        caller = self.caller(form, "create", principal, access, actor)
        compiled = self.catalog.current(form)
        perms = FieldPermissions.of(caller.access, node_permissions)
        incoming = self._defaults_for_people(compiled, data, caller)
        ectx = self.eval_context()
        prepared = prepare(compiled, incoming, permissions=perms, value_ctx=self.value_ctx, eval_ctx=ectx,
                           keep_computed=keep_computed)
        self._refuse(prepared, compiled, caller, None, ectx)
        self.assign_serials(compiled, prepared.data)
        now = self.clock.now()
        # With an audit entry the data is serialised once: the row stores the canonical text
        # the entry's diff embeds and its hash covers.
        text = audit.canonical(prepared.data) if audit_entry else None
        row = insert_record(self.session, Record(
            form=form, form_version=compiled.version, data=prepared.data, status="active",
            owner_id=owner_id if owner_id is not None else (principal.user_id if principal else None),
            department_id=department_id if department_id is not None else (
                principal.department_id if principal else None),
            search_text=search_text(compiled, prepared.data), created_at=now, updated_at=now, deleted_at=None),
            data=None if text is None else JSONText(prepared.data, text))
        seq = None
        if text is not None:
            head = {"form": form, "version": compiled.version}
            seq = audit.append(self.session, caller.actor, "record.create", "record", row.id,
                               {**head, "data": prepared.data}, diff_text=audit.canonical_with(head, "data", text))
        self._attach_files(compiled, row)
        if emit:
            self.events.emit(Event(RECORD_CREATED, subject=form, record_id=row.id, data=dict(prepared.data),
                                   actor_id=caller.actor.id, at=now, meta=write_meta(seq)))
        return RecordView.of(row, caller.hidden)

    def update(self, form: str, record_id: int, patch: Mapping[str, Any], *, row_version: int | None = None,
               principal: Principal | None = None, access: Access | None = None,
               node_permissions: FieldPermissions | None = None, actor: Actor | None = None) -> RecordView:
        caller = self.caller(form, "update", principal, access, actor)
        row = self._row(form, record_id, caller)
        if row_version is not None and row.row_version != row_version:
            raise Conflict("record.stale", current=row.row_version, given=row_version)
        compiled = self.catalog.version(form, row.form_version)
        before = dict(row.data or {})
        perms = FieldPermissions.of(caller.access, node_permissions)
        ectx = self.eval_context()
        prepared = prepare(compiled, patch, before=before, permissions=perms, value_ctx=self.value_ctx,
                           eval_ctx=ectx)
        self._refuse(prepared, compiled, caller, row.id, ectx)
        if not prepared.changed:
            return RecordView.of(row, caller.hidden)
        now = self.clock.now()
        self._write(row, data=prepared.data, search_text=search_text(compiled, prepared.data), updated_at=now)
        self._attach_files(compiled, row)
        diff = {k: [before.get(k), prepared.data.get(k)] for k in prepared.changed}
        seq = audit.append(self.session, caller.actor, "record.update", "record", row.id,
                           {"form": form, "changed": diff})
        self.events.emit(Event(RECORD_UPDATED, subject=form, record_id=row.id, data=dict(prepared.data),
                               changed=tuple(prepared.changed),
                               before={k: before.get(k) for k in prepared.changed},
                               actor_id=caller.actor.id, at=now, meta=write_meta(seq)))
        return RecordView.of(row, caller.hidden, prepared.changed)

    def delete(self, form: str, record_id: int, *, row_version: int | None = None,
               principal: Principal | None = None, access: Access | None = None,
               actor: Actor | None = None) -> RecordView:
        """Soft delete: the record leaves lists and reports but can be restored."""
        caller = self.caller(form, "delete", principal, access, actor)
        row = self._row(form, record_id, caller)
        if row_version is not None and row.row_version != row_version:
            raise Conflict("record.stale", current=row.row_version, given=row_version)
        now = self.clock.now()
        self._write(row, deleted_at=now, updated_at=now)
        seq = audit.append(self.session, caller.actor, "record.delete", "record", row.id, {"form": form})
        self.events.emit(Event(RECORD_DELETED, subject=form, record_id=row.id, data=dict(row.data or {}),
                               actor_id=caller.actor.id, at=now, meta=write_meta(seq)))
        return RecordView.of(row, caller.hidden)

    def restore(self, form: str, record_id: int, *, principal: Principal | None = None,
                access: Access | None = None, actor: Actor | None = None) -> RecordView:
        caller = self.caller(form, "delete", principal, access, actor)
        row = self._row(form, record_id, caller, deleted=True)
        now = self.clock.now()
        self._write(row, deleted_at=None, updated_at=now)
        seq = audit.append(self.session, caller.actor, "record.restore", "record", row.id, {"form": form})
        self.events.emit(Event(RECORD_RESTORED, subject=form, record_id=row.id, data=dict(row.data or {}),
                               actor_id=caller.actor.id, at=now, meta=write_meta(seq)))
        return RecordView.of(row, caller.hidden)

    # --- reads ------------------------------------------------------------------------------

    def get(self, form: str, record_id: int, *, principal: Principal | None = None, access: Access | None = None,
            deleted: bool | None = False) -> RecordView:
        caller = self.caller(form, "read", principal, access)
        return RecordView.of(self._row(form, record_id, caller, deleted=deleted), caller.hidden)

    def list(self, form: str, query: ListQuery | None = None, *, principal: Principal | None = None,
             access: Access | None = None) -> tuple[list[RecordView], str | None]:
        """A page of records (filter, sort, search, keyset cursor) within the caller's scope;
        returns the records and the cursor of the next page (None on the last)."""
        caller = self.caller(form, "read", principal, access)
        compiled = self.catalog.current(form)
        scope = caller.access.scope if caller.access else None
        rows, cursor = query_page(self.session, compiled, query or ListQuery(), principal=principal, scope=scope,
                                  ctx=self.eval_context())
        return [RecordView.of(row, caller.hidden) for row in rows], cursor

    def preview(self, form: str, data: Mapping[str, Any], *, record_id: int | None = None,
                principal: Principal | None = None, access: Access | None = None) -> Prepared:
        """What the form would do with `data` (visible/required/read-only fields, computed
        values, problems) without writing anything: the designer preview and the runtime UI."""
        caller = self.caller(form, "update" if record_id else "create", principal, access)
        if record_id is not None:
            row = self._row(form, record_id, caller)
            compiled = self.catalog.version(form, row.form_version)
            before: dict[str, Any] | None = dict(row.data or {})
        else:
            compiled, before = self.catalog.current(form), None
        perms = FieldPermissions.of(caller.access)
        return prepare(compiled, data, before=before, permissions=perms, value_ctx=self.value_ctx,
                       eval_ctx=self.eval_context())

    # --- helpers ----------------------------------------------------------------------------

    def _write(self, row: Record, **changes: Any) -> None:
        """Write the changed columns if the row is still the version read, else 409."""
        given = row.row_version
        try:
            written = update_record(self.session, row, **changes)
        except StaleDataError:  # the flush of other pending changes to this row found it moved
            written = False
        if not written:
            current = self.session.execute(select(Record.row_version).where(Record.id == row.id)).scalar()
            raise Conflict("record.stale", current=current if current is not None else "?", given=given)

    def _defaults_for_people(self, compiled: CompiledForm, data: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
        out = dict(data) if isinstance(data, Mapping) else data
        if caller.principal is None or not isinstance(out, dict):
            return out
        for item in compiled.definition.value_fields():
            if getattr(item, "default_current", False) and out.get(item.key) is None:
                value = caller.principal.user_id if item.type == "user" else caller.principal.department_id
                if value is not None and not FieldPermissions.of(caller.access).locks(item.key):
                    out[item.key] = value
        return out

    def _refuse(self, prepared: Prepared, compiled: CompiledForm, caller: Caller, record_id: int | None,
                ctx: EvalContext) -> None:
        if prepared.forbidden:
            raise Forbidden("record.fields_locked", problems=prepared.forbidden)
        problems = list(prepared.problems)
        problems += self._reference_problems(compiled, prepared.data, caller, record_id)
        if not problems:
            problems += relation_problems(self.session, compiled, self.catalog.current, prepared.data, ctx)
        if problems:
            raise InvalidInput("record.invalid", problems=problems)

    def _reference_problems(self, compiled: CompiledForm, data: dict[str, Any], caller: Caller,
                            record_id: int | None) -> list[Problem]:
        return self.references(compiled, [(0, data)], caller, record_id).get(0, [])

    def references(self, compiled: CompiledForm, items: Sequence[tuple[int, dict[str, Any]]], caller: Caller,
                    record_id: int | None = None) -> dict[int, list[Problem]]:
        """Problems of referenced users, departments, records and files, per item, with one
        query per kind for all items together."""
        wanted: list[tuple[int, str, str, int, FieldBase]] = []
        fields = compiled.definition.referring_fields
        for index, data in items:
            for item in fields:
                if isinstance(item, SubtableField):
                    for r, row in enumerate(data.get(item.key) or ()):
                        for column in item.value_fields():
                            for kind, ref in column.references(row.get(column.key)):
                                wanted.append((index, f"{item.key}[{r}].{column.key}", kind, ref, column))
                else:
                    for kind, ref in item.references(data.get(item.key)):
                        wanted.append((index, item.key, kind, ref, item))
        if not wanted:
            return {}
        by_kind: dict[str, set[int]] = {}
        for _, _, kind, ref, _ in wanted:
            by_kind.setdefault(kind, set()).add(ref)
        found = {kind: existing_ids(self.session, kind, ids) for kind, ids in by_kind.items() if kind != "file"}
        files = file_rows(self.session, by_kind.get("file", ()))
        out: dict[int, list[Problem]] = {}
        for index, path, kind, ref, item in wanted:
            if kind == "file":
                problems = self._file_problem(path, ref, files.get(ref), item, caller, record_id)
            elif ref not in found.get(kind, set()):
                label = i18n.both("record.kind." + kind.split(":")[0])
                problems = [Problem("field.missing_ref", {"kind": label, "id": ref}, path=path)]
            else:
                continue
            if problems:
                out.setdefault(index, []).extend(problems)
        return out

    def _file_problem(self, path: str, ref: int, row: StoredFile | None, item: FieldBase, caller: Caller,
                      record_id: int | None) -> list[Problem]:
        if row is None:
            return [Problem("field.file_missing", {"id": ref}, path=path)]
        if row.record_id is not None and row.record_id != record_id:
            return [Problem("field.file_taken", {"id": ref}, path=path)]
        if row.record_id is None and caller.principal is not None and not caller.principal.is_admin \
                and row.created_by != caller.principal.user_id:
            return [Problem("field.file_taken", {"id": ref}, path=path)]
        if isinstance(item, _Media):
            kind = kind_of(row)
            if kind not in item.accepted():
                return [Problem("field.file_kind", {"id": ref, "kind": kind, "accept": ", ".join(item.accepted())},
                                path=path)]
            if item.max_size_mb is not None and row.size > item.max_size_mb * 1048576:
                return [Problem("field.file_size", {"id": ref, "limit": item.max_size_mb}, path=path)]
        return []

    def _attach_files(self, compiled: CompiledForm, row: Record) -> None:
        ids = {ref for item in compiled.definition.referring_fields
               for kind, ref in item.references(row.data.get(item.key)) if kind == "file"}
        if ids:
            self.session.execute(update(StoredFile).where(StoredFile.id.in_(ids), StoredFile.record_id.is_(None))
                                 .values(record_id=row.id, form=row.form))

    def assign_serials(self, compiled: CompiledForm, data: dict[str, Any]) -> None:
        serials = compiled.definition.serials()
        if not serials:
            return
        local = self.clock.now().astimezone(self.tz)
        for item in serials:
            if data.get(item.key):
                continue  # an import keeping historical numbers
            period = item.period(local)
            seq = next_value(self.session, f"serial:{compiled.key}:{item.key}:{period}")
            data[item.key] = item.render(local, seq)


def search_text(compiled: CompiledForm, data: Mapping[str, Any]) -> str | None:
    parts = []
    for key, search in compiled.definition.searchers:
        text = search(data.get(key))
        if text:
            parts.append(text)
    return " ".join(parts).lower()[:20000] or None


i18n.register_messages(
    {
        "record.stale": {"zh-CN": "记录已被他人修改（当前版本 {current}，提交的是 {given}），请刷新后重试",
                         "en": "Someone changed this record meanwhile (now version {current}, you sent {given}); "
                               "reload and try again"},
        "record.kind.user": {"zh-CN": "用户", "en": "user"},
        "record.kind.department": {"zh-CN": "部门", "en": "department"},
        "record.kind.record": {"zh-CN": "记录", "en": "record"},
        "field.file_taken": {"zh-CN": "文件 #{id} 属于其他记录或其他人",
                             "en": "File #{id} belongs to another record or person"},
    }
)
