"""Where a rejection sends an instance: previous node, a chosen upstream node, the initiator's
node, or the end (terminate) — and, with `resume: return`, straight back afterwards.

Rejecting cancels the rejecting branch and every branch downstream of the target (they will be
re-run), so a rejection inside a parallel block never leaves a join waiting for a ghost.
"""

from __future__ import annotations

from typing import Any

from engine.flows.state import REJECTED


def previous_user_node(run: Any, node_id: str) -> str | None:
    """The upstream user node that passed most recently before `node_id`."""
    upstream = run.flow.upstream(node_id)
    for done in reversed(run.instance.completed):
        if done != node_id and done in run.flow.user_nodes and done in upstream:
            return done
    return None


def initiator_node(flow: Any) -> str | None:
    """The first user node after the start (the application the initiator filled)."""
    from engine.flows.model import InitiatorAssignee

    if flow.start is None:
        return None
    order: list[str] = []
    frontier = [flow.start]
    seen = {flow.start}
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for target in flow.out_targets[node]:
                if target not in seen:
                    seen.add(target)
                    order.append(target)
                    nxt.append(target)
        frontier = nxt
    users = [n for n in order if n in flow.user_nodes]
    for n in users:
        if any(isinstance(a, InitiatorAssignee) for a in flow.nodes[n].assignees):
            return n
    return users[0] if users else None


def reject_target(run: Any, node: Any, target: str | None) -> str | None:
    """Resolve the node a rejection goes to; None means the instance ends as rejected."""
    to = target or node.reject.to
    if to == "choose":
        to = "previous"
    if to == "terminate":
        return None
    if to == "previous":
        return previous_user_node(run, node.id)
    if to == "initiator":
        return initiator_node(run.flow)
    return to


def reject(run: Any, token: Any, node: Any, *, target: str | None = None, by: int | None = None) -> None:
    """Apply a node's rejection; the caller keeps driving the run afterwards."""
    dest = reject_target(run, node, target)
    run.record("node_rejected", node=node.id, by=by, to=dest or "terminate")
    if dest is None:
        run.finish(REJECTED)
        return
    inst = run.instance
    downstream = run.flow.downstream(dest)
    run.cancel_token(token)
    for other in list(inst.tokens.values()):
        if other.node == dest or other.node in downstream:
            run.cancel_token(other)
    if node.reject.resume == "return" and dest != node.id:
        inst.returns[dest] = node.id
    new = run.spawn(dest)
    run.arrive(new, dest)
