"""Moving running instances to another version of their flow, explicitly.

Publishing never touches running instances (they pin their version). An admin migrates them on
purpose: each token and open task is mapped to a node of the target version (same id unless
`--map OLD=NEW` says otherwise); an instance whose position has no counterpart, or lands on a
node of another kind, is refused and named in the report. The dry run (the default) changes
nothing; applying writes each instance with optimistic locking and an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.flows.model import FlowDefinition
from engine.flows.nodes.base import node_type
from engine.flows.state import LIVE_TASK, FlowInstance


@dataclass
class InstancePlan:
    instance_id: int
    from_version: int
    to_version: int
    moves: dict[str, str] = field(default_factory=dict)
    refused: str | None = None
    open_tasks: int = 0

    def line(self) -> str:
        head = f"instance {self.instance_id}: v{self.from_version} -> v{self.to_version}"
        if self.refused:
            return f"{head}: REFUSED: {self.refused}"
        moves = ", ".join(f"{a}->{b}" if a != b else a for a, b in sorted(self.moves.items())) or "-"
        return f"{head}: at {moves} ({self.open_tasks} open task(s) kept)"


@dataclass
class MigrationReport:
    flow_key: str
    to_version: int
    dry_run: bool
    plans: list[InstancePlan] = field(default_factory=list)

    @property
    def refused(self) -> list[InstancePlan]:
        return [p for p in self.plans if p.refused]

    def lines(self) -> list[str]:
        mode = "dry run" if self.dry_run else "applied"
        out = [f"{self.flow_key} -> v{self.to_version} ({mode}): {len(self.plans)} instance(s), "
               f"{len(self.refused)} refused"]
        return out + ["  " + p.line() for p in self.plans]


def plan_migration(inst: FlowInstance, target: FlowDefinition, mapping: Mapping[str, str]) -> InstancePlan:
    """Where each token and live task of `inst` would go in `target` (or why it cannot move)."""
    plan = InstancePlan(inst.id, inst.flow_version, target.version)
    nodes = {n.id: n for n in target.nodes}
    old_positions = {t.node for t in inst.tokens.values()} | {t.node for t in inst.tasks.values() if t.live}
    for old in sorted(old_positions):
        new = mapping.get(old, old)
        if new not in nodes:
            plan.refused = f"node {old!r} has no counterpart in v{target.version} (map it: --map {old}=NODE)"
            return plan
        handler = node_type(nodes[new].type)
        has_tasks = any(t.node == old and t.live for t in inst.tasks.values())
        if has_tasks and (handler is None or not handler.user_node):
            plan.refused = f"node {old!r} has open tasks but {new!r} is a {nodes[new].type} node"
            return plan
        plan.moves[old] = new
    plan.open_tasks = sum(1 for t in inst.tasks.values() if t.status in LIVE_TASK)
    return plan


def apply_migration(inst: FlowInstance, plan: InstancePlan, mapping: Mapping[str, str], at: str,
                    by: Any = None) -> None:
    """Rewrite the instance in place according to an accepted plan."""
    def move(node: str) -> str:
        return plan.moves.get(node, mapping.get(node, node))

    for token in inst.tokens.values():
        token.node = move(token.node)
    for task in inst.tasks.values():
        if task.live:
            task.node = move(task.node)
    inst.visits = {move(k): v for k, v in inst.visits.items()}
    inst.node_state = {move(k) if not k.startswith("subflow:") else k: v for k, v in inst.node_state.items()}
    inst.chosen = {move(k): v for k, v in inst.chosen.items()}
    inst.returns = {move(k): move(v) for k, v in inst.returns.items()}
    inst.completed = [move(n) for n in inst.completed]
    inst.history.append({"at": at, "action": "migrated", "from": plan.from_version, "to": plan.to_version,
                         "moves": dict(plan.moves), "by": by})
    inst.flow_version = plan.to_version


def migrate_instances(session: Any, flow_key: str, *, to_version: int | None = None,
                      from_version: int | None = None, mapping: Mapping[str, str] | None = None,
                      dry_run: bool = True, clock: Any = None, actor: Any = None) -> MigrationReport:
    """Plan (and unless `dry_run`, apply) the migration of a flow's running instances in SQL."""
    from engine.errors import NotFound
    from engine.flows.persistence import SqlFlowCatalog
    from engine.store import audit
    from engine.store.audit import Actor
    from engine.store.flows import FlowInstanceRepository

    mapping = dict(mapping or {})
    target = SqlFlowCatalog(session).get(flow_key, to_version)
    if target is None:
        raise NotFound("error.not_found", what=f"flow {flow_key}" + (f" v{to_version}" if to_version else ""))
    repo = FlowInstanceRepository(session)
    report = MigrationReport(flow_key, target.version, dry_run)
    now = (clock.now() if clock else datetime.now(UTC)).isoformat()
    who = actor or Actor.system("flow-migrate")
    for instance_id in repo.instances_of(flow_key, version=from_version):
        state = repo.load(instance_id)
        inst = FlowInstance.from_dict(state)
        if inst.flow_version == target.version:
            continue
        plan = plan_migration(inst, target, mapping)
        report.plans.append(plan)
        if dry_run or plan.refused:
            continue
        apply_migration(inst, plan, mapping, now, by=who.name)
        inst.row_version += 1
        repo.save(inst.to_dict())
        audit.append(session, who, "flow.migrate", "flow_instance", instance_id,
                     {"from": plan.from_version, "to": plan.to_version, "moves": plan.moves})
    return report
