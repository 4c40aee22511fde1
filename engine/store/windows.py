"""Windows and history for rules: aggregates over stored records and sensor readings in SQL.

A bound aggregate (`count(hazard where area == 7 and category == "fire", within 7d)` with the
outer values already filled in) becomes one query: the `where` through `expr_sql.to_sql` over
the form's typed field columns, the window as `created_at >= since`, `consecutive(n, …)` as
"the newest n rows of the key, all meeting the condition". Nothing is held in memory between
events; the database is the window. `ensure_window_index` creates the composite expression index
— (form, equality fields…, created_at) — that makes such a count an index range scan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Index, MetaData, String, Table, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from engine.expr import ast
from engine.expr.aggregates import BoundAggregate
from engine.store.expr_sql import ColumnFor, to_sql
from engine.store.models import Record, SensorReading
from engine.store.records import FieldValue
from engine.store.types import JSONDoc, UTCDateTime

READINGS = "readings"
WINDOW_INDEX_PREFIX = "ixw_"
_READING_COLUMNS = {"metric": SensorReading.metric, "source": SensorReading.source, "value": SensorReading.value,
                    "at": SensorReading.at, "id": SensorReading.id}


def _reading_column(path: str) -> ColumnElement[Any]:
    return _READING_COLUMNS[path]


class SqlWindows:
    """The expression language's DataSource for rules: answers bound aggregates in SQL."""

    def __init__(self, session: Session, column_for_form: Callable[[str], ColumnFor]) -> None:
        self.session = session
        self.column_for_form = column_for_form
        self.dialect = session.get_bind().dialect.name

    def raw_column_for(self, bound: BoundAggregate) -> ColumnFor:
        return _reading_column if bound.form == READINGS else self.column_for_form(bound.form)

    def aggregate(self, bound: BoundAggregate) -> Any:
        if bound.form == READINGS:
            column_for, table_filter, time_col, id_col = _reading_column, [], SensorReading.at, SensorReading.id
        else:
            column_for = self.column_for_form(bound.form)
            table_filter = [Record.form == bound.form, Record.deleted_at.is_(None)]
            time_col, id_col = Record.created_at, Record.id
        filters = list(table_filter)
        column_for = self._times_as_text(column_for)
        if bound.where is not None:
            filters.append(to_sql(bound.where, column_for, dialect_name=self.dialect))
        if bound.since is not None:
            filters.append(time_col >= bound.since)
        if bound.function == "consecutive":
            return self._consecutive(bound, column_for, filters, id_col)
        if bound.function == "count":
            return self.session.execute(select(func.count()).select_from(
                SensorReading if bound.form == READINGS else Record).where(*filters)).scalar_one()
        if bound.function == "exists":
            query = select(id_col).where(*filters).limit(1)
            return self.session.execute(query).first() is not None
        assert bound.field is not None
        value = column_for(bound.field)
        fn = {"sum": func.sum, "avg": func.avg, "min": func.min, "max": func.max}[bound.function]
        return self.session.execute(select(fn(value)).where(*filters)).scalar_one()

    def _times_as_text(self, column_for: ColumnFor) -> ColumnFor:
        """Timestamp columns as the text the expression language compares datetimes as
        ("YYYY-MM-DDTHH:MM:SSZ", like datetimes inside record data), so `now() - created_at >
        24h` means the same on SQLite (which stores "YYYY-MM-DD HH:MM:SS") and PostgreSQL."""

        def column(path: str) -> ColumnElement[Any]:
            col = column_for(path)
            if path not in ("created_at", "updated_at", "at") or isinstance(col, FieldValue):
                return col
            if self.dialect == "postgresql":
                return func.to_char(func.timezone("UTC", col), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            return func.strftime("%Y-%m-%dT%H:%M:%SZ", col)

        return column

    def _consecutive(self, bound: BoundAggregate, column_for: ColumnFor, filters: list[Any],
                     id_col: ColumnElement[Any]) -> bool:
        n = bound.n or 0
        if n <= 0:
            return True
        assert bound.condition is not None and bound.order_by is not None
        meets = case((to_sql(bound.condition, column_for, dialect_name=self.dialect), 1), else_=0)
        order = self.raw_column_for(bound)(bound.order_by)
        rows = self.session.execute(select(meets).where(*filters).order_by(order.desc(), id_col.desc())
                                    .limit(n)).scalars().all()
        return len(rows) == n and all(rows)


# --- the indexes windows use --------------------------------------------------------------------

_records = Table("records", MetaData(), Column("form", String(128)), Column("data", JSONDoc),
                 Column("created_at", UTCDateTime), Column("deleted_at", UTCDateTime))


def equality_fields(where: ast.Node | None, scope_names: set[str]) -> list[str]:
    """Row fields compared with `==` to an outer value in the top-level `and` of a where: the
    leading columns of the index that serves it (`area == h.area and category == h.category`)."""
    if where is None:
        return []
    parts = where.operands if isinstance(where, ast.BoolOp) and where.op == "and" else (where,)
    out: list[str] = []
    for part in parts:
        if isinstance(part, ast.Compare) and part.op in ("==", "="):
            for side, other in ((part.left, part.right), (part.right, part.left)):
                if isinstance(side, ast.Name) and len(side.path) == 1 and side.path[0] not in scope_names \
                        and not _reads_row(other, scope_names):
                    out.append(side.path[0])
                    break
    return out


def _reads_row(node: ast.Node, scope_names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.path[0] not in scope_names
    return any(_reads_row(c, scope_names) for c in ast.children(node))


def window_index_name(form: str, fields: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha1(f"{form}|{fields}|live".encode()).hexdigest()[:10]
    return f"{WINDOW_INDEX_PREFIX}{form[:30]}_{digest}"


def ensure_window_index(session: Session, form: str, fields: Sequence[tuple[str, str]]) -> str:
    """(form, field values…, created_at) over live rows (`WHERE deleted_at IS NULL`): a windowed
    count of one key is answered from the index alone, reading just the window's entries.
    `fields` are (key, sql kind) pairs."""
    name = window_index_name(form, fields)
    parts: list[Any] = [_records.c.form]
    parts += [FieldValue(key, kind, _records.c.data) for key, kind in fields]
    parts.append(_records.c.created_at)
    live = _records.c.deleted_at.is_(None)
    index = Index(name, *parts, sqlite_where=live, postgresql_where=live)
    session.execute(CreateIndex(index, if_not_exists=True))
    return name
