"""Creating many records at once (Excel imports, rules creating records in bulk).

Each item is validated exactly as a single create is; referenced ids are checked with one query
per kind for the whole batch; valid rows go in with one multi-row INSERT … RETURNING; every
record gets its `record.created` event, and the batch one audit entry naming every id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update

from engine.errors import Problem
from engine.events import RECORD_CREATED, Event, write_meta
from engine.forms.permissions import FieldPermissions
from engine.forms.records import RecordService, search_text
from engine.forms.validation import prepare
from engine.store import audit
from engine.store.access import Access, Principal
from engine.store.audit import Actor
from engine.store.models import Record, StoredFile


@dataclass
class BulkResult:
    ids: dict[int, int] = field(default_factory=dict)  # item index → record id
    problems: dict[int, list[Problem]] = field(default_factory=dict)  # item index → its problems


def create_many(service: RecordService, form: str, items: Sequence[Mapping[str, Any]], *,
                principal: Principal | None = None, access: Access | None = None, actor: Actor | None = None,
                keep_computed: bool = False, all_or_nothing: bool = False, action: str = "record.import",
                insert_rows: bool = True) -> BulkResult:
    """Validate every item; insert the valid ones (none at all if `all_or_nothing` and any item
    is invalid). Problems are reported per item index."""
    caller = service.caller(form, "create", principal, access, actor)
    compiled = service.catalog.current(form)
    perms = FieldPermissions.of(caller.access)
    ectx = service.eval_context()
    result = BulkResult()
    good: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(items):
        prepared = prepare(compiled, item, permissions=perms, value_ctx=service.value_ctx, eval_ctx=ectx,
                           keep_computed=keep_computed)
        problems = prepared.forbidden + prepared.problems
        if problems:
            result.problems[index] = problems
        else:
            good.append((index, prepared.data))
    for index, problems in service.references(compiled, good, caller).items():
        result.problems[index] = problems
    if (all_or_nothing and result.problems) or not insert_rows:
        return result
    good = [(i, data) for i, data in good if i not in result.problems]
    if not good:
        return result
    now = service.clock.now()
    owner = principal.user_id if principal else None
    department = principal.department_id if principal else None
    rows = []
    for _, data in good:
        service.assign_serials(compiled, data)
        rows.append({"form": form, "form_version": compiled.version, "data": data, "status": "active",
                     "owner_id": owner, "department_id": department, "search_text": search_text(compiled, data),
                     "row_version": 1, "created_at": now, "updated_at": now})
    ids = list(service.session.execute(insert(Record).returning(Record.id, sort_by_parameter_order=True),
                                       rows).scalars())
    # The batch's one audit entry first: its number orders the records' events (see write_meta).
    seq = audit.append(service.session, caller.actor, action, "record", f"{form}:{ids[0]}..{ids[-1]}",
                       {"form": form, "version": compiled.version, "count": len(ids), "ids": ids})
    files: dict[int, set[int]] = {}
    for (index, data), record_id in zip(good, ids, strict=True):
        result.ids[index] = record_id
        for item in compiled.definition.value_fields():
            for kind, ref in item.references(data.get(item.key)):
                if kind == "file":
                    files.setdefault(record_id, set()).add(ref)
        service.events.emit(Event(RECORD_CREATED, subject=form, record_id=record_id, data=dict(data),
                                  actor_id=caller.actor.id, at=now, meta=write_meta(seq)))
    for record_id, refs in files.items():
        service.session.execute(update(StoredFile).where(StoredFile.id.in_(refs), StoredFile.record_id.is_(None))
                                .values(record_id=record_id, form=form))
    return result
