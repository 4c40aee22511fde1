"""Saving and publishing form definitions: only valid definitions are stored, and publishing a
form creates the expression indexes its `indexed` fields ask for.

Publishing a changed form makes a new version; records keep the version they were written with
(see engine/forms/migrations.py to move them explicitly).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, Problem
from engine.forms.catalog import KIND, FormCatalog
from engine.forms.compiled import compile_form
from engine.forms.loading import load_form
from engine.forms.model import FormDefinition
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository, Published
from engine.store.models import Definition
from engine.store.records import ensure_field_indexes


def _load(session: Session, body: Any, key: str | None, file: str | None = None) -> FormDefinition:
    definition = load_form(body, file, resolve_form=FormCatalog(session).definition)
    if key is not None and definition.key != key:
        raise InvalidInput("form.invalid", problems=[Problem("form.key_mismatch", {"key": definition.key,
                                                                                   "expected": key}, path="key")])
    return definition


def save_draft(session: Session, actor: Actor, body: Any, *, key: str | None = None, file: str | None = None,
               pack: str | None = None, note: str | None = None) -> Definition:
    definition = _load(session, body, key, file)
    return DefinitionRepository(session).save_draft(actor, KIND, definition.key, definition.body(), pack=pack,
                                                    note=note)


def publish(session: Session, actor: Actor, key: str, body: Any | None = None, *, pack: str | None = None,
            note: str | None = None) -> Published:
    """Publish `body`, or the saved draft; a body identical to the current version changes
    nothing. Indexed fields get their expression index (shared by forms with the same field)."""
    repo = DefinitionRepository(session)
    if body is None:
        draft = repo.draft(KIND, key)
        if draft is None:
            raise NotFound(what=f"draft of form {key}")
        body = draft.body
    definition = _load(session, body, key)
    published = repo.publish(actor, KIND, key, definition.body(), pack=pack, note=note)
    compiled = compile_form(definition, published.version, resolve_form=FormCatalog(session).definition)
    kinds = compiled.definition.sql_kinds()
    indexed = {f.key: kinds[f.key] for f in definition.indexed_fields() if kinds.get(f.key)}
    if indexed:
        ensure_field_indexes(session, indexed)
    return published


def definition_of(row: Definition) -> FormDefinition:
    return FormDefinition.model_validate(row.body)
