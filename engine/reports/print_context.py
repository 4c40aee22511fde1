"""What a print template sees: one record as plain data — its fields' display values (people and
departments by name, options by label), its signatures and photos as data: URLs, and the
approval trail of the flows it went through (who decided what, when, with which comment).

Only plain dicts, lists and strings go in, so the sandbox has nothing to reach into; fields
hidden from the person printing are left out, as they are from their record view.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n
from engine.forms.fieldtypes import FieldBase
from engine.forms.fieldtypes.subtable import SubtableField
from engine.forms.files import CONTENT_TYPES, file_rows, kind_of, open_blob
from engine.forms.model import FormDefinition
from engine.store.definitions import DefinitionRepository
from engine.store.models import Department, Record, StoredInstance, User

MAX_IMAGES = 9
_DECISIONS = {"approve": ("同意", "Approved"), "reject": ("驳回", "Rejected"), "submit": ("提交", "Submitted"),
              "transfer": ("转办", "Transferred")}


def _names(session: Session, model: Any, ids: Iterable[int]) -> dict[int, str]:
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    return {row[0]: row[1] for row in session.execute(select(model.id, model.name).where(model.id.in_(wanted)))}


def _data_urls(session: Session, files_dir: Path, ids: Iterable[int]) -> dict[int, str]:
    out = {}
    for file_id, row in file_rows(session, ids).items():
        kind = kind_of(row)
        if kind in ("png", "jpeg", "webp", "gif"):
            data = base64.b64encode(open_blob(files_dir, row).read_bytes()).decode()
            out[file_id] = f"data:{CONTENT_TYPES[kind]};base64,{data}"
    return out


def _local(value: Any, tz: ZoneInfo) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def approval_trail(session: Session, record_id: int, tz: ZoneInfo, locale: str,
                   users: dict[int, str]) -> list[dict[str, Any]]:
    """Decided tasks of every flow instance over the record, oldest first."""
    rows = session.execute(select(StoredInstance.flow_key, StoredInstance.flow_version, StoredInstance.state)
                           .where(StoredInstance.record_id == record_id).order_by(StoredInstance.id)).all()
    repo = DefinitionRepository(session)
    trail: list[dict[str, Any]] = []
    for flow_key, version, state in rows:
        body = getattr(repo.get("flow", flow_key, version), "body", None) or {}
        names = {str(n.get("id")): n.get("name") for n in body.get("nodes", []) if isinstance(n, Mapping)}
        for task in (state or {}).get("tasks", []):
            if task.get("status") != "done" or not task.get("decision"):
                continue
            actor = task.get("actor") or task.get("assignee")
            zh, en = _DECISIONS.get(task["decision"], (task["decision"], task["decision"]))
            node_name = names.get(task.get("node"))
            trail.append({"flow": flow_key, "node": task.get("node"),
                          "step": i18n.localized(node_name, locale) if isinstance(node_name, Mapping)
                          else str(task.get("node")),
                          "decision": task["decision"], "decision_label": zh if locale == "zh-CN" else en,
                          "actor_id": actor, "_actor": actor, "comment": task.get("comment") or "",
                          "at": _local(task.get("completed_at"), tz), "_sort": task.get("completed_at") or ""})
    users.update(_names(session, User, [t["_actor"] for t in trail if t["_actor"] not in users]))
    trail.sort(key=lambda t: t["_sort"])
    for t in trail:
        t["actor"] = users.get(t.pop("_actor"), "")
        t.pop("_sort")
    return trail


def print_context(session: Session, definition: FormDefinition, record: Any, *, files_dir: Path, now: datetime,
                  tz: ZoneInfo, locale: str, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The template context for `record` (a RecordView: id, data, owner_id, department_id …)."""
    fields = [f for f in definition.value_fields() if f.key not in hidden]
    data = {k: v for k, v in (record.data or {}).items() if k not in hidden}
    user_ids = {record.owner_id} | set(_refs(fields, data, "user"))
    dept_ids = {record.department_id} | set(_refs(fields, data, "department"))
    users = _names(session, User, user_ids)  # type: ignore[arg-type]
    departments = _names(session, Department, dept_ids)  # type: ignore[arg-type]
    names = Names(users, departments, _related(session, fields, data), tz)
    media = [f for f in fields if f.type in ("signature", "image")]
    file_ids = [i for f in media for i in _ids(data.get(f.key))]
    urls = _data_urls(session, files_dir, file_ids)
    values: dict[str, Any] = {}
    listed = []
    for f in fields:
        value = data.get(f.key)
        shown = _display(f, value, locale, names)
        values[f.key] = shown
        if f.type not in ("signature", "image", "file"):
            listed.append({"key": f.key, "label": f.title(locale), "value": shown, "type": f.type})
    return {
        "record": {"id": record.id, "created_at": _local(record.created_at, tz), "status": record.status,
                   "owner": users.get(record.owner_id, ""), "department": departments.get(record.department_id, ""),
                   "form_version": record.form_version},
        "form": {"key": definition.key, "title": definition.label(locale)},
        "fields": listed,
        "values": values,
        "raw": data,
        "signatures": {f.key: urls.get(next(iter(_ids(data.get(f.key))), 0), "") for f in media
                       if f.type == "signature"},
        "images": {f.key: [urls[i] for i in _ids(data.get(f.key))[:MAX_IMAGES] if i in urls] for f in media
                   if f.type == "image"},
        "approvals": approval_trail(session, record.id, tz, locale, users),
        "now": _local(now, tz),
        "locale": locale,
        "label": lambda text: i18n.localized(text, locale) if isinstance(text, Mapping) else str(text or ""),
    }


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int)]


@dataclass(frozen=True)
class Names:
    """How references read on paper: people and departments by name, related records by their
    display field, date-times in the site's timezone."""

    users: dict[int, str]
    departments: dict[int, str]
    records: dict[int, str]
    tz: ZoneInfo


def _columns(fields: Iterable[FieldBase], data: Mapping[str, Any]) -> Iterator[tuple[FieldBase, Any]]:
    """Every (field, value) of the record, sub-table cells included."""
    for f in fields:
        value = data.get(f.key)
        if isinstance(f, SubtableField):
            for row in value or []:
                if isinstance(row, Mapping):
                    yield from ((c, row.get(c.key)) for c in f.value_fields())
        else:
            yield f, value


def _refs(fields: Iterable[FieldBase], data: Mapping[str, Any], kind: str) -> list[int]:
    return [i for f, value in _columns(fields, data) if f.type in (kind, kind + "s") for i in _ids(value)]


def _related(session: Session, fields: Iterable[FieldBase], data: Mapping[str, Any]) -> dict[int, str]:
    shown: dict[int, str] = {}
    wanted = {i: getattr(f, "display_field", None) for f, value in _columns(fields, data) if f.type == "relation"
              for i in _ids(value)}
    if wanted:
        for row_id, row_data in session.execute(select(Record.id, Record.data).where(Record.id.in_(wanted))):
            label = (row_data or {}).get(wanted[row_id] or "")
            shown[row_id] = str(label) if label not in (None, "") else f"#{row_id}"
    return shown


def _display(f: FieldBase, value: Any, locale: str, names: Names) -> Any:
    if value is None:
        return ""
    if f.type in ("user", "users"):
        return "、".join(names.users.get(i, f"#{i}") for i in _ids(value))
    if f.type == "department":
        return names.departments.get(value, f"#{value}")
    if f.type == "relation":
        return "、".join(names.records.get(i, f"#{i}") for i in _ids(value))
    if f.type == "datetime":
        return _local(value, names.tz)
    if isinstance(f, SubtableField):
        return [{c.key: _display(c, row.get(c.key), locale, names) for c in f.value_fields()} for row in value or []]
    return f.display(value, locale)
