"""Records in SQL: typed JSON extraction of a form's fields (`column_for`), the expression
indexes a form asks for, and the list query (filters, sort, keyset pagination, text search).

Field values live in the JSON `data` column. `column_for` gives each field key an SQL
expression typed by its field type, identical text on every use, so an index on that
expression is the one the planner picks. On PostgreSQL, numbers are cast only when the JSON
value is a number, so a stray text value in another form's field of the same name can never make
a query fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Float,
    Index,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    false,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.visitors import InternalTraversal

from engine.errors import InvalidInput, Problem
from engine.store.migrate import FORM_INDEX_PREFIX
from engine.store.models import Record
from engine.store.prepared import Statements, raw_cursor
from engine.store.types import JSONDoc

SQL_KINDS = {"text": String(), "number": Float(), "integer": BigInteger(), "boolean": Boolean()}
_SAFE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Prefix of the expression indexes forms ask for; migrations leave indexes so named alone.
FIELD_INDEX_PREFIX = FORM_INDEX_PREFIX
_PG_CASTS = {"number": "double precision", "integer": "bigint", "boolean": "boolean"}
_PG_JSON_TYPES = {"number": "number", "integer": "number", "boolean": "boolean"}


class FieldValue(ColumnElement[Any]):
    """The value of one field of `records.data`, extracted and typed for SQL."""

    inherit_cache = True
    _traverse_internals = [("key", InternalTraversal.dp_string), ("kind", InternalTraversal.dp_string)]

    def __init__(self, key: str, kind: str, data: ColumnElement[Any] | None = None) -> None:
        if not _SAFE_KEY.match(key):
            raise ValueError(f"not a field key: {key!r}")
        if kind not in SQL_KINDS:
            raise ValueError(f"not an SQL kind: {kind!r}")
        self.key = key
        self.kind = kind
        self.data = data if data is not None else Record.__table__.c.data
        self.type = SQL_KINDS[kind]

    @property
    def _from_objects(self) -> list[Any]:
        return self.data._from_objects


@compiles(FieldValue, "sqlite")
def _sqlite(element: FieldValue, compiler: Any, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.data, **kw)}, '$.{element.key}')"


@compiles(FieldValue, "postgresql")
def _postgresql(element: FieldValue, compiler: Any, **kw: Any) -> str:
    data = compiler.process(element.data, **kw)
    if element.kind == "text":
        return f"({data} ->> '{element.key}')"
    json_type = _PG_JSON_TYPES[element.kind]
    cast = _PG_CASTS[element.kind]
    if element.kind == "integer":
        cast = "numeric)::bigint"
        value = f"(({data} ->> '{element.key}')::{cast}"
    else:
        value = f"({data} ->> '{element.key}')::{cast}"
    return f"(CASE WHEN jsonb_typeof({data} -> '{element.key}') = '{json_type}' THEN {value} END)"


SYSTEM_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": Record.__table__.c.id,
    "created_at": Record.__table__.c.created_at,
    "updated_at": Record.__table__.c.updated_at,
    "owner_id": Record.__table__.c.owner_id,
    "department_id": Record.__table__.c.department_id,
    "status": Record.__table__.c.status,
    "form_version": Record.__table__.c.form_version,
}

ColumnFor = Callable[[str], ColumnElement[Any]]


def column_for(definition: Any) -> ColumnFor:
    """key → SQL expression over `records`: the real columns (id, created_at, updated_at,
    owner_id, department_id, status, form_version) or the field's JSON value typed by its field
    type. `definition` is a FormDefinition (anything with `sql_kinds()`) or a {key: kind} map.
    Unknown keys and fields SQL cannot compare (lists, sub-tables) raise KeyError."""
    kinds: Mapping[str, str | None] = definition.sql_kinds() if hasattr(definition, "sql_kinds") else definition

    def column(key: str) -> ColumnElement[Any]:
        if key in SYSTEM_COLUMNS:
            return SYSTEM_COLUMNS[key]
        kind = kinds.get(key)
        if kind is None:
            raise KeyError(key)
        return FieldValue(key, kind)

    return column


# --- expression indexes ----------------------------------------------------------------------

_index_table = Table("records", MetaData(), Column("form", String(128)), Column("data", JSONDoc))


def field_index_name(key: str, kind: str) -> str:
    name = f"{FIELD_INDEX_PREFIX}{key}_{kind}"
    if len(name) > 60:
        name = f"{FIELD_INDEX_PREFIX}{key[:40]}_{hashlib.sha1(f'{key}:{kind}'.encode()).hexdigest()[:8]}"
    return name


def ensure_field_indexes(session: Session, fields: Mapping[str, str]) -> list[str]:
    """Create (if missing) an index on (form, value) for each {key: sql kind}. Indexes are
    shared by every form with a field of that key and kind; returns their names."""
    names = []
    for key, kind in sorted(fields.items()):
        name = field_index_name(key, kind)
        index = Index(name, _index_table.c.form, FieldValue(key, kind, _index_table.c.data))
        session.execute(CreateIndex(index, if_not_exists=True))
        names.append(name)
    return names


# --- the list query --------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    column: ColumnElement[Any]
    descending: bool = False


@dataclass
class Page:
    rows: list[Record]
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    def plain(value: Any) -> Any:
        return {"$dt": value.isoformat()} if isinstance(value, datetime) else value

    raw = json.dumps([plain(v) for v in values], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != count:
            raise ValueError("wrong length")
    except ValueError:
        raise InvalidInput(problems=[Problem("records.bad_cursor", path="cursor")]) from None
    return [datetime.fromisoformat(v["$dt"]) if isinstance(v, dict) and "$dt" in v else v for v in values]


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order (each key ascending or descending, NULLs
    last, then id): the keyset condition, built so NULLs never fall out of the page chain."""
    if not keys:
        return Record.__table__.c.id > values[0]
    key, value, rest = keys[0], values[0], _after(keys[1:], values[1:])
    col = key.column
    if value is None:
        return and_(col.is_(None), rest)
    beyond = col < value if key.descending else col > value
    return or_(beyond, and_(col == value, rest), col.is_(None))


def list_page(session: Session, form: str, *, where: Sequence[ColumnElement[bool]] = (),
              sort: Sequence[SortKey] = (), cursor: str | None = None, limit: int = 50,
              deleted: bool = False, search: str | None = None) -> Page:
    """One page of a form's records: filters, text search, scope (all in `where`, applied in
    SQL), the order (NULLs last, id breaks ties) and a keyset cursor from the previous page."""
    table = Record.__table__
    conditions: list[ColumnElement[bool]] = [table.c.form == form, *where]
    conditions.append(table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None))
    if search:
        terms = [t for t in search.lower().split() if t]
        for term in terms[:8]:
            conditions.append(table.c.search_text.contains(term, autoescape=True))
    if cursor:
        conditions.append(_after(sort, decode_cursor(cursor, len(sort) + 1)))
    order: list[Any] = []
    for key in sort:
        order.append(key.column.is_(None))
        order.append(key.column.desc() if key.descending else key.column.asc())
    order.append(table.c.id.asc())
    query = select(Record, *[k.column.label(f"_k{i}") for i, k in enumerate(sort)]).where(*conditions)
    results = session.execute(query.order_by(*order).limit(limit + 1)).all()
    rows = [r[0] for r in results[:limit]]
    next_cursor = None
    if len(results) > limit:
        last = results[limit - 1]
        next_cursor = encode_cursor([*(last[i + 1] for i in range(len(sort))), last[0].id])
    return Page(rows=rows, next_cursor=next_cursor)


def existing_ids(session: Session, kind: str, ids: set[int]) -> set[int]:
    """Which of `ids` exist: users, departments, files, or records of a form ("record:area")."""
    from engine.store.models import Department, StoredFile, User

    if not ids:
        return set()
    if kind == "user":
        query = select(User.id).where(User.id.in_(ids))
    elif kind == "department":
        query = select(Department.id).where(Department.id.in_(ids))
    elif kind == "file":
        query = select(StoredFile.id).where(StoredFile.id.in_(ids))
    elif kind.startswith("record:"):
        query = select(Record.id).where(Record.id.in_(ids), Record.form == kind[7:], Record.deleted_at.is_(None))
    else:
        return set()
    return set(session.execute(query).scalars())


NOTHING = false()


# --- the insert --------------------------------------------------------------------------------

_TABLE = Record.__table__
# Every column but the id bound by name, the id returned: compiled once per dialect and run on
# the driver's cursor, the same SQL, types and JSON serialiser as the ORM's flush would use.
# (Record's attributes are named as its columns.)
_NAMES = tuple(c.name for c in _TABLE.columns if c.name != "id")
_INSERT = Statements({"insert": _TABLE.insert().values(
    **{name: bindparam(name, type_=_TABLE.c[name].type) for name in _NAMES}).returning(_TABLE.c.id)})


def _default(column: Any) -> Any:
    if column.default.is_callable:
        return lambda: column.default.arg(None)
    return lambda: column.default.arg


# Column defaults (status, row version, created and updated times) for values the row leaves unset.
_DEFAULTS = {c.name: _default(c) for c in _TABLE.columns
             if c.name not in ("id", "row_version") and c.default is not None and not c.default.is_sequence}


def insert_record(session: Session, row: Record, data: Any = None) -> Record:
    """Insert a new `row` (columns it leaves unset take their defaults) on the driver's cursor of
    the session's connection, then attach it to the session as loaded: as `add` + `flush`
    would, for a fifth of the cost (a record submit's ORM flush cost more than its SQLite
    work). `data`: what to bind for the document instead of `row.data` (a JSONText carrying the
    text already serialised). Pending ORM changes are flushed first, so the insert sees them."""
    session.flush()
    row.row_version = 1
    for name, default in _DEFAULTS.items():  # what the ORM's flush would fill in
        if getattr(row, name) is None:
            setattr(row, name, default())
    values = {name: getattr(row, name) for name in _NAMES}
    if data is not None:
        values["data"] = data
    cursor, dialect = raw_cursor(session)
    try:
        found = _INSERT[dialect]["insert"].row(cursor, values)
    finally:
        cursor.close()
    assert found is not None
    row.id = found[0]
    make_transient_to_detached(row)
    session.add(row)
    return row


# One UPDATE per set of changed columns, guarded by the row version the caller read.
_UPDATES: dict[tuple[str, ...], Statements] = {}


def _update_statement(names: tuple[str, ...]) -> Statements:
    found = _UPDATES.get(names)
    if found is None:
        statement = _TABLE.update().where(
            _TABLE.c.id == bindparam("w_id"), _TABLE.c.row_version == bindparam("w_version")
        ).values({**{name: bindparam(name, type_=_TABLE.c[name].type) for name in names},
                  "row_version": _TABLE.c.row_version + 1})
        found = _UPDATES.setdefault(names, Statements({"update": statement}))
    return found


def update_record(session: Session, row: Record, **changes: Any) -> bool:
    """Write `changes` (columns by name) to the loaded `row` if nobody changed it since it was
    read — `row_version` as read, bumped by one — on the driver's cursor, as the ORM's versioned
    flush would, for a fraction of its cost; the row then holds the new values as loaded. False
    (and nothing written) when its version moved on: a stale write."""
    session.flush()
    names = tuple(sorted(changes))
    values = {**changes, "w_id": row.id, "w_version": row.row_version}
    cursor, dialect = raw_cursor(session)
    try:
        done = _update_statement(names)[dialect]["update"].run(cursor, values).rowcount
    finally:
        cursor.close()
    if done != 1:
        return False
    for name, value in changes.items():
        set_committed_value(row, name, value)
    set_committed_value(row, "row_version", row.row_version + 1)
    return True
