"""Writing demo data through the real services, in time order.

Every record is created through the record service and every flow step through the flow
engine, on a site whose clock is moved to the moment each thing happens; after each one the
site drains, so rules fire, flows start and timers fall due as they would have. Records get
`created_at` in the past, dashboards see realistic ages, and what has not happened by the end
of the timeline is still open (some of it overdue). Notifications are written as suppressed.
"""

from __future__ import annotations

import heapq
import math
import random
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from engine.errors import NotFound
from engine.expr.types import Schema
from engine.forms import FormDefinition
from engine.forms.catalog import FormCatalog
from engine.forms.records import RecordService
from engine.runtime.demo.paths import DEMO, PathWalker, _Op
from engine.runtime.demo.spec import DemoSpec, parse_duration
from engine.runtime.demo.values import Draw, generate, kind_of, weighted
from engine.runtime.demo.world import SiteWorld
from engine.runtime.flows import flow_engine
from engine.runtime.reports import rebuild_rollups_now
from engine.runtime.rules import SCHEDULE_KIND
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.audit import Actor
from engine.store.models import Record, StoredInstance, Timer

Progress = Callable[[int, int, str], None]


@dataclass
class DemoReport:
    created: Counter[str] = field(default_factory=Counter)
    skipped: int = 0  # fixed rows already there
    steps: int = 0
    open_at_end: int = 0  # flow instances still running when the timeline ended
    passwords_set: int = 0  # sample people given the demo password
    sample_user: str = ""  # one of them, to name in the message


class DemoRun(PathWalker):
    def __init__(self, site: Site, clock: ManualClock, specs: list[DemoSpec], n: int, *, seed: int = 1,
                 until: datetime | None = None, days: int | None = None, fresh_only: bool = False,
                 schedule_step: timedelta = timedelta(hours=6)) -> None:
        self.site, self.clock, self.specs, self.n = site, clock, specs, n
        self.schedule_step = schedule_step
        self._next_sweep: datetime | None = None
        self.days = days
        self.fresh_only = fresh_only  # generate nothing for forms that already hold records
        self.seed = seed
        self.until = until or clock.now()
        self.tz = site.settings.tz
        self.report = DemoReport()
        self._queue: list[_Op] = []
        self._seq = 0
        self._rngs: dict[int, random.Random] = {}
        self._forms: dict[str, FormDefinition | None] = {}
        self._schemas: dict[str, Schema] = {}
        self._world: SiteWorld | None = None  # set by run()
        self._adopted: dict[str, int] = {}  # adopted forms: the last record id looked at
        self._written: set[int] = set()  # records the demo wrote itself

    def rng(self, index: int) -> random.Random:
        """One random source per spec, seeded from --seed and the form: reproducible runs."""
        if index not in self._rngs:
            self._rngs[index] = random.Random(self.seed * 1_000_003 + zlib.crc32(self.specs[index].form.encode()))
        return self._rngs[index]

    # --- planning -----------------------------------------------------------------------------

    def _push(self, op: _Op) -> None:
        self._seq += 1
        op.seq = self._seq
        heapq.heappush(self._queue, op)

    def plan(self, world: SiteWorld) -> None:
        longest = max((self.span(s) for s in self.specs), default=timedelta(days=1))
        start = self.until - longest - timedelta(days=1)
        for index, spec in enumerate(self.specs):
            base = start + timedelta(minutes=index)  # fixed rows first, in spec order
            for row in spec.rows:
                self._push(_Op(base, 0, "create", index, row=row))
            count = 0 if self.fresh_only and world.records(spec.form) else spec.count(self.n)
            for at in self.created_times(spec, self.rng(index), count):
                self._push(_Op(at, 0, "create", index))
        adopting = [self.span(s) for s in self.specs if s.adopt and not (self.fresh_only and world.records(s.form))]
        if adopting:  # rules that write records (schedules) run on time, even where nothing else happens
            at = self.until - max(adopting)
            while at < self.until:
                self._push(_Op(at, 0, "tick", -1))
                at += self.schedule_step

    def span(self, spec: DemoSpec) -> timedelta:
        """How far back a spec's records go: its own `created.span`, or --days for all of them."""
        return timedelta(days=self.days) if self.days else parse_duration(spec.created.span)

    def created_times(self, spec: DemoSpec, rng: random.Random, count: int) -> list[datetime]:
        """`count` moments over the span: a linear trend, weekdays and working hours favoured."""
        span = self.span(spec)
        ramp = (spec.created.trend - 1) / 2
        first, last = spec.created.hours
        out = []
        for _ in range(count):
            u = rng.random()
            t = u if abs(ramp) < 1e-9 else (-1 + math.sqrt(1 + 4 * ramp * u * (1 + ramp))) / (2 * ramp)
            day = (self.until - span + span * t).astimezone(self.tz).date()
            want_weekday = rng.random() < spec.created.weekdays
            for shift in (0, -1, 1, -2, 2, -3, 3):
                candidate = day + timedelta(days=shift)
                if (candidate.isoweekday() <= 5) == want_weekday:
                    day = candidate
                    break
            hour = rng.triangular(first, last, first + (last - first) * 0.3)
            local = datetime.combine(day, datetime.min.time(), tzinfo=self.tz) + timedelta(hours=hour)
            moment = local.replace(microsecond=0)
            if moment < self.until:
                out.append(moment)
        return sorted(out)

    # --- running ------------------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> DemoReport:
        world = self._world = SiteWorld(self.site)
        self.plan(world)
        with self.site.session(readonly=True) as session:  # only records written from now on are adopted
            self._adopted = {spec.form: session.execute(select(func.max(Record.id)).where(
                Record.form == spec.form)).scalar() or 0 for spec in self.specs if spec.adopt}
        done = 0
        while self._queue:
            op = heapq.heappop(self._queue)
            self.clock.set(op.at)
            self._pace_schedules(op.at)
            if op.kind == "create":
                self._create(world, op)
            elif op.kind == "step":
                self._step(world, op)
            self.site.drain()
            if self._adopted:
                self._adopt(world)
            done += 1
            if progress is not None:
                progress(done, done + len(self._queue), op.at.astimezone(self.tz).strftime("%Y-%m-%d"))
        self.clock.set(self.until)
        self.site.drain()
        with self.site.session() as session:  # records dated before the rollups were built
            rebuild_rollups_now(session, self.until)
        with self.site.session(readonly=True) as session:
            self.report.open_at_end = len(session.execute(
                select(StoredInstance.id).where(StoredInstance.status == "running")).all())
        return self.report

    def definition(self, session: Any, form: str) -> FormDefinition | None:
        """A form's definition, read once per run (the demo changes no definitions)."""
        if form not in self._forms:
            self._forms[form] = FormCatalog(session).definition(form)
        return self._forms[form]

    def _pace_schedules(self, now: datetime) -> None:
        """Scheduled rules run at most once per `schedule_step` of the replayed history, like a
        worker that wakes that often: due ones wait for the next sweep, then catch up once.
        (Each run sweeps every area or hazard; running them at every step of a long history
        is what makes demo data slow.)"""
        if self._next_sweep is not None and now < self._next_sweep:
            with self.site.session() as session:
                session.execute(update(Timer).where(Timer.kind == SCHEDULE_KIND, Timer.status == "pending",
                                                    Timer.due_at <= now).values(due_at=self._next_sweep))
            return
        self._next_sweep = now + self.schedule_step

    def _draw(self, world: SiteWorld, index: int, data: dict[str, Any], owner: int | None) -> Draw:
        spec = self.specs[index]
        if spec.form not in self._schemas:
            definition = self.definition(world.session, spec.form)
            if definition is None:
                raise NotFound(what=f"form {spec.form}")
            self._schemas[spec.form] = definition.expr_schema(
                resolve_form=lambda key: self.definition(world.session, key))
        return Draw(self.rng(index), self.clock.now(), self.tz, spec.form, self._schemas[spec.form], world, owner,
                    data, resolve=lambda key, value: self._resolve(world, spec.form, key, value))

    def _create(self, world: SiteWorld, op: _Op) -> None:
        spec, rng = self.specs[op.spec], self.rng(op.spec)
        with self.site.session() as session:
            world.bind(session)
            generated_key = op.row is not None and spec.unique and kind_of(op.row.get(spec.unique)) is not None
            if op.row is not None and spec.unique and not generated_key and self._exists(
                    session, spec.form, spec.unique, op.row.get(spec.unique)):
                self.report.skipped += 1
                return
            owner = None
            if spec.by is not None:
                candidates = [(u, w) for role, w in zip(spec.by.role, spec.by.weights or [1.0] * len(spec.by.role),
                                                          strict=False) for u in world.users_with_role(role)]
                owner = weighted(rng, {u: w for u, w in candidates}) if candidates else None
            draw = self._draw(world, op.spec, {}, owner)
            for key, value in (op.row or spec.fields).items():
                given, result = generate(value, draw, key)
                if given and result is not None:
                    draw.data[key] = self._resolve(world, spec.form, key, result)
            if generated_key and self._exists(session, spec.form, str(spec.unique), draw.data.get(str(spec.unique))):
                self.report.skipped += 1  # a fixed row whose key is generated (a number from its holder)
                return
            service = RecordService(session, self.site.events(session), tz=self.site.settings.tz, clock=self.clock)
            actor = Actor(owner, f"user:{owner}") if owner is not None else DEMO
            view = service.create(spec.form, draw.data, owner_id=owner, department_id=world.department_of(owner),
                                  actor=actor)
            world.added(spec.form, view.id)
            self._written.add(view.id)
            self.report.created[spec.form] += 1
            if spec.flow is not None and op.row is None:
                if spec.flow.start:
                    flow_engine(session, self.site).start(spec.flow.key[0], view.data, owner or 0, record_id=view.id)
                self._follow(op.spec, view.id, draw, peek=False)  # a rule starts the flow yet

    def _resolve(self, world: SiteWorld, form: str, key: str, value: Any) -> Any:
        """Specs name people by username and departments by path: make them ids. `key` may be
        `subtable.field` (a row's field)."""
        definition = self.definition(world.session, form)
        head, _, tail = key.partition(".")
        item = definition.field(head) if definition is not None else None
        if tail:
            item = next((f for f in getattr(item, "value_fields", list)() if f.key == tail), None)
        kind = getattr(item, "type", None)
        if isinstance(value, str) and kind == "user":
            return world.user(value)
        if isinstance(value, list) and kind == "users":
            return [world.user(v) if isinstance(v, str) else v for v in value]
        if isinstance(value, str) and kind == "department":
            return world.department(value)
        return value

    def _exists(self, session: Any, form: str, key: str, value: Any) -> bool:
        from engine.store.records import column_for

        definition = self.definition(session, form)
        column = column_for(definition.sql_kinds() if definition is not None else {})(key)
        query = select(Record.id).where(Record.form == form, Record.deleted_at.is_(None), column == value)
        return session.execute(query.limit(1)).first() is not None
