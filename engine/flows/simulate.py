"""Run a flow in memory against a record and a script of actions: `safeflow flow simulate` and
the designer's "test run" both call `simulate`.

Each script line is an action by a user at a node (`{"task": NODE, "action": ..., "by": USER}`)
or a clock advance (`{"advance": "5h"}`) that fires the timers falling due. One result line per
step says which nodes have open tasks, which have completed, the status and the record data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.directory import Person, StaticDirectory
from engine.errors import InvalidInput, Problem, SafeFlowError
from engine.events import CollectingSink
from engine.flows.actions import Action
from engine.flows.definition import parse_definition
from engine.flows.durations import parse_duration
from engine.flows.engine import FlowEngine
from engine.flows.instance_actions import INSTANCE_ACTIONS
from engine.flows.model import FlowDefinition
from engine.flows.repository import MemoryCatalog, MemoryFlowStore, MemoryTimers
from engine.flows.state import FlowInstance
from engine.flows.validate import validate_flow
from engine.services import ManualClock, RecordingNotifier

ACTION_KEYS = {
    "task",
    "action",
    "by",
    "target",
    "data",
    "users",
    "position",
    "comment",
    "attachments",
    "assignees",
}


@dataclass
class SimulationDirectory(StaticDirectory):
    """A StaticDirectory that, when no org was given, invents a user for each new username."""

    open_world: bool = False
    _next_id: int = field(default=1000)

    def find_user(self, username: str) -> Person | None:
        found = super().find_user(username)
        if found is None and self.open_world and not str(username).isdigit():
            self._next_id += 1
            found = Person(id=self._next_id, username=str(username), name=str(username))
            self.people[found.id] = found
        return found

    def person(self, user_id: int) -> Person | None:
        found = super().person(user_id)
        if found is None and self.open_world:
            found = Person(id=user_id, username=str(user_id), name=str(user_id))
            self.people[user_id] = found
        return found


def make_directory(org: Mapping[str, Any] | None) -> SimulationDirectory:
    if org is None:
        return SimulationDirectory(open_world=True)
    base = StaticDirectory.from_dict(org)
    return SimulationDirectory(
        people=base.people,
        departments=base.departments,
        roles=base.roles,
        delegations=base.delegations,
        admin_ids=base.admin_ids,
    )


def step_line(step: int, inst: FlowInstance) -> dict[str, Any]:
    """The simulate output format: one JSON object per step."""
    return {
        "step": step,
        "open": inst.open_nodes(),
        "completed": list(inst.completed),
        "status": inst.status,
        "data": inst.data,
    }


def _located(exc: SafeFlowError, file: str | None, line: int) -> InvalidInput:
    problems = [p.located(file=file, line=line) for p in exc.problems] or [
        Problem(exc.code, exc.params, file=file, line=line)
    ]
    return InvalidInput.from_problems(problems)


class Simulation:
    """An engine wired for memory: manual clock, in-memory timers, recording notifier and events."""

    def __init__(
        self,
        definition: FlowDefinition,
        *,
        org: Mapping[str, Any] | None = None,
        start: datetime | None = None,
        schema: Any = None,
        calendar: Any = None,
        subflows: Iterable[FlowDefinition] = (),
    ) -> None:
        self.clock = ManualClock(start or datetime.now(UTC))
        self.timers = MemoryTimers()
        self.notifier = RecordingNotifier()
        self.events = CollectingSink()
        self.directory = make_directory(org)
        self.catalog = MemoryCatalog([definition, *subflows])
        self.definition = definition
        self.engine = FlowEngine(
            store=MemoryFlowStore(self.timers),
            catalog=self.catalog,
            directory=self.directory,
            clock=self.clock,
            notifier=self.notifier,
            events=self.events,
            calendar=calendar,
            schema_for=(lambda _d: schema) if schema is not None else None,
        )

    def user(self, value: Any) -> int:
        if isinstance(value, int):
            return value
        person = self.directory.find_user(str(value))
        if person is None:
            raise InvalidInput(
                "flow.simulate.unknown_user",
                problems=[Problem("flow.simulate.unknown_user", {"user": value}, path="by")],
            )
        return person.id

    def advance(self, text: str) -> None:
        """Move the clock and fire every timer that falls due on the way, in due order."""
        target = parse_duration(text).after(self.clock.now(), self.engine.calendar)
        while True:
            pending = sorted((t[1], k) for k, t in self.timers.timers.items() if t[1] <= target)
            if not pending:
                break
            due_at, key = pending[0]
            kind, _, payload = self.timers.timers.pop(key)
            self.clock.set(max(due_at, self.clock.now()))
            self.engine.on_timer(kind, key, payload)
        self.clock.set(target)

    def apply(self, inst: FlowInstance, line: Mapping[str, Any]) -> FlowInstance:
        unknown = sorted(set(line) - ACTION_KEYS)
        if unknown or "action" not in line or "by" not in line:
            raise InvalidInput(
                "flow.simulate.bad_line",
                problems=[Problem("flow.simulate.bad_line", {"keys": ", ".join(unknown) or "-"})],
            )
        by = self.user(line["by"])
        action = Action(
            kind=str(line["action"]),
            by=by,
            target=line.get("target"),
            data=line.get("data"),
            users=tuple(self.user(u) for u in line.get("users", [])),
            position=line.get("position", "before"),
            comment=line.get("comment"),
            attachments=tuple(line.get("attachments", [])),
            assignees=tuple(self.user(u) for u in line.get("assignees", [])),
        )
        node = line.get("task")
        if action.kind in INSTANCE_ACTIONS:
            if action.target is None and node is not None and action.kind != "withdraw":
                from dataclasses import replace

                action = replace(action, target=node)
            return self.engine.act_on_instance(inst.id, action)
        current = self.engine.instance(inst.id)
        candidates = [t for t in current.tasks.values() if t.node == node and t.live]
        task = next((t for t in candidates if t.assignee == by), None)
        if task is None:
            holders = ", ".join(sorted({str(t.assignee) for t in candidates})) or "-"
            raise InvalidInput(
                "flow.simulate.no_task",
                problems=[
                    Problem(
                        "flow.simulate.no_task",
                        {"node": node, "user": line["by"], "holders": holders},
                        path="task",
                    )
                ],
            )
        return self.engine.act(task.id, action)


def simulate(
    definition: FlowDefinition | Mapping[str, Any] | str,
    data: Mapping[str, Any],
    script: Iterable[str | Mapping[str, Any]],
    *,
    org: Mapping[str, Any] | None = None,
    initiator: str | int | None = None,
    start: datetime | None = None,
    schema: Any = None,
    calendar: Any = None,
    script_file: str | None = None,
    flow_file: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one step line after the start and after each script line.

    Raises InvalidInput (located at the flow file or the script line) for a bad definition, a
    malformed line or an action the engine refuses; the lines yielded before it stand.
    """
    if not isinstance(definition, FlowDefinition):
        definition = parse_definition(definition, file=flow_file)
    errors = [p for p in validate_flow(definition, schema) if p.severity == "error"]
    if errors:
        raise InvalidInput.from_problems([p.located(file=flow_file) for p in errors])
    lines: list[tuple[int, Mapping[str, Any]]] = []
    for number, raw in enumerate(script, start=1):
        if isinstance(raw, str):
            if not raw.strip():
                continue
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InvalidInput.from_problems(
                    [
                        Problem(
                            "flow.json_syntax",
                            {"error": exc.msg},
                            file=script_file,
                            line=number,
                            column=exc.colno,
                        )
                    ]
                ) from None
        else:
            parsed = raw
        if not isinstance(parsed, Mapping):
            raise InvalidInput.from_problems(
                [Problem("flow.simulate.bad_line", {"keys": "-"}, file=script_file, line=number)]
            )
        lines.append((number, parsed))
    sim = Simulation(definition, org=org, start=start, schema=schema, calendar=calendar)
    if initiator is None:
        initiator = next((line["by"] for _, line in lines if "by" in line), "initiator")
    try:
        who = sim.user(initiator)
    except SafeFlowError as exc:
        raise InvalidInput.from_problems([p.located(path="initiator") for p in exc.problems]) from None
    inst = sim.engine.start(definition.key, dict(data), who)
    yield step_line(0, inst)
    for step, (number, line) in enumerate(lines, start=1):
        try:
            if "advance" in line:
                if set(line) != {"advance"}:
                    raise InvalidInput(
                        "flow.simulate.bad_line",
                        problems=[
                            Problem(
                                "flow.simulate.bad_line", {"keys": ", ".join(sorted(set(line) - {"advance"}))}
                            )
                        ],
                    )
                try:
                    sim.advance(str(line["advance"]))
                except ValueError as exc:
                    raise InvalidInput(
                        "flow.duration",
                        problems=[Problem("flow.simulate.bad_advance", {"error": str(exc)}, path="advance")],
                    ) from None
            else:
                sim.apply(inst, line)
        except SafeFlowError as exc:
            raise _located(exc, script_file, number) from None
        inst = sim.engine.instance(inst.id)
        yield step_line(step, inst)
