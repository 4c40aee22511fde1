"""The node-type registry: what a node does lives in its type, never in the runtime loop.

Like NocoBase's `registerInstruction`, each node type is one small class registered under its
name with the spec model its JSON is validated against. The loop in `engine.flows.runtime`
only calls `enter` when a token arrives and follows the targets it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from engine.errors import Problem
from engine.flows.model import NodeSpec

if TYPE_CHECKING:
    from engine.flows.graph import CompiledFlow
    from engine.flows.runtime import Run
    from engine.flows.state import Task, Token
    from engine.flows.validate import GraphContext

# What `enter`/`resume` return: None = the token waits here; a sequence of node ids = leave
# along those targets (empty = the token is consumed, e.g. at an end or a join that waits).
Targets = Sequence[str] | None


class NodeType:
    """Behaviour of one kind of node. Subclasses set `name` and `spec` and override hooks."""

    name: ClassVar[str]
    spec: ClassVar[type[NodeSpec]]
    # Nodes people act on (fill, approve) are "user nodes": reject targets, withdraw, inbox.
    user_node: ClassVar[bool] = False
    # BPMN element this node exports to (see engine.flows.bpmn_export).
    bpmn: ClassVar[str] = "task"

    def enter(self, run: Run, token: Token, node: Any) -> Targets:
        """A token arrived. Default: pass straight through along every outgoing edge."""
        return run.flow.out_targets[node.id]

    def plan(self, flow: CompiledFlow, node: Any) -> Callable[[Run, Token, Any], Targets]:
        """The `enter` the token loop calls for `node` of this compiled flow version, built once
        per version: a type specialises it with what the definition fixes (targets, conditions,
        assignees), so a step does not work those out again. Default: `enter` itself, or the
        node's constant targets when the type passes straight through."""
        if type(self).enter is NodeType.enter:
            targets = flow.out_targets[node.id]
            return lambda run, token, spec: targets
        return self.enter

    def plan_done(self, flow: CompiledFlow, node: Any) -> Callable[[Run, Token, Any, Task], Targets]:
        """What `settle` calls when a task of `node` got its decision (default: `on_task_done`)."""
        return self.on_task_done

    def on_task_done(self, run: Run, token: Token, node: Any, task: Task) -> Targets:
        """A task of this node got its decision (user nodes only)."""
        raise NotImplementedError(f"{self.name} has no tasks")

    def on_timer(self, run: Run, token: Token, node: Any, payload: dict[str, Any]) -> Targets:
        """A `flow.wait` timer of this node fell due."""
        return None

    def on_child_finished(self, run: Run, token: Token, node: Any, status: str, data: dict) -> Targets:
        """A sub-flow started by this node finished."""
        return None

    def cancel(self, run: Run, token: Token, node: Any) -> None:
        """The token is being removed (reject, withdraw, terminate): undo what waits on it."""
        run.withdraw_tasks(node.id, token.id)
        run.effects.cancel_timers(f"flow:{run.instance.id}:n:{token.id}:")

    def validate(self, node: Any, ctx: GraphContext) -> list[Problem]:
        """Problems with this node beyond its spec's shape (graph and form aware)."""
        return []


_registry: dict[str, NodeType] = {}
_listeners: list[Callable[[], None]] = []

T = TypeVar("T", bound=type[NodeType])


def register_node_type(cls: T) -> T:
    """Class decorator: make a node type available to definitions under `cls.name`."""
    _registry[cls.name] = cls()
    for listener in _listeners:
        listener()
    return cls


def node_type(name: str) -> NodeType | None:
    return _registry.get(name)


def node_types() -> dict[str, NodeType]:
    return dict(_registry)


def on_registry_change(listener: Callable[[], None]) -> None:
    _listeners.append(listener)
