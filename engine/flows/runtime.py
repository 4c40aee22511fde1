"""The token loop: move tokens through nodes, asking each node's type what to do.

`Run` is one step of one instance (a start, an action, a timer). It knows no node type: it
calls `enter` on the registered type when a token arrives, follows the targets returned, and
collects effects (timers, events, notifications) that the engine applies only once the new
state is saved — so a retried step never sends twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine import events as ev
from engine.flows.state import (
    CANCELLED,
    COMPLETED,
    DONE,
    ERROR,
    LIVE_TASK,
    OPEN,
    REJECTED,
    RUNNING,
    WITHDRAWN,
    FlowInstance,
    Task,
    Token,
)
from engine.services import Notification

if TYPE_CHECKING:
    from engine.flows.engine import FlowEngine
    from engine.flows.graph import CompiledFlow


_END_EVENTS = {COMPLETED: ev.FLOW_COMPLETED, REJECTED: ev.FLOW_REJECTED}


class Effects:
    """What a step does outside the instance state, applied after the state is saved."""

    __slots__ = ("children", "events", "notifications", "timers")

    def __init__(self) -> None:
        self.timers: list[tuple[Any, ...]] = []
        self.events: list[ev.Event] = []
        self.notifications: list[Notification] = []
        # Sub-flow and automation bookkeeping: ("start", ...) / ("finished", ...) / ("webhook", ...).
        self.children: list[tuple[Any, ...]] = []

    def schedule(self, kind: str, due_at: datetime, payload: dict[str, Any], key: str) -> None:
        self.timers.append(("schedule", kind, due_at, payload, key))

    def cancel_timers(self, prefix: str) -> None:
        self.timers.append(("cancel_prefix", prefix))


class Run:
    """One step of one instance: the state being changed, its pinned flow and the engine's services.

    Built once per step, so it is kept small: the effects list is created on first use (most
    steps schedule, publish and start nothing) and `drive` does the leaving and arriving itself.
    """

    __slots__ = ("_ctx", "_effects", "action", "engine", "flow", "instance", "now", "queue", "track_events")

    def __init__(self, engine: FlowEngine, instance: FlowInstance, flow: CompiledFlow, now: datetime) -> None:
        self.engine = engine
        self.instance = instance
        self.flow = flow
        self.now = now
        # Arrivals still to run, oldest first (a list: it rarely holds more than one).
        self.queue: list[tuple[Token, str]] = []
        self._effects: Effects | None = None
        self.track_events = engine.track_events
        # The action being applied (None for starts and timers); node types read its choices.
        self.action: Any = None
        # The expression context of this step, built when a condition first needs one.
        self._ctx: Any = None

    @property
    def effects(self) -> Effects:
        """What the step does outside the instance (timers, events, notifications, children)."""
        effects = self._effects
        if effects is None:
            effects = self._effects = Effects()
        return effects

    def eval_context(self) -> Any:
        """The expression context (clock, calendar, lookups) of this step, built once."""
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = self.engine.eval_context(self.now)
        return ctx

    # -- the loop ---------------------------------------------------------------------------

    def arrive(self, token: Token, node_id: str) -> None:
        token.node = node_id
        self.queue.append((token, node_id))

    def spawn(self, node_id: str) -> Token:
        inst = self.instance
        token = Token(inst.next_token, node_id)
        inst.next_token += 1
        inst.tokens[token.id] = token
        return token

    def drive(self, leaving: Token | None = None, targets: Sequence[str] | None = None) -> None:
        """Run every queued arrival until each token waits somewhere or is consumed; first, when
        given, `leaving` passes its node along `targets` (a waiting node decided).

        Leaving and arriving are written out here rather than called: this loop runs for every
        node a token passes, and a call costs about as much as the work itself.
        """
        inst = self.instance
        queue = self.queue
        if leaving is None or targets is None:
            if not queue:
                return
            targets = None
        else:
            token, node_id = leaving, leaving.node
        entries = self.flow.entries
        tokens = inst.tokens
        completed = inst.completed
        visits = inst.visits
        track_events = self.track_events
        while True:
            if targets is None:  # the next arrival
                if not queue:
                    return
                token, node_id = queue.pop(0)
                if inst.status != RUNNING:
                    queue.clear()
                    return
                if tokens.get(token.id) is not token or token.node != node_id:
                    continue  # cancelled or moved while queued
                visits[node_id] = visits.get(node_id, 0) + 1
                if node_id in completed:
                    completed.remove(node_id)
                if track_events:
                    self.emit(ev.FLOW_NODE_ENTERED, node=node_id)
                enter, node = entries[node_id]
                targets = enter(self, token, node)
                if targets is None:
                    continue
            # The node passed: record it and send the token on (or consume it).
            completed.append(node_id)
            if track_events:
                self.emit(ev.FLOW_NODE_COMPLETED, node=node_id)
            if inst.returns:
                back = inst.returns.pop(node_id, None)
                if back is not None:
                    targets = (back,)
            if targets:
                target = targets[0]
                token.node = target
                queue.append((token, target))
                if len(targets) > 1:
                    for target in targets[1:]:
                        self.arrive(self.spawn(target), target)
            else:
                tokens.pop(token.id, None)
            targets = None

    def resume(self, token: Token, targets: Sequence[str] | None) -> None:
        """A waiting node decided (task done, timer, sub-flow): move on and keep driving."""
        self.drive(token, targets)

    # -- helpers node types use ------------------------------------------------------------

    def new_task(
        self,
        node_id: str,
        token: Token,
        assignee: int,
        kind: str,
        *,
        status: str = OPEN,
        weight: float = 1.0,
        on_behalf_of: int | None = None,
        parent: str | None = None,
        position: str | None = None,
    ) -> Task:
        inst = self.instance
        task = Task(f"{inst.id}.{inst.next_task}", node_id, assignee, kind, status, self.now,
                    inst.visits.get(node_id, 0), token.id)
        if weight != 1.0:
            task.weight = weight
        if on_behalf_of is not None:
            task.on_behalf_of = on_behalf_of
        if parent is not None:
            task.parent, task.position = parent, position
        elif position is not None:
            task.position = position
        inst.next_task += 1
        inst.tasks[task.id] = task
        if self.track_events and status != WITHDRAWN:
            self.emit(ev.FLOW_TASK_CREATED, node=node_id, task=task.id, assignee=assignee, task_kind=kind)
        return task

    def node_tasks(self, node_id: str, token_id: int | None = None) -> list[Task]:
        """Tasks of the current visit of a node (added signers included)."""
        visit = self.instance.visits.get(node_id, 0)
        return [
            t
            for t in self.instance.tasks.values()
            if t.node == node_id and t.visit == visit and (token_id is None or t.token == token_id)
        ]

    def close_task(self, task: Task, status: str = WITHDRAWN) -> None:
        task.status = status
        task.completed_at = self.now
        if task.has_timers:
            self.effects.cancel_timers(f"flow:{self.instance.id}:t:{task.id}:")

    def withdraw_tasks(self, node_id: str, token_id: int | None = None) -> None:
        """Withdraw every still-live task of a node's current visit (or-sign won, node rejected...)."""
        for task in self.instance.tasks.values():
            if (
                task.node == node_id
                and task.status in LIVE_TASK
                and (token_id is None or task.token == token_id)
            ):
                self.close_task(task)

    def record(self, action: str, **facts: Any) -> None:
        """Append to the instance history (the audit trail shown on the instance page)."""
        # A tuple (at, action, key, value, ...): `FlowInstance.history` makes it the public dict
        # (None values left out, the time a datetime; `to_dict` writes it as ISO text).
        entry: list[Any] = [self.now, action]
        for item in facts.items():
            entry += item
        self.instance._log.append(tuple(entry))

    def emit(self, kind: str, **meta: Any) -> None:
        if not self.track_events:
            return
        inst = self.instance
        self.effects.events.append(
            ev.Event(
                kind=kind,
                subject=inst.form or inst.flow_key,
                record_id=inst.record_id,
                at=self.now,
                meta={"flow": inst.flow_key, "version": inst.flow_version, "instance": inst.id, **meta},
            )
        )

    def notify(self, notification: Notification) -> None:
        self.effects.notifications.append(notification)

    # -- leaving the happy path ------------------------------------------------------------

    def cancel_token(self, token: Token) -> None:
        self.flow.handlers[token.node].cancel(self, token, self.flow.nodes[token.node])
        self.instance.tokens.pop(token.id, None)

    def cancel_tokens(self, tokens: Iterable[Token]) -> None:
        for token in list(tokens):
            self.cancel_token(token)

    def fail(self, token: Token | None, code: str, **params: Any) -> None:
        """Stop in an error state an admin can see and fix (never a silent stop)."""
        inst = self.instance
        inst.status = ERROR
        inst.error = {"code": code, "params": params, "node": token.node if token else None}
        self.record("error", node=token.node if token else None, code=code, params=params)
        self.emit(ev.FLOW_ERROR, node=token.node if token else None, code=code)

    def finish(self, status: str) -> None:
        """End the instance (completed, rejected or cancelled), withdrawing whatever is still open."""
        inst = self.instance
        if inst.tokens:
            self.cancel_tokens(inst.tokens.values())
        for task in inst.tasks.values():
            if task.status in LIVE_TASK:
                self.close_task(task)
        inst.status = status
        inst.ended_at = self.now
        self.queue.clear()
        inst._log.append((self.now, status))
        kind = _END_EVENTS.get(status)
        if kind and self.track_events:
            self.emit(kind)
        if inst.parent is not None:
            self.effects.children.append(("finished", inst.parent, status, inst.data))

    def passed_by(self, task: Task) -> None:
        task.status = DONE
        task.completed_at = self.now


__all__ = ["CANCELLED", "Effects", "Run"]
