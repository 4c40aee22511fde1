"""A small plant for rule tests: forms (area, hazard, inspection, certificate, gas holder), people
with roles, the emergency flow, templates, and a driver that feeds events and moves the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.forms.publishing import publish as publish_form
from engine.forms.records import RecordService
from engine.runtime import rules as rules_runtime
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository
from engine.store.models import OutboxMessage, RuleFiring
from tests.helpers import make_user

ADMIN = Actor.system("test")
# Monday 2026-11-23 08:00 in Shanghai.
T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _choice(key: str, values: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "select", "key": key, "label": _label(key, key),
            "options": [{"value": v, "label": _label(v, v)} for v in values], **extra}


FORMS: list[dict[str, Any]] = [
    {"key": "area", "title": _label("区域", "Area"), "fields": [
        {"type": "text", "key": "name", "label": _label("名称", "Name")},
        _choice("inspection_frequency", ["monthly", "biweekly"], default="monthly"),
        {"type": "user", "key": "supervisor", "label": _label("负责人", "Supervisor")}]},
    {"key": "hazard", "title": _label("隐患", "Hazard"), "fields": [
        {"type": "text", "key": "title", "label": _label("描述", "Title")},
        {"type": "relation", "key": "area", "form": "area", "label": _label("区域", "Area"), "indexed": True},
        {"type": "text", "key": "category", "label": _label("类别", "Category"), "indexed": True},
        _choice("state", ["open", "closed"], default="open"),
        _choice("risk_level", ["general", "major"], default="general")]},
    {"key": "inspection", "title": _label("检查", "Inspection"), "fields": [
        {"type": "relation", "key": "area", "form": "area", "label": _label("区域", "Area")},
        {"type": "datetime", "key": "due_at", "label": _label("应检时间", "Due")},
        _choice("result", ["done", "missed"])]},
    {"key": "certificate", "title": _label("证书", "Certificate"), "fields": [
        {"type": "text", "key": "kind", "label": _label("类型", "Kind")},
        {"type": "user", "key": "holder", "label": _label("持证人", "Holder")},
        {"type": "date", "key": "expires_on", "label": _label("有效期至", "Expires on")}]},
    {"key": "gas_holder", "title": _label("气柜", "Gas holder"), "fields": [
        {"type": "text", "key": "code", "label": _label("编号", "Code")},
        {"type": "number", "key": "threshold", "label": _label("压力上限", "Max pressure")}]},
]

EMERGENCY_FLOW = {"key": "emergency_response", "nodes": [
    {"id": "start", "type": "start"},
    {"id": "respond", "type": "fill", "assignee": "initiator"},
    {"id": "end", "type": "end"}],
    "edges": [{"from": "start", "to": "respond"}, {"from": "respond", "to": "end"}]}

TEMPLATES = {
    "cert_expiring": {"subject": {"zh": "证书即将到期：{{ c.kind }}", "en": "Certificate expiring: {{ c.kind }}"},
                      "body": {"zh": "{{ c.expires_on }} 到期，请及时复审", "en": "Expires on {{ c.expires_on }}"}},
}

SAFETY_RULES = '''
# 1. More than 5 hazards of one category in one area within 7 days.
rule "hazard_cluster" priority 10
  when hazard created as h
  if count(hazard where area == h.area and category == h.category, within 7d) > 5
  then
    raise alert "hazard_cluster" level high
      to role("plant_manager"), role("safety_director") via inapp, email
    update record set risk_level = "major"
  dedupe by h.area, h.category for 7d
end

# 2. Three consecutive gas-holder readings over that holder's threshold.
rule "gas_holder_overpressure" priority 100
  when reading "gas_holder_pressure" as r
  if consecutive(3, readings where metric == r.metric and source == r.source,
                 value > max(gas_holder.threshold where code == r.source), order by at)
  then
    raise alert "gas_holder_overpressure" level highest to role("shift_lead") via inapp, sms
    start flow "emergency_response"
  dedupe by r.source for 30min
end

# 3. A special-operation certificate expiring within 30 days: once per certificate.
rule "certificate_expiring"
  when daily at "08:00"
  for each certificate as c where c.kind == "special_operation"
  if c.expires_on >= today() and c.expires_on <= today() + 30d
  then notify c.holder, manager(c.holder) via inapp template "cert_expiring"
  dedupe by c.id, c.expires_on for 60d
end

# 4. Two missed inspections in a row, or a hazard open for more than 24 hours.
rule "area_needs_attention"
  when every 1h
  for each area as a
  if consecutive(2, inspection where area == a.id, result == "missed", order by due_at)
     or exists(hazard where area == a.id and state == "open" and now() - created_at > 24h)
  then escalate to a.supervisor cc role("ehs_lead") via inapp
  dedupe by a.id for 24h
end

# 5a. Two hazards of one kind in an area: inspect every two weeks.
rule "tighten_inspections"
  when hazard created as h
  if count(hazard where area == h.area and category == h.category, within 90d) >= 2
  then update h.area set inspection_frequency = "biweekly"
end

# 5b. Three months without a hazard: back to monthly.
rule "relax_inspections"
  when daily at "06:00"
  for each area as a where a.inspection_frequency == "biweekly"
  if not exists(hazard where area == a.id, within 3mo)
  then update a.id set inspection_frequency = "monthly"
end
'''


class Plant:
    """Drives a wired site with a manual clock: create/update records, readings, time."""

    def __init__(self, site: Site, clock: ManualClock) -> None:
        self.site = site
        self.clock = clock
        self.users = {name: make_user(site, name, roles=roles) for name, roles in (
            ("wang", ("plant_manager",)), ("li", ("safety_director",)), ("zhao", ("ehs_lead",)),
            ("zhou", ("shift_lead",)), ("sun", ()), ("qian", ()))}
        with site.session() as session:
            from engine.store.models.identity import User

            session.get(User, self.users["qian"]).manager_id = self.users["sun"]
            for body in FORMS:
                publish_form(session, ADMIN, body["key"], body)
            repo = DefinitionRepository(session)
            repo.publish(ADMIN, "flow", EMERGENCY_FLOW["key"], EMERGENCY_FLOW)
            for key, body in TEMPLATES.items():
                repo.publish(ADMIN, "template", key, body)

    def publish_rules(self, text: str = SAFETY_RULES, key: str = "safety") -> int:
        with self.site.session() as session:
            version = rules_runtime.publish(session, self.site, ADMIN, key, text)
        self.site.drain()
        return version

    def create(self, form: str, **data: Any) -> int:
        with self.site.session() as session:
            service = RecordService(session, self.site.events(session), tz=self.site.settings.tz, clock=self.clock)
            new_id = service.create(form, _plain(data), actor=ADMIN).id
        self.site.drain()
        return new_id

    def update(self, form: str, record_id: int, **data: Any) -> None:
        with self.site.session() as session:
            service = RecordService(session, self.site.events(session), tz=self.site.settings.tz, clock=self.clock)
            service.update(form, record_id, _plain(data), actor=ADMIN)
        self.site.drain()

    def read(self, form: str, record_id: int) -> dict[str, Any]:
        from engine.store.models import Record

        with self.site.session() as session:
            return dict(session.get(Record, record_id).data)

    def reading(self, source: str, value: float, metric: str = "gas_holder_pressure") -> None:
        from engine.runtime.ingest import ingest_readings

        with self.site.session() as session:
            ingest_readings(session, self.site, [{"metric": metric, "source": source, "value": value,
                                                  "at": self.clock.now()}])
        self.clock.advance(timedelta(seconds=10))
        self.site.drain()

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.site.drain()

    def firings(self, rule: str, outcome: str | None = "fired") -> list[RuleFiring]:
        with self.site.session() as session:
            query = select(RuleFiring).where(RuleFiring.rule == rule).order_by(RuleFiring.id)
            if outcome is not None:
                query = query.where(RuleFiring.outcome == outcome)
            return list(session.execute(query).scalars())

    def messages(self, channel: str | None = None) -> list[tuple[str, int | None, str]]:
        """(channel, user id, subject) of every outbox message, in order."""
        with self.site.session() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if channel:
                query = query.where(OutboxMessage.channel == channel)
            return [(m.channel, m.user_id, m.subject) for m in session.execute(query).scalars()]


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in data.items()}
