"""Published forms as the record service sees them: the current version for new records, the
pinned version for existing ones, each compiled once and cached by its checksum."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.forms.compiled import CompiledForm, compile_form
from engine.forms.model import FormDefinition
from engine.store.definitions import DefinitionRepository
from engine.store.models import Definition
from engine.store.prepared import Statements, raw_cursor

KIND = "form"
_COMPILED: OrderedDict[tuple[str, int, str], CompiledForm] = OrderedDict()
_DEFINITIONS: OrderedDict[tuple[str, int, str], FormDefinition] = OrderedDict()
_LOCK = Lock()


_DEFS = Definition.__table__
# Built once: every record write asks for its form's head, and a Core statement with bound
# parameters skips rebuilding and re-keying the query each time.
_HEAD_COLUMNS = select(_DEFS.c.key, _DEFS.c.version, _DEFS.c.checksum).where(
    _DEFS.c.kind == KIND, _DEFS.c.key == bindparam("key"))
_CURRENT_HEAD = _HEAD_COLUMNS.where(_DEFS.c.status == "published").order_by(_DEFS.c.version.desc()).limit(1)
_VERSION_HEAD = _HEAD_COLUMNS.where(_DEFS.c.version == bindparam("version"))
_HEADS = Statements({"current": _CURRENT_HEAD, "version": _VERSION_HEAD})


def _remember(cache: OrderedDict[tuple[str, int, str], Any], key: tuple[str, int, str], value: Any) -> None:
    with _LOCK:
        cache[key] = value
        if len(cache) > 512:
            cache.popitem(last=False)


class Head(NamedTuple):
    key: str
    version: int
    checksum: str


class FormCatalog:
    def __init__(self, session: Session) -> None:
        self.repo = DefinitionRepository(session)

    def _compiled(self, row: Any) -> CompiledForm:
        """`row` has key, version, checksum; the body is loaded only when not cached."""
        key = (row.key, row.version, row.checksum)
        with _LOCK:
            found = _COMPILED.get(key)
            if found is not None:
                _COMPILED.move_to_end(key)
                return found
            parsed = _DEFINITIONS.get(key)
        compiled = compile_form(parsed or self._parse(row), row.version, resolve_form=self.definition)
        _remember(_COMPILED, key, compiled)
        return compiled

    def _parse(self, head: Any) -> FormDefinition:
        body = self.repo.session.execute(select(Definition.body).where(
            Definition.kind == KIND, Definition.key == head.key, Definition.version == head.version)).scalar_one()
        return FormDefinition.model_validate(body)

    def _head(self, key: str, version: int | None) -> Head | None:
        """Key, version and checksum of the current (or a given) version, without the body; on
        the driver's cursor (every record write asks, and SQLAlchemy's execute costs several
        times SQLite's lookup)."""
        cursor, dialect = raw_cursor(self.repo.session)
        try:
            if version is None:
                found = _HEADS[dialect]["current"].row(cursor, {"key": key})
            else:
                found = _HEADS[dialect]["version"].row(cursor, {"key": key, "version": version})
        finally:
            cursor.close()
        return None if found is None else Head(*found)

    def current(self, key: str) -> CompiledForm:
        """The published version new records are written with."""
        row = self._head(key, None)
        if row is None:
            raise NotFound(what=f"form {key}")
        return self._compiled(row)

    def version(self, key: str, version: int) -> CompiledForm:
        row = self._head(key, version)
        if row is None:
            raise NotFound(what=f"form {key} v{version}")
        return self._compiled(row)

    def definition(self, key: str) -> FormDefinition | None:
        """The current (else newest) definition of a form: what relation fields resolve to. The
        current one is parsed once per version (rules and reports ask on every run)."""
        head = self._head(key, None)
        if head is None:
            row = self.repo.latest(KIND, key)
            return None if row is None else FormDefinition.model_validate(row.body)
        cached = (head.key, head.version, head.checksum)
        with _LOCK:
            compiled = _COMPILED.get(cached)
            found = compiled.definition if compiled is not None else _DEFINITIONS.get(cached)
        if found is not None:
            return found
        found = self._parse(head)
        _remember(_DEFINITIONS, cached, found)
        return found
