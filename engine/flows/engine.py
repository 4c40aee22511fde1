"""FlowEngine: the library entry point — start instances, apply actions, handle due timers.

Every public call is one step: load the instance in a unit of work, let the token loop and the
node types change it, save it with optimistic locking (retrying on a concurrent save), then
hand the step's effects to the services — timers in the same unit, events and notifications
after the commit. Nothing here knows about HTTP, the CLI or the runtime's tick.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from engine import events as ev
from engine.directory import Delegation, Directory, StaticDirectory
from engine.errors import InvalidInput, NotFound, Problem
from engine.events import EventSink, NullSink
from engine.flows import actions as act
from engine.flows import deadlines
from engine.flows.actions import Action
from engine.flows.graph import CompiledFlow
from engine.flows.instance_actions import apply_instance_action
from engine.flows.lookups import MemoDirectory
from engine.flows.model import FlowDefinition
from engine.flows.nodes.automation import Automation, RecordingAutomation
from engine.flows.records import RecordSync
from engine.flows.repository import FlowCatalog, FlowStore, MemoryCatalog, MemoryFlowStore, StaleInstance
from engine.flows.runtime import Effects, Run
from engine.flows.state import CANCELLED, LIVE_TASK, OPEN, RUNNING, FlowInstance
from engine.services import Clock, Notifier, RecordingNotifier, SystemClock

MAX_RETRIES = 20


class FlowEngine:
    """Runs flow instances against a store, a catalog of published flows and the org directory."""

    def __init__(
        self,
        *,
        store: FlowStore | None = None,
        catalog: FlowCatalog | None = None,
        directory: Directory | None = None,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        events: EventSink | None = None,
        automation: Automation | None = None,
        records: RecordSync | None = None,
        lookup: Any = None,
        calendar: Any = None,
        timezone: Any = None,
        schema_for: Callable[[FlowDefinition], Any] | None = None,
        compiled: dict[tuple[str, int], CompiledFlow] | None = None,
    ) -> None:
        self.store: FlowStore = store or MemoryFlowStore()
        self.catalog: FlowCatalog = catalog or MemoryCatalog()
        self.directory: Directory = MemoDirectory(directory or StaticDirectory())
        self.clock = clock or SystemClock()
        self.notifier: Notifier = notifier or RecordingNotifier()
        self.events: EventSink = events or NullSink()
        self.automation: Automation = automation or RecordingAutomation()
        # Where an instance runs on a stored record, its data and status are written back to it
        # in the same transaction (the server passes the form engine's record service).
        self.records = records
        # Dictionaries for LOOKUP(...) in conditions and assignee expressions (the server's).
        self.lookup = lookup
        # A BusinessCalendar, None (Mon–Fri), or a loader called when a deadline or a workday
        # function first needs it (the server's holidays are a database read most steps skip).
        self._calendar = calendar
        self.timezone = timezone
        # The expression Schema of a flow's form (from the form engine); None = no checking.
        self.schema_for = schema_for
        self.track_events = not isinstance(self.events, NullSink)
        # Compiled flows per (key, version); pass one dict to share it between engines (a site
        # builds an engine per unit of work, the compiled flows outlive it).
        self._flows: dict[tuple[str, int], CompiledFlow] = compiled if compiled is not None else {}
        self._expressions: dict[tuple[str, int, str], Any] = {}
        self._context: tuple[Any, Any, Any, Any] | None = None

    @property
    def clock(self) -> Clock:
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._clock = clock
        # Every step reads the time: the system clock's `now` is called as the C function it
        # wraps (no Python frame per step); any other clock through its own `now`.
        self._now: Callable[[], datetime] = partial(datetime.now, UTC) if type(clock) is SystemClock else clock.now

    # -- definitions ------------------------------------------------------------------------

    def flow(self, key: str, version: int | None = None) -> CompiledFlow:
        """The compiled flow for a pinned version (or the latest), cached per (key, version)."""
        if version is not None:
            cached = self._flows.get((key, version))
            if cached is not None:
                return cached
        definition = self.catalog.get(key, version)
        if definition is None:
            what = f"flow {key}" + (f" v{version}" if version is not None else "")
            raise NotFound("error.not_found", what=what)
        cached = self._flows.get((key, definition.version))
        if cached is None:
            schema = self.schema_for(definition) if self.schema_for else None
            cached = CompiledFlow(definition, schema)
            self._flows[(key, definition.version)] = cached
        return cached

    def compiled_expression(self, flow: CompiledFlow, text: str) -> Any:
        key = (flow.key, flow.version, text)
        compiled = self._expressions.get(key)
        if compiled is None:
            from engine.flows.conditions import compile_expression

            compiled = self._expressions[key] = compile_expression(text, flow.schema)
        return compiled

    @property
    def calendar(self) -> Any:
        if callable(self._calendar):
            self._calendar = self._calendar()
        return self._calendar

    @calendar.setter
    def calendar(self, value: Any) -> None:
        self._calendar = value

    def eval_context(self, now: Any) -> Any:
        """The expression context at `now`: built once per engine, then only its clock moves."""
        base = self._context
        raw = self._calendar
        if base is None or base[0] is not raw or base[1] is not self.timezone or base[2] is not self.lookup:
            from engine.flows.conditions import default_calendar, eval_context

            if raw is None:
                raw = self._calendar = default_calendar(self.timezone)
            if callable(raw):
                context = eval_context(now, None, self.timezone, self.lookup, calendar_loader=raw)
            else:
                context = eval_context(now, raw, self.timezone, self.lookup)
            self._context = (raw, self.timezone, self.lookup, context)
            return context
        return base[3].at(now)

    # -- steps ------------------------------------------------------------------------------

    def start(
        self,
        flow_key: str,
        data: Mapping[str, Any],
        initiator: int,
        *,
        version: int | None = None,
        record_id: int | None = None,
    ) -> FlowInstance:
        """Start an instance of the latest (or a given) version; it stays on that version."""
        flow = self.flow(flow_key, version)
        if flow.start is None:
            raise InvalidInput("flow.start.missing", problems=[Problem("flow.start.missing")])
        for _ in range(MAX_RETRIES):
            try:
                with self.store.atomic() as unit:
                    inst = self._new_instance(unit, flow, dict(data), initiator, record_id, None)
                    started = self._started(inst, flow)
                    if self.records is not None and record_id is not None:
                        self.records.sync(inst, dict(data), "", initiator)
                    effects = self._settle(unit, inst, started)
                if effects is not None:
                    self._publish(effects)
                return inst
            except StaleInstance:
                continue
        raise StaleInstance("flow.instance.stale", what=flow_key)

    def act(self, task_id: str, action: Action) -> FlowInstance:
        """Apply a task action (approve, reject, transfer, ...) by `action.by`."""
        head = task_id.partition(".")[0] if type(task_id) is str else str(task_id).split(".", 1)[0]
        if not head.isdigit():
            raise NotFound("error.not_found", what=f"task {task_id}")
        return self._step(int(head), act.apply_task_action, action.by, task_id, action)

    def act_on_instance(self, instance_id: int, action: Action) -> FlowInstance:
        """Apply an instance action (withdraw, urge, comment, jump, retry, cancel)."""
        return self._step(instance_id, apply_instance_action, action.by, action)

    def on_timer(self, kind: str, key: str, payload: Mapping[str, Any]) -> None:
        """A `flow.*` timer fell due (called by the runtime's tick). Idempotent."""
        if kind not in deadlines.KINDS or "instance" not in payload:
            return
        try:
            self._step(int(payload["instance"]), self._timer, None, kind, dict(payload))
        except NotFound:
            return

    def hand_over(self, delegation: Delegation) -> list[str]:
        """A delegation started: move the delegator's open tasks to the substitute."""
        with self.store.atomic() as unit:
            pending = unit.open_tasks_of(delegation.user_id)
        moved: list[str] = []
        for instance_id, task_id in pending:

            def move(run: Run, task_id: str = task_id) -> bool:
                inst = run.instance
                task = inst.tasks.get(task_id)
                if (
                    task is None
                    or task.status != OPEN
                    or task.assignee != delegation.user_id
                    or (delegation.flows and inst.flow_key not in delegation.flows)
                ):
                    return False
                run.record(
                    "handed_over",
                    node=task.node,
                    task=task.id,
                    old=task.assignee,
                    to=delegation.substitute_id,
                )
                task.on_behalf_of, task.assignee = task.assignee, delegation.substitute_id
                moved.append(task_id)
                return True

            self._step(instance_id, move, None)
        return moved

    def instance(self, instance_id: int) -> FlowInstance:
        with self.store.atomic() as unit:
            return unit.load(instance_id)

    # -- internals --------------------------------------------------------------------------

    def _step(self, instance_id: int, change: Callable[..., Any], actor: int | None, *args: Any) -> FlowInstance:
        """Load, `change(run, *args)`, save with the row-version check (re-running the whole step
        on a concurrent save), then publish. A change returning False saved nothing."""
        store, flows = self.store, self._flows
        for _ in range(MAX_RETRIES):
            try:
                with store.atomic() as unit:
                    unit.actor = actor
                    inst = unit.load(instance_id)
                    flow = flows.get((inst.flow_key, inst.flow_version))
                    if flow is None:
                        flow = self.flow(inst.flow_key, inst.flow_version)
                    records = self.records if inst.record_id else None
                    before = (copy.deepcopy(inst.data), inst.status) if records is not None else None
                    run = Run(self, inst, flow, self._now())
                    if change(run, *args) is False:
                        return inst
                    if before is not None and records is not None:
                        records.sync(inst, before[0], before[1], actor)
                    effects = run._effects
                    if effects is None:  # `_settle` for a step with no effects, written out
                        inst.row_version += 1
                        unit.save(inst)
                    else:
                        effects = self._settle(unit, inst, run)
                if effects is not None:
                    self._publish(effects)
                return inst
            except StaleInstance:
                continue
        raise StaleInstance("flow.instance.stale", what=instance_id)

    def _new_instance(
        self,
        unit: Any,
        flow: CompiledFlow,
        data: dict[str, Any],
        initiator: int,
        record_id: int | None,
        parent: dict[str, Any] | None,
    ) -> FlowInstance:
        inst = FlowInstance(
            id=unit.new_id(),
            flow_key=flow.key,
            flow_version=flow.version,
            initiator=initiator,
            data=data,
            started_at=self._now(),
            record_id=record_id,
            form=flow.definition.form,
            parent=parent,
        )
        unit.add(inst)
        return inst

    def _started(self, inst: FlowInstance, flow: CompiledFlow) -> Run:
        run = Run(self, inst, flow, inst.started_at)
        inst._log.append((inst.started_at, "started", "by", inst.initiator, "version", flow.version))
        if run.track_events:
            run.emit(ev.FLOW_STARTED, initiator=inst.initiator)
        assert flow.start is not None
        run.arrive(run.spawn(flow.start), flow.start)
        run.drive()
        return run

    def _settle(self, unit: Any, inst: FlowInstance, run: Run) -> Effects | None:
        """Save the instance and schedule its timers in the unit; return the effects to publish
        after the commit (None: the step had none). Sub-flow starts and ends are followed here."""
        effects = run._effects
        if effects is not None and effects.children:
            return self._settle_tree(unit, {inst.id: inst}, [run])
        inst.row_version += 1
        unit.save(inst)
        if effects is not None and effects.timers:
            self._timers(unit, effects)
        return effects

    def _settle_tree(self, unit: Any, touched: dict[int, FlowInstance], runs: list[Run]) -> Effects:
        """Follow sub-flow starts/ends inside the same unit, save every touched instance, schedule
        timers; return the merged effects."""
        merged = Effects()
        pending = list(runs)
        depth = 0
        while pending:
            run = pending.pop(0)
            depth += 1
            effects = run.effects
            for item in effects.children:
                follow = self._child_effect(unit, touched, run, item)
                if follow is not None:
                    pending.append(follow)
            effects.children = [c for c in effects.children if c[0] in ("create_record", "webhook")]
            merged.timers += effects.timers
            merged.events += effects.events
            merged.notifications += effects.notifications
            merged.children += effects.children
            if depth > 1000:
                raise RuntimeError("sub-flow recursion")
        for inst in touched.values():
            inst.row_version += 1
            unit.save(inst)
        self._timers(unit, merged)
        return merged

    @staticmethod
    def _timers(unit: Any, effects: Effects) -> None:
        timers = unit.timers
        for op in effects.timers:
            if op[0] == "schedule":
                timers.schedule(op[1], op[2], op[3], op[4])
            else:
                timers.cancel_prefix(op[1])

    def _child_effect(self, unit: Any, touched: dict[int, FlowInstance], run: Run, item: tuple) -> Run | None:
        what = item[0]
        inst = run.instance
        if what == "start":
            _, key, version, data, token_id, node_id = item
            try:
                flow = self.flow(key, version)
            except NotFound:
                token = inst.tokens.get(token_id)
                run.fail(token, "flow.subflow.unknown", node=node_id, flow=key)
                return None
            child = self._new_instance(
                unit,
                flow,
                data,
                inst.initiator,
                inst.record_id,
                {"instance": inst.id, "token": token_id, "node": node_id},
            )
            inst.node_state[f"subflow:{token_id}"] = {"child": child.id}
            touched[child.id] = child
            return self._started(child, flow)
        if what == "finished":
            _, parent_ref, status, data = item
            parent = touched.get(parent_ref["instance"]) or unit.load(parent_ref["instance"])
            touched[parent.id] = parent
            token = parent.tokens.get(parent_ref["token"])
            if parent.status != RUNNING or token is None or token.node != parent_ref["node"]:
                return None
            parent.node_state.pop(f"subflow:{token.id}", None)
            prun = Run(self, parent, self.flow(parent.flow_key, parent.flow_version), run.now)
            node = prun.flow.nodes[token.node]
            prun.resume(
                token, prun.flow.handlers[token.node].on_child_finished(prun, token, node, status, data)
            )
            return prun
        if what == "cancel_child":
            _, token_id, _node_id = item
            ref = inst.node_state.pop(f"subflow:{token_id}", None)
            if ref is None:
                return None
            child = touched.get(ref["child"]) or unit.load(ref["child"])
            touched[child.id] = child
            if child.status not in (RUNNING, "error"):
                return None
            crun = Run(self, child, self.flow(child.flow_key, child.flow_version), run.now)
            child.parent = None  # the parent is the one cancelling: do not report back
            child.status = RUNNING
            crun.finish(CANCELLED)
            return crun
        return None

    def _publish(self, effects: Effects) -> None:
        for event in effects.events:
            self.events.emit(event)
        for notification in effects.notifications:
            self.notifier.notify(notification)
        for item in effects.children:
            if item[0] == "create_record":
                self.automation.create_record(item[1], item[2], item[3])
            elif item[0] == "webhook":
                self.automation.call_webhook(item[1], item[2], item[3], item[4])

    def _timer(self, run: Run, kind: str, payload: dict[str, Any]) -> bool:
        inst = run.instance
        if inst.status != RUNNING:
            return False
        flow = run.flow
        if kind == deadlines.WAIT:
            token = inst.tokens.get(payload.get("token", -1))
            node_id = payload.get("node")
            if token is None or token.node != node_id or inst.visits.get(node_id) != payload.get("visit"):
                return False
            run.resume(token, flow.handlers[node_id].on_timer(run, token, flow.nodes[node_id], payload))
            return True
        task = inst.tasks.get(payload.get("task", ""))
        if task is None or task.status not in LIVE_TASK:
            return False
        node = flow.nodes[task.node]
        deadline = getattr(node, "deadline", None)
        if deadline is None:
            return False  # armed under a version whose node had a deadline; the instance migrated off it
        if kind == deadlines.REMIND:
            deadlines.on_remind(run, node, task)
            return True
        if task.overdue:
            return False
        decision = deadlines.on_deadline(run, node, task)
        if decision in ("auto_approve", "auto_reject") and task.status == OPEN:
            task.decision = "approve" if decision == "auto_approve" else "reject"
            if task.kind == "fill":
                task.decision = "submit"
            run.record(task.decision, node=task.node, task=task.id, by=None, reason="timeout")
            act.settle(run, task)
        elif decision == "jump" and deadline.target in flow.nodes:
            run.cancel_tokens(inst.tokens.values())
            run.record("jump", to=deadline.target, reason="timeout")
            target = deadline.target
            run.arrive(run.spawn(target), target)
            run.drive()
        return True


def _instance_of(task_id: str) -> int:
    head = str(task_id).split(".", 1)[0]
    if not head.isdigit():
        raise NotFound("error.not_found", what=f"task {task_id}")
    return int(head)
