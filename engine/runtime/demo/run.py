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
from engine.flows import Action
from engine.forms import FormDefinition
from engine.forms.catalog import FormCatalog
from engine.forms.records import RecordService
from engine.runtime.demo.spec import DemoSpec, Path, parse_after, parse_duration
from engine.runtime.demo.values import Draw, generate, kind_of, weighted
from engine.runtime.demo.world import SiteWorld
from engine.runtime.flows import flow_engine
from engine.runtime.reports import rebuild_rollups_now
from engine.runtime.rules import SCHEDULE_KIND
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.audit import Actor
from engine.store.models import Record, StoredInstance, StoredTask, Timer

DEMO = Actor.system("demo")
Progress = Callable[[int, int, str], None]


@dataclass
class DemoReport:
    created: Counter[str] = field(default_factory=Counter)
    skipped: int = 0  # fixed rows already there
    steps: int = 0
    open_at_end: int = 0  # flow instances still running when the timeline ended
    passwords_set: int = 0  # sample people given the demo password
    sample_user: str = ""  # one of them, to name in the message


@dataclass(order=True)
class _Op:
    at: datetime
    seq: int
    kind: str = field(compare=False)  # "create" | "step" | "tick" (the clock moves on; schedules run)
    spec: int = field(compare=False)
    row: dict[str, Any] | None = field(compare=False, default=None)
    record: int | None = field(compare=False, default=None)
    path: Path | None = field(compare=False, default=None)
    step: int = field(compare=False, default=0)


class DemoRun:
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

    def _follow(self, index: int, record_id: int, draw: Draw, *, peek: bool) -> None:
        """Pick one of the spec's paths that fits the record and queue its first step."""
        spec = self.specs[index]
        assert spec.flow is not None
        paths = [p for p in spec.flow.paths if p.when is None or draw.evaluate(p.when)]
        if paths:
            path = self.rng(index).choices(paths, weights=[p.weight for p in paths])[0]
            self._schedule(index, record_id, path, 0, peek=peek)

    def _adopt(self, world: SiteWorld) -> None:
        """Records that rules wrote since the last look (a schedule's inspections), on forms
        whose spec adopts them: each follows a path like the records the demo writes."""
        for index, spec in enumerate(self.specs):
            if not (spec.adopt and spec.flow is not None):
                continue
            with self.site.session(readonly=True) as session:
                world.bind(session)
                rows = session.execute(select(Record.id, Record.data).where(
                    Record.form == spec.form, Record.id > self._adopted.get(spec.form, 0),
                    Record.deleted_at.is_(None)).order_by(Record.id)).all()
                for record_id, data in rows:
                    self._adopted[spec.form] = record_id
                    if record_id in self._written:
                        continue  # written by the demo itself, on its own path already
                    world.added(spec.form, record_id)
                    self._follow(index, record_id, self._draw(world, index, dict(data or {}), None), peek=True)

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

    def _schedule(self, index: int, record_id: int, path: Path, step: int, *, at_once: bool = False,
                  peek: bool = True) -> None:
        """Queue a path's step `after` its delay (none `at_once`: the step before was skipped),
        counted from its `not_before` moment if that is later (the work starts at the planned
        start). With
        `peek`, steps whose nodes are not open now are skipped at once, without waiting their
        delay: the flow went another way (a level-2 permit has no second approval)."""
        if peek:
            with self.site.session(readonly=True) as session:
                while step < len(path.steps) and path.steps[step].node and not self._open_tasks(
                        session, record_id, path.steps[step].node):
                    step, at_once = step + 1, True
        if step >= len(path.steps):
            return
        at = self.clock.now()
        if path.steps[step].not_before is not None:
            at = max(at, self._not_before(index, record_id, path.steps[step].not_before) or at)
        if not at_once:
            ranges = parse_after(path.steps[step].after)
            rng = self.rng(index)
            _weight, low, high = rng.choices(ranges, weights=[r[0] for r in ranges])[0]
            at += low + (high - low) * rng.random()
        if at <= self.until:
            self._push(_Op(at.replace(microsecond=0), 0, "step", index, record=record_id, path=path, step=step))

    def _not_before(self, index: int, record_id: int, text: str) -> datetime | None:
        assert self._world is not None
        with self.site.session(readonly=True) as session:
            self._world.bind(session)
            data = session.execute(select(Record.data).where(Record.id == record_id)).scalar()
            found = self._draw(self._world, index, dict(data or {}), None).evaluate(text)
        if isinstance(found, str):
            found = datetime.fromisoformat(found)
        return found if isinstance(found, datetime) else None

    def _open_tasks(self, session: Any, record_id: int, nodes: list[str]) -> list[StoredTask]:
        return list(session.execute(
            select(StoredTask).where(StoredTask.record_id == record_id, StoredTask.status == "open",
                                     StoredTask.node.in_(nodes)).order_by(StoredTask.id)
            .execution_options(populate_existing=True)).scalars())

    def _step(self, world: SiteWorld, op: _Op) -> None:
        assert op.path is not None and op.record is not None
        step = op.path.steps[op.step]
        if step.action == "update":
            self._update(world, op)
            return
        with self.site.session() as session:
            world.bind(session)
            tasks = self._open_tasks(session, op.record, step.node)
            if not tasks:  # the flow went another way: try the next step at once
                self._schedule_now(op)
                return
            row = session.get(Record, op.record)
            draw = self._draw(world, op.spec, dict(row.data) if row is not None else {}, tasks[0].assignee_id)
            if step.when is not None and not draw.evaluate(step.when):  # e.g. no start without certificates
                self._schedule_now(op)
                return
            data: dict[str, Any] = {}
            for key, value in step.data.items():
                given, result = generate(value, draw, key)
                if given:
                    data[key] = draw.data[key] = self._resolve(world, self.specs[op.spec].form, key, result)
            node = tasks[0].node
            for _ in range(20):  # every signer of a countersign, one after another
                task = next(iter(self._open_tasks(session, op.record, [node])), None)
                if task is None:
                    break
                action = step.action or ("approve" if task.kind == "approve" else "submit")
                instance = flow_engine(session, self.site).act(task.id, Action(action, task.assignee_id,
                                                                               data=data or None))
                self.report.steps += 1
                if task.kind != "approve" or action != "approve" or instance.status != "running":
                    break
        self._schedule(op.spec, op.record, op.path, op.step + 1)

    def _update(self, world: SiteWorld, op: _Op) -> None:
        """An `action: update` step: the record changed through the record service, as the
        person `by` names (or its owner)."""
        assert op.path is not None and op.record is not None
        step, form = op.path.steps[op.step], self.specs[op.spec].form
        with self.site.session() as session:
            world.bind(session)
            row = session.get(Record, op.record)
            if row is None:
                return
            draw = self._draw(world, op.spec, dict(row.data or {}), row.owner_id)
            if step.when is not None and not draw.evaluate(step.when):
                self._schedule_now(op)
                return
            who = draw.evaluate(step.by) if step.by else row.owner_id
            draw.owner = who
            data: dict[str, Any] = {}
            for key, value in step.data.items():
                given, result = generate(value, draw, key)
                if given:
                    data[key] = draw.data[key] = self._resolve(world, form, key, result)
            service = RecordService(session, self.site.events(session), tz=self.site.settings.tz, clock=self.clock)
            service.update(form, op.record, data, actor=Actor(who, f"user:{who}") if who is not None else DEMO)
            self.report.steps += 1
        self._schedule(op.spec, op.record, op.path, op.step + 1)

    def _schedule_now(self, op: _Op) -> None:
        assert op.path is not None and op.record is not None
        self._schedule(op.spec, op.record, op.path, op.step + 1, at_once=True)
