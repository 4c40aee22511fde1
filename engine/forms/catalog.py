"""Published forms as the record service sees them: the current version for new records, the
pinned version for existing ones, each compiled once and cached by its checksum."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.forms.compiled import CompiledForm, compile_form
from engine.forms.model import FormDefinition
from engine.store.definitions import DefinitionRepository
from engine.store.models import Definition

KIND = "form"
_COMPILED: OrderedDict[tuple[str, int, str], CompiledForm] = OrderedDict()
_LOCK = Lock()


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
        body = self.repo.session.execute(select(Definition.body).where(
            Definition.kind == KIND, Definition.key == row.key, Definition.version == row.version)).scalar_one()
        definition = FormDefinition.model_validate(body)
        compiled = compile_form(definition, row.version, resolve_form=self.definition)
        with _LOCK:
            _COMPILED[key] = compiled
            if len(_COMPILED) > 512:
                _COMPILED.popitem(last=False)
        return compiled

    def _head(self, key: str, version: int | None) -> Any:
        """Key, version and checksum of the current (or a given) version, without the body."""
        query = select(Definition.key, Definition.version, Definition.checksum).where(
            Definition.kind == KIND, Definition.key == key)
        if version is None:
            query = query.where(Definition.status == "published").order_by(Definition.version.desc()).limit(1)
        else:
            query = query.where(Definition.version == version)
        return self.repo.session.execute(query).first()

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
        """The current (else newest) definition of a form: what relation fields resolve to."""
        row = self.repo.current(KIND, key) or self.repo.latest(KIND, key)
        if row is None:
            return None
        return FormDefinition.model_validate(row.body)
