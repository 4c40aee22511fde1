"""Core statements compiled once per dialect and run on the DBAPI cursor of a session's connection.

Why: a task completion is a handful of tiny statements, and SQLAlchemy's per-execute machinery
(cache key, parameter coercion, result proxy) costs ~25x what SQLite spends running one. The
SQL text, parameter order and type processors (JSON, UTC datetimes) are still SQLAlchemy's, taken
from the compiled statement, so what is written and read back is exactly what `execute` would
write and read; the statements run in the caller's transaction (or SAVEPOINT) on the same
connection, so they commit or roll back with everything else the session does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement


class Prepared:
    """One statement for one dialect: `run(cursor, params)`, `run_many(cursor, rows)`."""

    __slots__ = ("defaults", "names", "order", "positional", "processors", "results", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ()) if self.positional else tuple(compiled.binds)
        # Literal binds the statement carries itself (e.g. the 1 of `seq + 1`).
        self.defaults: dict[str, Any] = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required and bind.value is not None
        }
        bind_processors: Mapping[str, Callable[[Any], Any] | None] = compiled._bind_processors
        self.processors: tuple[tuple[str, Callable[[Any], Any]], ...] = tuple(
            (name, proc) for name, proc in bind_processors.items() if proc is not None and name in self.names
        )
        processor_of = dict(self.processors)
        self.order: tuple[tuple[str, Callable[[Any], Any] | None], ...] = tuple(
            (name, processor_of.get(name)) for name in self.names
        )
        # Result processors of the selected / returned columns, in order (None: value as fetched).
        self.results: tuple[Callable[[Any], Any] | None, ...] = tuple(
            column.type._cached_result_processor(dialect, None)
            for column in getattr(compiled, "_result_columns", ())
        )

    def _params(self, given: Mapping[str, Any]) -> Any:
        if self.defaults:
            given = {**self.defaults, **given}
        if self.positional:
            return tuple([given[n] if p is None else p(given[n]) for n, p in self.order])
        params = dict(given)
        for name, proc in self.processors:
            params[name] = proc(params[name])
        return params

    def run(self, cursor: Any, params: Mapping[str, Any]) -> Any:
        cursor.execute(self.sql, self._params(params))
        return cursor

    def run_many(self, cursor: Any, rows: Iterable[Mapping[str, Any]]) -> None:
        cursor.executemany(self.sql, [self._params(r) for r in rows])

    def row(self, cursor: Any, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first result row, through the columns' result processors."""
        found = self.run(cursor, params).fetchone()
        if found is None:
            return None
        return tuple(v if p is None else p(v) for v, p in zip(found, self.results, strict=False))


class Statements:
    """Prepared statements per dialect, built on first use: `Statements({...})[dialect]["load"]`."""

    def __init__(self, statements: Mapping[str, ClauseElement]) -> None:
        self.statements = dict(statements)
        self._by_dialect: dict[str, dict[str, Prepared]] = {}

    def __getitem__(self, dialect: Dialect) -> dict[str, Prepared]:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = {name: Prepared(stmt, dialect) for name, stmt in self.statements.items()}
            self._by_dialect[dialect.name] = found
        return found


def raw_cursor(bind: Session | Connection) -> tuple[Any, Dialect]:
    """A DBAPI cursor on the session's (or this) connection, beginning its transaction, and the dialect."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    return connection.connection.dbapi_connection.cursor(), connection.dialect  # type: ignore[union-attr]
