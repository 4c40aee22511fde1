"""`safeflow rules test`: rules against a stream of events in a scratch database, printing the
actions they would take. Nothing is ever sent.

The scratch site is a real site (the same record service, windows, schedules, flows), so what
it prints is what production would do — with three guards against the classic dry run that
fires real side effects: the site is marked `dry_run` (every notification and webhook is
written as `suppressed`), its delivery pump is off, and its database is a temporary file that
is deleted afterwards.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine import i18n
from engine.config import Settings
from engine.errors import InvalidInput, Problem
from engine.forms.publishing import publish as publish_form
from engine.forms.records import RecordService
from engine.rules.syntax import to_timedelta
from engine.runtime import rules as rules_runtime
from engine.runtime.bootstrap import wire
from engine.runtime.ingest import ingest_readings
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository
from engine.store.models import Record, RuleFiring

ACTOR = Actor.system("dry-run")
# The kinds of definition a scratch site is loaded with (rules are what is being tried).
LOADED = ("dictionary", "form", "flow", "template")


@dataclass(frozen=True)
class Definitions:
    """What the scratch database is loaded with: (kind, key, body) of forms, flows, templates,
    and for a pack the roles and sample organisations (seed/org.csv) it and its dependencies
    ship, so records that name people and departments can be written and roles resolve."""

    items: list[tuple[str, str, Any]]
    roles: list[dict[str, Any]] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)

    @classmethod
    def from_pack(cls, root: Path) -> Definitions:
        from engine.runtime.packs import load_pack

        source = load_pack(root)
        if any(p.severity == "error" for p in source.problems):
            raise InvalidInput(problems=source.problems)
        return cls.of_source(source)

    @classmethod
    def of_source(cls, source: Any) -> Definitions:
        """A loaded pack's forms, flows, dictionaries and templates, after those of the bundled
        packs it depends on (a hazards rule reads the base pack's areas)."""
        from engine.runtime.packs.library import install_order

        found = cls([])
        for pack in install_order(source, set()):
            found.items.extend((d.kind, d.key, d.body) for d in pack.ordered() if d.kind in LOADED)
            found.roles.extend(pack.roles())
            if "seed/org.csv" in pack.files:
                found.orgs.append(pack.files["seed/org.csv"])
        return found

    @classmethod
    def installed(cls, site: Site) -> Definitions:
        with site.session(readonly=True) as session:
            repo = DefinitionRepository(session)
            items = []
            for kind in LOADED:
                for key in repo.keys(kind, include_drafts=False):
                    row = repo.current(kind, key)
                    if row is not None:
                        items.append((kind, key, row.body))
        return cls(items)


def read_events(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, event) for each non-blank line; every bad line is reported at once."""
    events, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not ({"create", "update", "reading", "advance", "clock"} & item.keys()):
                raise ValueError("kind")
            events.append((number, item))
        except ValueError:
            problems.append(Problem("rules.bad_event", file=str(path), line=number))
    if problems:
        raise InvalidInput(problems=problems)
    return events


class EventRefused(InvalidInput):
    """An event line was refused (the record it writes is invalid, an unknown alias …): the rules
    were fine, so the problems belong to that line, not to the rules."""

    def __init__(self, line: int, cause: InvalidInput) -> None:
        super().__init__("rules.event_refused", problems=[p.located(line=line) for p in cause.problems],
                         line=line)
        self.line = line


def dry_run(rules_text: str, events: Iterable[tuple[int, Mapping[str, Any]]], definitions: Definitions, *,
            rules_file: str = "rules", start: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Yield `{"rule", "event", "action", "to", "detail"}` for every action, in order. A first
    `{"clock": ISO}` line starts the clock there, before schedules are armed, so a test about
    deadlines reads the same on whatever day it runs."""
    events = list(events)
    if events and "clock" in events[0][1]:
        start = datetime.fromisoformat(str(events[0][1]["clock"]))
    with tempfile.TemporaryDirectory(prefix="safeflow-dry-run-") as scratch:
        settings = Settings(data_dir=Path(scratch), database_url=f"sqlite:///{scratch}/dry-run.sqlite3",
                            broker_url="", smtp_host="", sms_gateway_url="", dingtalk_webhook="", wecom_webhook="")
        clock = ManualClock(start or datetime.now(UTC).replace(microsecond=0))
        site = Site(settings, clock=clock)
        site.dry_run = True
        wire(site)
        site.migrate()
        try:
            yield from _run(site, clock, rules_text, events, definitions, rules_file)
        finally:
            site.db.dispose()


def _run(site: Site, clock: ManualClock, rules_text: str, events: Iterable[tuple[int, Mapping[str, Any]]],
         definitions: Definitions, rules_file: str) -> Iterator[dict[str, Any]]:
    _load_org(site, definitions)
    with site.session() as session:
        repo = DefinitionRepository(session)
        for kind, key, body in definitions.items:  # drafts first: forms may relate to each other (or to themselves)
            if kind == "form":
                repo.save_draft(ACTOR, kind, key, body)
        for kind, key, body in definitions.items:
            if kind == "form":
                publish_form(session, ACTOR, key, body)
            else:
                repo.publish(ACTOR, kind, key, body)
    with site.session() as session:
        rules_runtime.publish(session, site, ACTOR, Path(rules_file).stem, rules_text)
    site.drain()
    aliases: dict[str, int] = {}
    seen = 0
    for index, (line, event) in enumerate(events, start=1):
        try:
            _apply(site, clock, event, aliases)
        except InvalidInput as exc:
            raise EventRefused(line, exc) from exc
        site.drain()
        with site.session(readonly=True) as session:
            rows = session.execute(select(RuleFiring).where(RuleFiring.id > seen, RuleFiring.outcome.in_(
                ("fired", "else"))).order_by(RuleFiring.id)).scalars().all()
            latest = session.execute(select(RuleFiring.id).order_by(RuleFiring.id.desc()).limit(1)).scalar()
        seen = latest or seen
        for firing in rows:
            for action in firing.actions or []:
                yield {"rule": firing.rule, "event": index, "action": action["kind"], "to": action["to"],
                       "detail": action["detail"]}


def _load_org(site: Site, definitions: Definitions) -> None:
    from engine.identity import org
    from engine.identity.orgimport import import_org

    with site.session() as session:
        for role in definitions.roles:
            org.ensure_role(session, ACTOR, role["key"], role.get("name") or {"zh": role["key"], "en": role["key"]})
    for number, text in enumerate(definitions.orgs):
        path = site.settings.data_dir / f"org-{number}.csv"
        path.write_text(text, encoding="utf-8")
        with site.session() as session:
            import_org(session, ACTOR, path)


def _apply(site: Site, clock: ManualClock, event: Mapping[str, Any], aliases: dict[str, int]) -> None:
    if "advance" in event:
        clock.advance(to_timedelta(str(event["advance"])))
        return
    if "clock" in event:
        clock.set(datetime.fromisoformat(str(event["clock"])))
        return
    if "reading" in event:
        at = datetime.fromisoformat(event["at"]) if event.get("at") else clock.now()
        if at > clock.now():
            clock.set(at)
        with site.session() as session:
            ingest_readings(session, site, [{"metric": event["reading"], "source": str(event.get("source", "")),
                                             "value": event.get("value"), "at": at}])
        return
    with site.session() as session:
        service = RecordService(session, site.events(session), tz=site.settings.tz, clock=clock)
        data = dict(event.get("data") or {})
        for key, count in dict(event.get("files") or {}).items():  # {"photos": 2}: placeholder images
            data[key] = [_placeholder_image(session, site) for _ in range(int(count))]
        if "create" in event:
            view = service.create(str(event["create"]), data, actor=ACTOR)
            if event.get("as"):
                aliases[str(event["as"])] = view.id
        else:
            target = event["update"]
            if isinstance(target, str) and target in aliases:
                record_id: int | None = aliases[target]
            else:
                record_id = int(target) if isinstance(target, int) or str(target).isdigit() else None
            row = session.get(Record, record_id) if record_id is not None else None
            if row is None:
                raise InvalidInput(problems=[Problem("rules.bad_alias", {"alias": str(target)})])
            service.update(row.form, record_id, data, actor=ACTOR)


def _placeholder_image(session: Any, site: Site) -> int:
    """A small PNG stored like an upload, for image fields a rule test's records need."""
    import io

    from PIL import Image

    from engine.forms.files import UploadRules, store_upload

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (180, 180, 180)).save(buffer, "PNG")
    buffer.seek(0)
    return store_upload(session, site.settings.files_dir, buffer, filename="placeholder.png",
                        rules=UploadRules(("png",), 1 << 20), created_by=None).id


i18n.register_messages({
    "rules.bad_event": {"zh-CN": "事件行须为 JSON 对象，含 create、update、reading 或 advance 之一",
                        "en": "An event line must be a JSON object with one of create, update, reading, advance"},
    "rules.bad_alias": {"zh-CN": "未知的记录别名 “{alias}”", "en": "Unknown record alias '{alias}'"},
    "rules.event_refused": {"zh-CN": "第 {line} 行的事件被拒绝（{count} 处问题）",
                            "en": "The event on line {line} was refused ({count} problem(s))"},
})
