"""The rule engine's wiring: the rule book in effect, event listeners, schedules on durable
timers, the effects of actions, and stored firings.

Rules are versioned definitions (kind `rule`, body = the DSL text of one .rules file). Each
evaluation loads the stamps of the published versions (one small query) and takes the compiled
book for them from a cache, so publishing takes effect on the next event without a restart,
while an evaluation already running finishes on the book it started with.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.events import Event
from engine.expr import EvalContext
from engine.forms.catalog import FormCatalog
from engine.forms.dictionary import DictionaryLookup
from engine.forms.files import file_rows
from engine.forms.records import RecordService
from engine.forms.site_calendar import calendar_loader
from engine.rules import model as m
from engine.rules.compile import CompiledRule, Environment, compile_rules
from engine.rules.engine import Firing, RuleBook, RuleRunner
from engine.rules.schedules import next_run
from engine.rules.syntax import parse_rules
from engine.runtime.notify.templates import exists as template_exists
from engine.runtime.notify.templates import register_template
from engine.runtime.site import Site
from engine.services import Notification
from engine.store import firings as firing_store
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository, published_generation
from engine.store.models import Definition, Record, StoredFile, Timer
from engine.store.records import column_for
from engine.store.timers import DueTimer
from engine.store.windows import READINGS, SqlWindows, ensure_window_index, equality_fields

log = logging.getLogger("safeflow.rules")

RULE_KIND = "rule"
SCHEDULE_KIND = "rule.schedule"
RULES_ACTOR = Actor.system("rules")
_LOCK = threading.Lock()
_COMPILED: dict[tuple[str, int, str], list[CompiledRule]] = {}
_BOOKS: dict[tuple[Any, ...], RuleBook] = {}


# --- environment and the book ---------------------------------------------------------------

def environment(session: Session) -> Environment:
    catalog = FormCatalog(session)
    repo = DefinitionRepository(session)

    def form_schema(key: str) -> Any:
        definition = catalog.definition(key)
        return definition.expr_schema() if definition is not None else None

    return Environment(form_schema=form_schema, form_keys=lambda: repo.keys("form"),
                       flow_exists=lambda key: repo.current("flow", key) is not None,
                       template_exists=lambda key: template_exists(session, key))


def check_text(session: Session, text: str, *, ruleset: str = "", version: int = 0,
               file: str | None = None) -> tuple[list[CompiledRule], list[Problem]]:
    rules, problems = parse_rules(text, file)
    compiled, more = compile_rules(rules, environment(session), ruleset=ruleset, version=version, file=file)
    return compiled, problems + more


_BOOK_OF_TRANSACTION = "safeflow_rule_book"


def load_book(session: Session) -> RuleBook:
    """The rules in effect, compiled once per set of published versions and looked up once per
    transaction (a batch of events shares one lookup; a publish in the transaction is seen)."""
    transaction = session.get_transaction()
    cached = session.info.get(_BOOK_OF_TRANSACTION)
    if cached is not None and transaction is not None and cached[0] is transaction \
            and cached[1] == published_generation(session):
        return cached[2]
    book = _load_book(session)
    session.info[_BOOK_OF_TRANSACTION] = (session.get_transaction(), published_generation(session), book)
    return book


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_book(session: Session, _previous: Any) -> None:
    # A rolled-back savepoint may have undone a publish the cached book reflects.
    session.info.pop(_BOOK_OF_TRANSACTION, None)


def _load_book(session: Session) -> RuleBook:
    stamps = session.execute(
        select(Definition.key, Definition.version, Definition.checksum)
        .where(Definition.kind == RULE_KIND, Definition.status == "published").order_by(Definition.key)
    ).all()
    book_key = tuple((s.key, s.version, s.checksum) for s in stamps)
    with _LOCK:
        found = _BOOKS.get(book_key)
    if found is not None:
        return found
    rules: list[CompiledRule] = []
    for key, version, checksum in book_key:
        cache_key = (key, version, checksum)
        with _LOCK:
            compiled = _COMPILED.get(cache_key)
        if compiled is None:
            body = DefinitionRepository(session).require(RULE_KIND, key, version).body
            compiled, problems = check_text(session, str(body), ruleset=key, version=version, file=f"{key}.rules")
            broken = {p.line for p in problems if p.severity == "error"}
            if broken:
                log.error("rule set %s v%s has problems; its broken rules are skipped: %s", key, version,
                          "; ".join(p.format("en") for p in problems))
                compiled = [c for c in compiled if not _has_problem(c, problems)]
            with _LOCK:
                _COMPILED[cache_key] = compiled
        rules.extend(compiled)
    book = RuleBook(rules, stamp=book_key)
    with _LOCK:
        _BOOKS.clear()
        _BOOKS[book_key] = book
    return book


def _has_problem(rule: CompiledRule, problems: list[Problem]) -> bool:
    end = rule.rule.line + rule.rule.source.count("\n")
    return any(p.line is not None and rule.rule.line <= p.line <= end for p in problems)


# --- effects ----------------------------------------------------------------------------------

class SiteEffects:
    """Rule actions against the site, in the trigger's transaction."""

    def __init__(self, session: Session, site: Site) -> None:
        self.session = session
        self.site = site
        self.notifier = site.notifier(session, suppress=site.dry_run)
        self.records = RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)

    def notify(self, notification: Notification) -> str:
        queued = self.notifier.notify(notification)
        states: dict[str, int] = {}
        for q in queued:
            states[q.status] = states.get(q.status, 0) + 1
        return ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no recipients"

    def create_record(self, form: str, values: Mapping[str, Any], source: Mapping[str, Any]) -> int:
        """A record a rule makes from another (a failed inspection item → a hazard) belongs to
        the same person and department, so the people who could see the cause see the effect
        under their department scope; a record made from a reading or a schedule has no owner.
        The rule may name them instead (`set owner_id = …, department_id = …`): an inspection a
        schedule creates belongs to its inspector and the area's department, not the schedule's."""
        owner = department = None
        cause = source.get("record")
        if isinstance(cause, int):
            row = self.session.get(Record, cause)
            if row is not None:
                owner, department = row.owner_id, row.department_id
        data = dict(values)
        named_owner, named_department = data.pop("owner_id", None), data.pop("department_id", None)
        return self.records.create(form, self._own_files(form, data), actor=RULES_ACTOR,
                                   owner_id=_as_id(named_owner) or owner,
                                   department_id=_as_id(named_department) or department).id

    def _own_files(self, form: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """A record made from another keeps its evidence: a file the values name that already
        belongs to a record (an inspection item's photo becoming the hazard's) is copied — a new
        file row over the same stored blob — since a file belongs to one record only."""
        out = dict(values)
        definition = self.records.catalog.current(form).definition
        for item in definition.value_fields():
            refs = [ref for kind, ref in item.references(out.get(item.key)) if kind == "file"]
            if not refs:
                continue
            copies = {}
            for row in file_rows(self.session, refs).values():
                if row.record_id is None:
                    continue
                copy = StoredFile(sha256=row.sha256, size=row.size, content_type=row.content_type,
                                  filename=row.filename, form=form, created_by=row.created_by)
                self.session.add(copy)
                self.session.flush()
                copies[row.id] = copy.id
            if copies:
                value = out[item.key]
                out[item.key] = ([copies.get(v, v) for v in value] if isinstance(value, list)
                                 else copies.get(value, value))
        return out

    def update_record(self, record_id: int, values: Mapping[str, Any], source: Mapping[str, Any]) -> str:
        row = self.session.get(Record, record_id)
        if row is None or row.deleted_at is not None:
            return f"skipped: record {record_id} not found"
        view = self.records.update(row.form, record_id, values, actor=RULES_ACTOR)
        return f"updated {row.form} #{record_id}" if view.changed else "unchanged"

    def start_flow(self, flow: str, record_id: int | None, data: Mapping[str, Any],
                   source: Mapping[str, Any]) -> str:
        from engine.runtime.flows import flow_engine

        row = self.session.get(Record, record_id) if record_id is not None else None
        initiator = (row.owner_id if row is not None else None) or next(iter(self.site.directory(
            self.session).admins()), 0)
        instance = flow_engine(self.session, self.site).start(flow, dict(row.data) if row is not None else dict(data),
                                                              initiator, record_id=record_id)
        return f"started {flow} #{instance.id}"

    def raise_alert(self, name: str, level: str, notification: Notification | None,
                    source: Mapping[str, Any]) -> str:
        self.site.events(self.session).emit(Event(kind="rule.alert_raised", subject=name, at=self.site.clock.now(),
                                                  data={"alert": name, "level": level}, meta=dict(source)))
        return self.notify(notification) if notification is not None else "raised"

    def call_webhook(self, url: str, body: Mapping[str, Any], source: Mapping[str, Any]) -> str:
        return self.notifier.call_webhook(url, body, source=source).status


def _as_id(value: Any) -> int | None:
    """A person or department a rule names: an id (a user/department field's value) or nothing."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


class FlowAutomation:
    """The flow engine's `Automation` port (automation nodes) on the same effects rule actions
    use: `flow_engine(session, site, automation=FlowAutomation(session, site))`."""

    def __init__(self, session: Session, site: Site) -> None:
        self.effects = SiteEffects(session, site)

    def create_record(self, form: str, values: Mapping[str, Any], source: Mapping[str, Any]) -> None:
        self.effects.create_record(form, values, source)

    def call_webhook(self, url: str, method: str, body: Mapping[str, Any] | None, source: Mapping[str, Any]) -> None:
        self.effects.notifier.call_webhook(url, body, method=method, source=source)


# --- running ----------------------------------------------------------------------------------

def runner(session: Session, site: Site) -> RuleRunner:
    catalog = FormCatalog(session)
    columns: dict[str, Any] = {}

    def column_for_form(form: str) -> Any:
        if form not in columns:
            definition = catalog.definition(form)
            columns[form] = column_for(definition.sql_kinds() if definition is not None else {})
        return columns[form]

    ctx = EvalContext(now=site.clock.now(), tz=site.settings.tz, data_source=SqlWindows(session, column_for_form),
                      lookup=DictionaryLookup(session), calendar_loader=calendar_loader(session, site.settings.tz))
    return RuleRunner(SiteEffects(session, site), ctx, SqlDedupe(session))


class SqlDedupe:
    def __init__(self, session: Session) -> None:
        self.session = session

    def active(self, key: str, now: Any) -> bool:
        return firing_store.dedupe_active(self.session, key, now)

    def mark(self, key: str, rule: str, until: Any, now: Any) -> None:
        firing_store.dedupe_mark(self.session, key, rule, until, now)


def _store(session: Session, firing: Firing) -> None:
    firing_store.record(
        session, rule=firing.rule, ruleset=firing.ruleset, version=firing.version, trigger=firing.trigger,
        subject=firing.subject, record_id=firing.record_id, outcome=firing.outcome, fired=firing.fired,
        event=firing.event_summary(), conditions=[firing.conditions] if firing.conditions else [],
        actions=[a.to_dict() for a in firing.actions], dedupe_key=firing.dedupe_key, error=firing.error,
        at=firing.at)


def _guarded(session: Session, run: Any) -> Firing:
    """One rule's evaluation in a savepoint: a failing action undoes that rule's effects only."""
    savepoint = session.begin_nested()
    firing: Firing = run()
    if firing.outcome == "failed":
        savepoint.rollback()
    else:
        savepoint.commit()
    _store(session, firing)
    return firing


def on_event(session: Session, event: Event, site: Site) -> None:
    book = load_book(session)
    rules = book.for_event(event)
    if not rules:
        return
    run = runner(session, site)
    for rule in rules:
        if rule.rule.foreach is None:
            _guarded(session, lambda rule=rule: run.evaluate_event(rule, event))
            continue
        # `for each` on an event: once per matching row (a confirmed major hazard → every risk
        # point of its area), each in its own savepoint like a schedule's sweep.
        _each_for_event(session, run, rule, event)


def _each_for_event(session: Session, run: RuleRunner, rule: CompiledRule, event: Event) -> None:
    assert rule.rule.foreach is not None
    form = rule.rule.foreach.form
    for record_id, data, variables in run.each_row(rule, _rows(session, form), run.event_variables(rule, event)):
        _guarded(session, lambda data=data, variables=variables, record_id=record_id: run.evaluate(
            rule, data, variables, record_id=record_id, trigger=event.kind, subject=form, event=event))


def wants(session: Session, event: Event, site: Site) -> bool:
    """Only events some rule in effect listens to are queued for the rule engine."""
    return bool(load_book(session).for_event(event))


def _rows(session: Session, form: str) -> Iterator[tuple[int, dict[str, Any]]]:
    query = (select(Record.id, Record.data, Record.created_at).where(Record.form == form, Record.deleted_at.is_(None))
             .order_by(Record.id).execution_options(yield_per=500))
    for row in session.execute(query):
        yield row.id, {**(row.data or {}), "created_at": row.created_at}


def on_schedule(session: Session, timer: DueTimer, site: Site) -> None:
    book = load_book(session)
    rule = book.by_name.get(timer.payload.get("rule", ""))
    if rule is None or not isinstance(rule.rule.trigger, m.ScheduleTrigger):
        return  # retired or no longer scheduled: not re-armed
    run = runner(session, site)
    if rule.rule.foreach is None:
        _guarded(session, lambda: run.sweep(rule, [])[0])
    else:
        form = rule.rule.foreach.form
        for record_id, data, variables in run.each_row(rule, _rows(session, form)):
            _guarded(session, lambda data=data, variables=variables, record_id=record_id: run.evaluate(
                rule, data, variables, record_id=record_id, trigger="schedule", subject=form, event=None))
    _arm(session, site, rule, after=site.clock.now())


def _timer_key(rule: CompiledRule) -> str:
    return f"rule:{rule.name}"


def _arm(session: Session, site: Site, rule: CompiledRule, *, after: Any) -> None:
    trigger = rule.rule.trigger
    assert isinstance(trigger, m.ScheduleTrigger)
    due = next_run(trigger, after, site.settings.tz)
    site.timers(session).schedule(SCHEDULE_KIND, due, {"rule": rule.name, "ruleset": rule.ruleset,
                                                       "version": rule.version, "spec": trigger.describe()},
                                  key=_timer_key(rule))


def sync_schedules(session: Session, site: Site) -> None:
    """One pending timer per scheduled rule in effect; re-armed when its schedule changed,
    cancelled when the rule is gone."""
    book = load_book(session)
    wanted = {_timer_key(r): r for r in book.scheduled()}
    existing = {t.key: t for t in session.execute(
        select(Timer).where(Timer.kind == SCHEDULE_KIND, Timer.status.in_(("pending", "running")))).scalars()}
    for key, timer in existing.items():
        if key not in wanted and timer.status == "pending":
            timer.status = "cancelled"
    for key, rule in wanted.items():
        trigger = rule.rule.trigger
        assert isinstance(trigger, m.ScheduleTrigger)
        timer = existing.get(key)
        if timer is None or (timer.status == "pending" and timer.payload.get("spec") != trigger.describe()):
            _arm(session, site, rule, after=site.clock.now())


def ensure_indexes(session: Session, rules: list[CompiledRule]) -> list[str]:
    """The composite index each windowed aggregate of these rules needs (see store.windows)."""
    catalog = FormCatalog(session)
    names = []
    for rule in rules:
        scope_names = {"record", *rule.schema.variables}
        for compiled in [rule.condition, *[a for a in [rule.foreach_where] if a]]:
            for aggregate in compiled.aggregates if compiled is not None else ():
                if aggregate.form == READINGS or aggregate.within is None:
                    continue
                definition = catalog.definition(aggregate.form)
                if definition is None:
                    continue
                kinds = definition.sql_kinds()
                fields = [(f, kinds[f]) for f in equality_fields(aggregate.where, scope_names) if kinds.get(f)]
                names.append(ensure_window_index(session, aggregate.form, fields))
    return names


def publish(session: Session, site: Site, actor: Actor, key: str, text: str, *, pack: str | None = None) -> int:
    """Check, publish as the next version, create window indexes, re-arm schedules."""
    compiled, problems = check_text(session, text, ruleset=key, file=f"{key}.rules")
    if any(p.severity == "error" for p in problems):
        raise InvalidInput("rules.invalid", problems=problems)
    published = DefinitionRepository(session).publish(actor, RULE_KIND, key, text, pack=pack)
    ensure_indexes(session, compiled)
    session.flush()
    sync_schedules(session, site)
    return published.version


# --- wiring -----------------------------------------------------------------------------------

def wire_rules(site: Site) -> None:
    for prefix in ("record.", "flow.", "sensor.", "webhook."):
        site.on_event(f"rules:{prefix}", prefix, on_event, interested=wants)
    site.register_timer_handler(SCHEDULE_KIND, on_schedule)
    seen: list[Any] = [None]

    def follow_published(s: Site) -> int:
        """However a rule version got published (API, CLI, pack install), arm its schedules and
        create its window indexes on the next tick: one small query when nothing changed."""
        with s.session() as session:
            book = load_book(session)
            if book.stamp == seen[0]:
                return 0
            ensure_indexes(session, book.rules)
            sync_schedules(session, s)
            seen[0] = book.stamp
        return 0

    site.register_pump("rules.schedules", follow_published)


register_template("rules.notify", {"zh": "规则提醒：{{ rule }}", "en": "Rule notice: {{ rule }}"},
                  {"zh": "规则 {{ rule }} 已触发{% if record_id %}（记录 #{{ record_id }}）{% endif %}",
                   "en": "Rule {{ rule }} fired{% if record_id %} for record #{{ record_id }}{% endif %}"})
register_template("rules.escalate", {"zh": "升级提醒：{{ rule }}", "en": "Escalation: {{ rule }}"},
                  {"zh": "规则 {{ rule }} 升级处理{% if record_id %}（记录 #{{ record_id }}）{% endif %}",
                   "en": "Rule {{ rule }} escalates{% if record_id %} record #{{ record_id }}{% endif %}"})
register_template("rules.alert", {"zh": "【{{ level }}】告警：{{ alert }}", "en": "[{{ level }}] Alert: {{ alert }}"},
                  {"zh": "规则 {{ rule }} 发出告警 {{ alert }}", "en": "Rule {{ rule }} raised {{ alert }}"})

i18n.register_messages({
    "rules.invalid": {"zh-CN": "规则有误，共 {count} 处问题", "en": "The rules have {count} problem(s)"},
})

__all__ = ["load_book", "on_event", "publish", "sync_schedules", "wire_rules"]
