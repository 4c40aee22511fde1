"""Incremental rollups: what keeps a dashboard's cost flat as records pile up.

A rollup pre-aggregates one form's records by local month, department and up to three
dimension fields, counting records and summing up to three numeric fields (with the count of
values, so an average stays exact). A widget whose dataset only needs those — count, sum, avg
and rate measures; dimensions and conditions on those fields; month, quarter or year buckets;
whole-month ranges — reads the rollup's few thousand rows instead of the form's million; any
other widget (percentiles, durations, day buckets, "own" scopes, a 30-day window) reads the
records through their indexes, with the same SQL compiler, so both give the same numbers.

Rollups are built when a dashboard is published (one INSERT … SELECT … GROUP BY; on PostgreSQL
under a SHARE lock on `records`, so no write slips between the snapshot and the first event),
kept current by the record events every write emits (created, updated with the values before,
deleted, restored) — each applied only if its write is not already in the build, told by the
write's audit number against the audit head the build read (`after_build`) — and rebuilt every
night at 03:00 to heal any drift. The rollup is served
only to viewers whose scope is "all" (it has no owner column); scoped viewers read records,
which their department's index keeps cheap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, String, bindparam, cast, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.events import RECORD_CREATED, RECORD_DELETED, RECORD_RESTORED, RECORD_UPDATED, WRITE_SEQ, Event
from engine.expr import ExprError, parse
from engine.expr import ast as expr_ast
from engine.forms.model import FormDefinition
from engine.reports import periods
from engine.reports.dataset import Dataset, SourceSpec
from engine.reports.sources import SourceColumn, SourceView, records_view
from engine.reports.sqlfn import SqlFunctions
from engine.store.access import SCOPES, authorize
from engine.store.locks import lock_records_for_snapshot
from engine.store.models import AuditHead, Record
from engine.store.models.reports import Rollup, RollupRow
from engine.store.prepared import Statements, raw_cursor

MAX_KEYS = 3
MAX_SUMS = 3
REBUILD_KIND = "report.rollups"
REBUILD_KEY = "report.rollups:rebuild"
_KEYED = ("text", "integer")
_SYSTEM = ("id", "created_at", "updated_at", "owner_id", "department_id", "status", "form_version")
_MONTHLY = ("month", "quarter", "year")


@dataclass(frozen=True)
class RollupSpec:
    form: str
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    tz: str

    def signature(self) -> str:
        raw = json.dumps({"keys": self.keys, "sums": self.sums, "tz": self.tz}, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {"keys": list(self.keys), "sums": list(self.sums), "tz": self.tz}


def _names(text_: str | None) -> set[str] | None:
    """Row fields an expression reads (None when it does not parse)."""
    if not text_:
        return set()
    try:
        tree = parse(text_)
    except ExprError:
        return None
    return {n.path[0] for n in expr_ast.walk(tree) if isinstance(n, expr_ast.Name) and n.path[0] != "viewer"}


def spec_for(dataset: Dataset, definition: FormDefinition, tz: str) -> RollupSpec | None:
    """The rollup a dataset could be served from, or None when it needs the records."""
    if dataset.source.kind != "records" or dataset.date_field not in (None, "created_at"):
        return None
    columns = records_view(dataset.source, definition).columns
    keys: set[str] = set()
    sums: set[str] = set()

    def keyed(name: str) -> bool:
        if name == "department_id":
            return True
        col = columns.get(name)
        if col is None or name in _SYSTEM or col.kind not in _KEYED:
            return False
        keys.add(name)
        return True

    for d in dataset.dimensions:
        if d.field == "created_at":
            if d.bucket not in _MONTHLY:
                return None
        elif d.bucket or (d.level and d.field != "department_id") or not keyed(d.field):
            return None
    for m in dataset.measures:
        if m.agg not in ("count", "sum", "avg", "rate") or m.duration is not None:
            return None
        if m.agg == "rate" and m.field is not None:
            return None
        if m.agg in ("sum", "avg"):
            col = columns.get(m.field or "")
            if col is None or m.field in _SYSTEM or col.kind not in ("number", "integer"):
                return None
            sums.add(m.field or "")
    for expression in [dataset.filter] + [m.where for m in dataset.measures] + [m.of for m in dataset.measures]:
        names = _names(expression)
        if names is None or not all(keyed(n) for n in names):
            return None
    if len(keys) > MAX_KEYS or len(sums) > MAX_SUMS:
        return None
    return RollupSpec(dataset.source.form or "", tuple(sorted(keys)), tuple(sorted(sums)), tz)


def _fits(rf: Any, spec: RollupSpec, columns: Mapping[str, SourceColumn]) -> bool:
    """Whether a dashboard filter or drill point can be answered from the rollup."""
    if rf.optional and rf.field is not None and rf.field not in columns:
        return True  # it does not apply to this source at all
    if rf.op in ("department", "ancestor"):
        return bool(rf.field in (None, "department_id"))
    if rf.op == "bucket":
        return bool(rf.field == "created_at" and rf.bucket in _MONTHLY)
    return rf.op in ("in", "eq") and rf.field in spec.keys


def _monthly(period: periods.Period | None) -> bool:
    return period is None or (period.start.day == 1 and period.end.day == 1)


def rollup_view(session: Session, dataset: Dataset, ctx: Any, definition: FormDefinition) -> SourceView | None:
    """The dataset's rollup as a source, when it exists and may answer this query exactly."""
    spec = spec_for(dataset, definition, ctx.tz.key)
    if spec is None:
        return None
    viewer = ctx.viewer
    if viewer.principal is not None:
        scope = authorize(session, viewer.principal, "form", spec.form, "read").scope
        if viewer.scope_cap and SCOPES.index(viewer.scope_cap) < SCOPES.index(scope):
            scope = viewer.scope_cap
        if scope != "all":
            return None
    today = ctx.now.astimezone(ctx.tz).date()
    period = periods.resolve(dataset.range, today)
    columns = records_view(dataset.source, definition).columns
    for rf in ctx.filters:
        if rf.op == "period" and rf.field in (None, "created_at"):
            period = rf.value
        elif not _fits(rf, spec, columns):
            return None
    compared = any(m.compare for m in dataset.measures) and dataset.bucketed() is None
    if not _monthly(period) or (compared and period is not None and not _monthly(period.previous())):
        return None
    row = session.execute(select(Rollup).where(Rollup.form == spec.form, Rollup.signature == spec.signature(),
                                               Rollup.built_at.is_not(None))).scalar_one_or_none()
    if row is None:
        return None
    return _view(dataset.source, spec, row.id, records_view(dataset.source, definition))


def _view(source: SourceSpec, spec: RollupSpec, rollup_id: int, records: SourceView) -> SourceView:
    t = RollupRow.__table__
    created = records.columns["created_at"]
    department = func.nullif(t.c.department_id, 0)
    columns = {
        "created_at": SourceColumn("created_at", t.c.month, "month", created.label),
        "department_id": SourceColumn("department_id", department, "integer", records.columns["department_id"].label,
                                      ref="department"),
    }
    for i, key in enumerate(spec.keys, start=1):
        base = records.columns[key]
        value: Any = func.nullif(t.c[f"k{i}"], "")
        if base.kind == "integer":
            value = cast(value, BigInteger)
        columns[key] = SourceColumn(key, value, base.kind, base.label, options=base.options, ref=base.ref,
                                    colors=base.colors)
    sums = {}
    for i, key in enumerate(spec.sums, start=1):
        sums[key] = (t.c[f"s{i}"], t.c[f"c{i}"], records.columns[key].kind)
    return SourceView(source, t, [t.c.rollup_id == rollup_id], columns, "created_at", department=department,
                      title=records.title, weight=t.c.n, sums=sums)


# --- building -------------------------------------------------------------------------------------

def _key_text(value: Any) -> str:
    if value is None or isinstance(value, bool | list | dict):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def build(session: Session, rollup: Rollup, definition: FormDefinition, now: datetime) -> int:
    """(Re)build a rollup from the records in one statement; returns its row count."""
    spec = RollupSpec(rollup.form, tuple(rollup.spec["keys"]), tuple(rollup.spec["sums"]), rollup.spec["tz"])
    fn = SqlFunctions(session.get_bind().dialect.name, ZoneInfo(spec.tz), now)
    lock_records_for_snapshot(session)
    session.execute(delete(RollupRow).where(RollupRow.rollup_id == rollup.id))
    view = records_view(SourceSpec(form=spec.form), definition)
    r = Record.__table__
    month = fn.bucket(r.c.created_at, "datetime", "month", True)
    department = func.coalesce(r.c.department_id, 0)
    keys = [func.coalesce(cast(view.columns[k].sql, String), "") for k in spec.keys]
    keys += [literal("")] * (MAX_KEYS - len(keys))
    values: list[Any] = [literal(rollup.id), month, department, *keys, func.count()]
    names = ["rollup_id", "month", "department_id", "k1", "k2", "k3", "n"]
    for i, key in enumerate(spec.sums, start=1):
        values += [func.coalesce(func.sum(view.columns[key].sql), 0.0), func.count(view.columns[key].sql)]
        names += [f"s{i}", f"c{i}"]
    grouped = select(*values).where(r.c.form == spec.form, r.c.deleted_at.is_(None)).group_by(
        month, department, *keys[:len(spec.keys)])
    session.execute(insert(RollupRow).from_select(names, grouped))
    rollup.built_at = now
    # After the snapshot lock: audited writes committed so far are numbered up to the head's seq,
    # every later one above it (they queue on the head's row lock), whatever their clocks say.
    rollup.built_seq = session.execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar() or 0
    session.flush()
    return session.execute(select(func.count()).select_from(RollupRow).where(RollupRow.rollup_id == rollup.id)
                           ).scalar_one()


def ensure(session: Session, spec: RollupSpec, definition: FormDefinition, now: datetime) -> Rollup:
    """The rollup for `spec`, built if it is new."""
    row = session.execute(select(Rollup).where(Rollup.form == spec.form, Rollup.signature == spec.signature())
                          ).scalar_one_or_none()
    if row is None:
        row = Rollup(form=spec.form, signature=spec.signature(), spec=spec.to_dict(), created_at=now)
        session.add(row)
        session.flush()
    if row.built_at is None:
        build(session, row, definition, now)
    return row


def next_rebuild(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(3, 0), tz).astimezone(UTC)


def rebuild_all(session: Session, definitions: Mapping[str, FormDefinition], now: datetime) -> int:
    """Rebuild every rollup whose form is known; returns how many."""
    done = 0
    for row in session.execute(select(Rollup)).scalars():
        definition = definitions.get(row.form)
        if definition is not None:
            build(session, row, definition, now)
            done += 1
    return done


# --- keeping them current -------------------------------------------------------------------------

def _month(created: datetime, tz: ZoneInfo) -> str:
    return created.astimezone(tz).strftime("%Y-%m")


def _changes(event: Event) -> list[tuple[int, Mapping[str, Any]]]:
    if event.kind in (RECORD_CREATED, RECORD_RESTORED):
        return [(1, event.data)]
    if event.kind == RECORD_DELETED:
        return [(-1, event.data)]
    if event.kind == RECORD_UPDATED:
        return [(-1, {**event.data, **event.before}), (1, event.data)]
    return []


def after_build(rollup: Rollup, event: Event) -> bool:
    """Whether a record event's write is missing from the rollup's build: by the write's audit
    number against the one the build read (commit order, exact); for a write or a rollup from
    before those numbers, by time (a write in flight during the build can be off until the
    nightly rebuild)."""
    seq = event.meta.get(WRITE_SEQ)
    if type(seq) is int and rollup.built_seq is not None:
        return seq > rollup.built_seq
    return rollup.built_at is not None and event.at > rollup.built_at


def apply_event(session: Session, event: Event) -> int:
    """Apply one record event to the form's rollups built without it; returns rows touched."""
    rollups = [r for r in session.execute(select(Rollup).where(Rollup.form == event.subject,
                                                               Rollup.built_at.is_not(None))).scalars()
               if after_build(r, event)]
    changes = _changes(event)
    if not rollups or not changes or event.record_id is None:
        return 0
    record = session.execute(select(Record.created_at, Record.department_id).where(Record.id == event.record_id)
                             ).first()
    if record is None:
        return 0
    touched = 0
    for rollup in rollups:
        tz = ZoneInfo(rollup.spec["tz"])
        for sign, values in changes:
            touched += _add(session, rollup, _month(record.created_at, tz), record.department_id or 0, sign, values)
    return touched


_ROWS = RollupRow.__table__
_GROUP = ("rollup_id", "month", "department_id", "k1", "k2", "k3")
_AMOUNTS = ("n", "s1", "c1", "s2", "c2", "s3", "c3")


def _upsert(insert_: Any) -> Any:
    statement = insert_(_ROWS).values({c: bindparam(c, type_=_ROWS.c[c].type) for c in _GROUP + _AMOUNTS})
    return statement.on_conflict_do_update(index_elements=list(_GROUP),
                                           set_={c: _ROWS.c[c] + statement.excluded[c] for c in _AMOUNTS})


_IN_GROUP = [_ROWS.c[c] == bindparam(f"g_{c}", type_=_ROWS.c[c].type) for c in _GROUP]
# One statement per change, built once per dialect and run on the driver's cursor: a record
# event touches a group of every rollup of its form, and building the statements per call cost
# milliseconds. Adding is an upsert on the group's unique key (two workers adding to a new group
# at once both count); removing subtracts, then drops a group left without records.
_STATEMENTS = {
    "sqlite": Statements({"add": _upsert(sqlite_insert)}),
    "postgresql": Statements({"add": _upsert(postgresql_insert)}),
}
_REMOVE = Statements({
    "subtract": update(_ROWS).where(*_IN_GROUP).values(
        {c: _ROWS.c[c] - bindparam(f"d_{c}", type_=_ROWS.c[c].type) for c in _AMOUNTS}),
    "drop_empty": delete(_ROWS).where(*_IN_GROUP, _ROWS.c.n <= 0),
})


def _add(session: Session, rollup: Rollup, month: str, department: int, sign: int, values: Mapping[str, Any]) -> int:
    keys = [_key_text(values.get(k)) for k in rollup.spec["keys"]] + [""] * (MAX_KEYS - len(rollup.spec["keys"]))
    amounts: dict[str, Any] = {"n": 1, "s1": 0.0, "c1": 0, "s2": 0.0, "c2": 0, "s3": 0.0, "c3": 0}
    for i, key in enumerate(rollup.spec["sums"], start=1):
        value = values.get(key)
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        amounts[f"s{i}"], amounts[f"c{i}"] = (number or 0.0), int(number is not None)
    group = dict(zip(_GROUP, (rollup.id, month, department, *keys), strict=True))
    cursor, dialect = raw_cursor(session)
    try:
        if sign > 0:
            _STATEMENTS[dialect.name][dialect]["add"].run(cursor, {**group, **amounts})
            return 1
        removing = _REMOVE[dialect]
        params = {**{f"g_{k}": v for k, v in group.items()}, **{f"d_{k}": v for k, v in amounts.items()}}
        done = int(removing["subtract"].run(cursor, params).rowcount)
        # a group whose last record left it is no group (counting records gives no row)
        removing["drop_empty"].run(cursor, params)
        return done
    finally:
        cursor.close()


def specs_of(datasets: Iterable[Dataset], definitions: Mapping[str, FormDefinition], tz: str) -> list[RollupSpec]:
    out: list[RollupSpec] = []
    for dataset in datasets:
        definition = definitions.get(dataset.source.form or "")
        spec = spec_for(dataset, definition, tz) if definition is not None else None
        if spec is not None and spec not in out:
            out.append(spec)
    return out



def accelerate(session: Session, datasets: Iterable[Dataset], tz: str, now: datetime) -> dict[str, list[str]]:
    """What publishing a dashboard prepares: the form engine's expression indexes on the fields
    its datasets group and filter by (for the widgets that read records), and the rollups of
    the widgets that can be served from one. Returns index names and rollup signatures."""
    from engine.forms.catalog import FormCatalog
    from engine.store.records import ensure_field_indexes

    catalog = FormCatalog(session)
    definitions: dict[str, FormDefinition] = {}
    wanted: dict[str, str] = {}
    datasets = [d for d in datasets if d.source.kind == "records"]
    for dataset in datasets:
        form = dataset.source.form or ""
        definition = definitions.get(form) or catalog.definition(form)
        if definition is None:
            continue
        definitions[form] = definition
        kinds = definition.sql_kinds()
        names = {d.field for d in dataset.dimensions if not d.bucket}
        for expression in [dataset.filter] + [m.where for m in dataset.measures]:
            names |= _names(expression) or set()
        wanted.update({n: kinds[n] for n in names if n not in _SYSTEM and kinds.get(n)})  # type: ignore[misc]
    indexes = ensure_field_indexes(session, wanted) if wanted else []
    built = [ensure(session, spec, definitions[spec.form], now).signature
             for spec in specs_of(datasets, definitions, tz)]
    return {"indexes": indexes, "rollups": built}
