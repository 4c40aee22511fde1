"""Moving old records to a newer form version, explicitly, with a dry run first.

Publishing a new version never touches existing records: they keep their version and stay
readable and editable. When a change should reach them — a renamed field, an option split in two
or merged, a default for a field that became required — an admin applies migration steps. The
dry run reports what would change and which records would then be invalid; the real run is all
or nothing and writes an audit entry per record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.events import RECORD_UPDATED, Event, EventSink, write_meta
from engine.expr import EvalContext, ExprError, compile_expr
from engine.forms.catalog import FormCatalog
from engine.forms.compiled import CompiledForm
from engine.forms.loading import shape_problems
from engine.forms.records import search_text
from engine.forms.validation import prepare
from engine.store import audit
from engine.store.audit import Actor
from engine.store.models import Record


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rename(_Step):
    op: Literal["rename"]
    source: str = Field(alias="from", description="Old key (a sub-table column as table.column)")
    target: str = Field(alias="to")


class SplitOption(_Step):
    op: Literal["split_option"]
    field: str
    source: str = Field(alias="from")
    target: list[str] = Field(alias="to", min_length=2)
    choose: str | None = Field(default=None, description="Expression over the old record giving the new value; "
                                                         "default: the first of `to`")


class MergeOptions(_Step):
    op: Literal["merge_options"]
    field: str
    source: list[str] = Field(alias="from", min_length=1)
    target: str = Field(alias="to")


class SetDefault(_Step):
    op: Literal["set_default"]
    field: str
    value: Any = None
    expr: str | None = Field(default=None, description="Expression over the old record")


class Drop(_Step):
    op: Literal["drop"]
    field: str


Step = Annotated[Rename | SplitOption | MergeOptions | SetDefault | Drop, Field(discriminator="op")]
_STEPS = TypeAdapter(list[Step])


@dataclass
class RecordOutcome:
    id: int
    from_version: int
    changed: list[str]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class MigrationReport:
    form: str
    to_version: int
    dry_run: bool
    examined: int = 0
    changed: int = 0
    invalid: int = 0
    applied: bool = False
    records: list[RecordOutcome] = field(default_factory=list)

    def to_dict(self, locale: str | None = None, limit: int = 200) -> dict[str, Any]:
        return {
            "form": self.form, "to_version": self.to_version, "dry_run": self.dry_run, "examined": self.examined,
            "changed": self.changed, "invalid": self.invalid, "applied": self.applied,
            "records": [{"id": r.id, "from_version": r.from_version, "changed": r.changed,
                         "problems": [p.to_dict(locale) for p in r.problems]} for r in self.records[:limit]],
        }


def parse_steps(raw: Any) -> list[Any]:
    try:
        return _STEPS.validate_python(raw)
    except ValidationError as exc:
        raise InvalidInput("migration.invalid", problems=shape_problems(exc, raw)) from None


def _options(values: Any, mapping: dict[str, str]) -> Any:
    if isinstance(values, list):
        return list(dict.fromkeys(mapping.get(v, v) for v in values))
    return mapping.get(values, values) if isinstance(values, str) else values


def _apply(steps: list[Any], data: dict[str, Any], ctx: EvalContext) -> dict[str, Any]:
    out = {k: ([dict(r) for r in v] if isinstance(v, list) and v and isinstance(v[0], dict) else v)
           for k, v in data.items()}
    for step in steps:
        if isinstance(step, Rename):
            _rename(out, step.source, step.target)
        elif isinstance(step, MergeOptions):
            if step.field in out:
                out[step.field] = _options(out[step.field], dict.fromkeys(step.source, step.target))
        elif isinstance(step, SplitOption):
            if step.field in out:
                target = step.target[0]
                if step.choose:
                    chosen = compile_expr(step.choose).evaluate(data, ctx)
                    target = chosen if chosen in step.target else target
                out[step.field] = _options(out[step.field], {step.source: target})
        elif isinstance(step, SetDefault):
            if out.get(step.field) in (None, "", []):
                out[step.field] = compile_expr(step.expr).evaluate(data, ctx) if step.expr else step.value
        elif isinstance(step, Drop):
            out.pop(step.field, None)
    return out


def _rename(data: dict[str, Any], source: str, target: str) -> None:
    if "." in source:
        table, column = source.split(".", 1)
        new_column = target.split(".", 1)[-1]
        for row in data.get(table) or ():
            if column in row:
                row[new_column] = row.pop(column)
    elif source in data:
        data[target] = data.pop(source)


def _old_records(session: Session, form: str, version: int, batch: int = 500) -> Iterator[Record]:
    after = 0
    while True:
        rows = list(session.execute(
            select(Record).where(Record.form == form, Record.form_version < version, Record.id > after)
            .order_by(Record.id).limit(batch)).scalars())
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def migrate_records(session: Session, actor: Actor, form: str, steps: Any, *, events: EventSink,
                    dry_run: bool = True, ctx: EvalContext | None = None) -> MigrationReport:
    """Apply `steps` to every record of `form` older than its current version, then validate
    each against the current version. Dry run: report only. Otherwise: refuse everything if any
    record would be invalid (InvalidInput listing them), else write them all."""
    parsed = parse_steps(steps)
    ctx = ctx or EvalContext()
    target: CompiledForm = FormCatalog(session).current(form)
    report = MigrationReport(form=form, to_version=target.version, dry_run=dry_run)
    pending: list[tuple[Record, dict[str, Any], list[str]]] = []
    for row in _old_records(session, form, target.version):
        report.examined += 1
        try:
            moved = _apply(parsed, dict(row.data or {}), ctx)
        except ExprError as error:
            outcome = RecordOutcome(row.id, row.form_version, [], list(error.problems))
            report.invalid += 1
            report.records.append(outcome)
            continue
        prepared = prepare(target, {}, before=moved, eval_ctx=ctx)
        final = prepared.data
        changed = sorted(k for k in set(final) | set(row.data or {}) if final.get(k) != (row.data or {}).get(k))
        outcome = RecordOutcome(row.id, row.form_version, changed, prepared.problems)
        if prepared.problems:
            report.invalid += 1
        if changed or prepared.problems:
            report.records.append(outcome)
        report.changed += 1 if changed else 0
        pending.append((row, final, changed))
    if dry_run:
        return report
    if report.invalid:
        problems = [p.located(path=f"#{r.id}.{p.path}" if p.path else f"#{r.id}")
                    for r in report.records for p in r.problems]
        raise InvalidInput("migration.refused", problems=problems)
    for row, final, changed in pending:
        before = dict(row.data or {})
        row.data = final
        row.form_version = target.version
        row.search_text = search_text(target, final)
        changes = {k: [before.get(k), final.get(k)] for k in changed}
        seq = audit.append(session, actor, "record.migrate", "record", row.id,
                           {"form": form, "to_version": target.version, "changed": changes})
        if changed:
            events.emit(Event(RECORD_UPDATED, subject=form, record_id=row.id, data=dict(final),
                              changed=tuple(changed), before={k: before.get(k) for k in changed},
                              actor_id=actor.id, meta={"migration": target.version, **write_meta(seq)}))
    session.flush()
    report.applied = True
    return report


i18n.register_messages(
    {
        "migration.invalid": {"zh-CN": "迁移步骤有 {count} 处错误", "en": "The migration steps have {count} error(s)"},
        "migration.refused": {"zh-CN": "迁移后有记录不合规（{count} 处问题），未做任何修改",
                              "en": "Some records would be invalid after the migration ({count} problem(s)); "
                                    "nothing was changed"},
        "form.key_mismatch": {"zh-CN": "定义的 key 是“{key}”，应为“{expected}”",
                              "en": "The definition's key is “{key}”, expected “{expected}”"},
    }
)
