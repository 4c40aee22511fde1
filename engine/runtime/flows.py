"""The flow engine's wiring: an engine per unit of work, and the handler for `flow.*` timers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from engine import i18n
from engine.directory import Delegation
from engine.flows.engine import FlowEngine
from engine.flows.graph import CompiledFlow
from engine.flows.model import FlowDefinition
from engine.flows.persistence import SqlFlowCatalog, SqlFlowStore
from engine.flows.state import FlowInstance
from engine.forms.catalog import FormCatalog
from engine.forms.dictionary import DictionaryLookup
from engine.forms.records import RecordService
from engine.forms.site_calendar import calendar_loader
from engine.runtime.site import Site
from engine.services import Notification
from engine.store.audit import Actor
from engine.store.models import InboxMessage, Record
from engine.store.timers import DueTimer

# Compiled flows per site (a flow version is immutable within one database, not across them).
_COMPILED: WeakKeyDictionary[Site, dict[tuple[str, int], CompiledFlow]] = WeakKeyDictionary()


class InAppNotifier:
    """Delivers flow notifications to users' in-app inboxes in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def notify(self, notification: Notification) -> None:
        context = dict(notification.context)
        title = i18n.message(notification.template, None, **context) if notification.template else ""
        for recipient in notification.to:
            if recipient.kind != "user":
                continue
            self.session.add(InboxMessage(
                user_id=int(recipient.value), title=title, body="",
                link=f"/flows/instances/{context['instance']}" if "instance" in context else None,
                source=dict(notification.source)))


class RecordWriteBack:
    """Keeps the record a flow runs on current: changed fields through the form engine's record
    service (validated, formulas recomputed, audited, `record.updated` emitted) and the flow's
    status in the record's `status` column, all in the step's transaction."""

    def __init__(self, session: Session, site: Site) -> None:
        self.session = session
        self.site = site

    def sync(self, inst: FlowInstance, before: dict[str, Any], before_status: str, actor: int | None) -> None:
        row = self.session.get(Record, inst.record_id)
        if row is None or row.deleted_at is not None:
            return
        changed = {k: v for k, v in inst.data.items() if before.get(k, _ABSENT) != v}
        changed.update({k: None for k in before if k not in inst.data})
        if changed:
            view = self._records().update(row.form, row.id, changed, actor=self._actor(actor))
            inst.data.update(view.data)  # formulas the form recomputed
        if inst.status != before_status:
            row.status = inst.status

    def refresh(self, inst: FlowInstance) -> None:
        """The form's computed values over what a task just submitted, before the token moves
        on: a gateway right after a fill node branches on the new formulas, not the stored ones.
        Nothing is written here (`sync` does that at the end of the step); data the form would
        refuse is left as it is for `sync` to refuse with its located problems."""
        row = self.session.get(Record, inst.record_id)
        if row is None or row.deleted_at is not None:
            return
        prepared = self._records().preview(row.form, inst.data, record_id=row.id)
        if not prepared.problems and not prepared.forbidden:
            inst.data.update(prepared.data)

    def _records(self) -> RecordService:
        return RecordService(self.session, self.site.events(self.session), tz=self.site.settings.tz,
                             clock=self.site.clock)

    def _actor(self, user_id: int | None) -> Actor:
        person = self.site.directory(self.session).person(user_id) if user_id is not None else None
        return Actor(person.id, person.username) if person else Actor.system("flow")


_ABSENT = object()


def form_schema(session: Session) -> Any:
    """The expression schema of a flow's form, so branch conditions and assignee expressions are
    type-checked against the real fields (None: the flow names no form or it is not published)."""
    catalog = FormCatalog(session)

    def schema_for(definition: FlowDefinition) -> Any:
        form = getattr(definition, "form", None)
        found = catalog.definition(form) if form else None
        return found.expr_schema(resolve_form=catalog.definition) if found else None

    return schema_for


def _automation(session: Session, site: Site) -> Any:
    """Automation nodes create records and call webhooks through the same effects rule actions
    use (the record service, the signed-webhook outbox)."""
    from engine.runtime.rules import FlowAutomation  # runtime.rules starts flows: import on use

    return FlowAutomation(session, site)


def flow_engine(session: Session, site: Site, **overrides: Any) -> FlowEngine:
    """A FlowEngine whose every step runs inside `session`'s transaction."""
    notifier_factory = getattr(site, "notifier", None)
    options: dict[str, Any] = {
        "store": SqlFlowStore(session=session, clock=site.clock, timers=site.timers(session)),
        "catalog": SqlFlowCatalog(session),
        "directory": site.directory(session),
        "clock": site.clock,
        "notifier": notifier_factory(session) if callable(notifier_factory) else InAppNotifier(session),
        "events": site.events(session),
        "compiled": _COMPILED.setdefault(site, {}),
        "records": RecordWriteBack(session, site),
        "lookup": DictionaryLookup(session),
        "automation": _automation(session, site),
        "schema_for": form_schema(session),
        "timezone": site.settings.tz,
        "calendar": calendar_loader(session, site.settings.tz),
    }
    options.update(overrides)
    return FlowEngine(**options)


HAND_OVER = "flow.handover"


def schedule_hand_over(session: Session, site: Site, delegation: Delegation) -> None:
    """When an out-of-office delegation starts, move the delegator's open tasks to the substitute.

    Call it where delegations are created (the org API); the timer fires at `starts_at`."""
    payload = {"user": delegation.user_id, "substitute": delegation.substitute_id,
               "from": delegation.starts_at.isoformat(), "to": delegation.ends_at.isoformat(),
               "flows": list(delegation.flows)}
    key = f"flow:handover:{delegation.user_id}:{delegation.substitute_id}:{delegation.starts_at.isoformat()}"
    site.timers(session).schedule(HAND_OVER, delegation.starts_at, payload, key)


def handle_flow_timer(session: Session, timer: DueTimer, site: Site) -> None:
    engine = flow_engine(session, site)
    if timer.kind == HAND_OVER:
        p = timer.payload
        engine.hand_over(Delegation(int(p["user"]), int(p["substitute"]), datetime.fromisoformat(p["from"]),
                                    datetime.fromisoformat(p["to"]), tuple(p.get("flows") or ())))
        return
    engine.on_timer(timer.kind, timer.key, dict(timer.payload))


def wire_flows(site: Site) -> None:
    site.register_timer_handler("flow", handle_flow_timer)
