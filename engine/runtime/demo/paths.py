"""How a demo record moves along: the flow paths of docs/demo.md, step by step.

A path is picked per record (its `when` read over the record); each step acts on the record's
open task at its node through the flow engine (or, `action: update`, changes the record through
the record service) as the person who holds it, after its delay. Steps whose node is not open
are skipped at once; records that rules write are adopted onto paths when their spec says so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.flows import Action
from engine.forms.records import RecordService
from engine.runtime.demo.spec import DemoSpec, Path, parse_after
from engine.runtime.demo.values import Draw, generate
from engine.runtime.demo.world import SiteWorld
from engine.runtime.flows import flow_engine
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.audit import Actor
from engine.store.models import Record, StoredTask

if TYPE_CHECKING:
    from engine.runtime.demo.run import DemoReport

DEMO = Actor.system("demo")


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


class PathWalker:
    """The path-following half of DemoRun (run.py), which owns the timeline and the records."""

    site: Site
    clock: ManualClock
    specs: list[DemoSpec]
    until: datetime
    report: DemoReport
    _world: SiteWorld | None
    _adopted: dict[str, int]
    _written: set[int]

    if TYPE_CHECKING:  # DemoRun's
        def rng(self, index: int) -> random.Random: ...
        def _push(self, op: _Op) -> None: ...
        def _draw(self, world: SiteWorld, index: int, data: dict[str, Any], owner: int | None) -> Draw: ...
        def _resolve(self, world: SiteWorld, form: str, key: str, value: Any) -> Any: ...

    def _follow(self, index: int, record_id: int, draw: Draw, *, peek: bool) -> None:
        """Pick one of the spec's paths that fits the record and queue its first step."""
        spec = self.specs[index]
        assert spec.flow is not None
        paths = [p for p in spec.flow.paths if p.when is None or draw.evaluate(p.when)]
        if paths:
            path = self.rng(index).choices(paths, weights=[p.weight for p in paths])[0]
            self._schedule(index, record_id, path, 0, peek=peek, data=None if peek else draw.data)

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

    def _schedule(self, index: int, record_id: int, path: Path, step: int, *, at_once: bool = False,
                  peek: bool = True, data: dict[str, Any] | None = None) -> None:
        """Queue a path's step `after` its delay (none `at_once`: the step before was skipped),
        counted from its `not_before` moment if that is later (the work starts at the planned
        start). With `peek`, steps whose nodes are not open now are skipped at once, without
        waiting their delay: the flow went another way (a level-2 permit has no second approval)."""
        if peek:
            with self.site.session(readonly=True) as session:
                while step < len(path.steps) and path.steps[step].node and not self._open_tasks(
                        session, record_id, path.steps[step].node):
                    step, at_once = step + 1, True
        if step >= len(path.steps):
            return
        at = self.clock.now()
        not_before = path.steps[step].not_before
        if not_before is not None:
            at = max(at, self._not_before(index, record_id, not_before, data) or at)
        if not at_once:
            ranges = parse_after(path.steps[step].after)
            rng = self.rng(index)
            _weight, low, high = rng.choices(ranges, weights=[r[0] for r in ranges])[0]
            at += low + (high - low) * rng.random()
        if at <= self.until:
            self._push(_Op(at.replace(microsecond=0), 0, "step", index, record=record_id, path=path, step=step))

    def _not_before(self, index: int, record_id: int, text: str, data: dict[str, Any] | None) -> datetime | None:
        """`text` over the record as stored — or over `data`, the values of a record whose
        session has not committed yet (the first step, planned as it is created)."""
        world = self._world
        assert world is not None
        outer = world.session
        try:
            with self.site.session(readonly=True) as session:
                world.bind(session)
                if data is None:
                    data = session.execute(select(Record.data).where(Record.id == record_id)).scalar() or {}
                found = self._draw(world, index, dict(data), None).evaluate(text)
        finally:
            world.bind(outer)
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
