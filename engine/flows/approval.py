"""Approval modes: when a multi-person node has decided, counting approvals and rejections apart.

BPMN engines count *completions* (`nrOfCompletedInstances`), so a rejection looks like progress
and a veto needs an extra variable; here approve and reject weights are tallied separately and
the node ends as soon as its outcome is certain (Warm-Flow's pass/reject ratios, FlowLong's
weights).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from engine.flows.state import DONE, WITHDRAWN, Task

Mode = Literal["single", "sequential", "countersign", "or_sign", "vote"]
Outcome = Literal["pending", "pass", "reject"]
EPSILON = 1e-9


def outcome(
    mode: str,
    tasks: Iterable[Task],
    *,
    queued_weight: float = 0.0,
    pass_ratio: float = 0.5,
    veto: bool = True,
) -> Outcome:
    """Decide a node from its top-level tasks (added signers are folded into their holder).

    `queued_weight` is the weight of people a sequential node has not asked yet.
    """
    approved = rejected = total = 0.0
    undecided = 0
    for task in tasks:
        if task.parent is not None or task.status == WITHDRAWN:
            continue
        total += task.weight
        if task.status != DONE:
            undecided += 1
        elif task.decision == "approve":
            approved += task.weight
        elif task.decision == "reject":
            rejected += task.weight
    total += queued_weight
    if mode in ("single", "or_sign"):
        if rejected:
            return "reject"
        return "pass" if approved else "pending"
    if mode in ("countersign", "sequential"):
        if rejected:
            return "reject"
        return "pass" if undecided == 0 and queued_weight == 0 and approved > 0 else "pending"
    # vote
    if rejected and veto:
        return "reject"
    needed = pass_ratio * total
    if approved + EPSILON >= needed:
        return "pass"
    if total - rejected + EPSILON < needed:
        return "reject"
    if undecided == 0 and queued_weight == 0:
        return "reject"
    return "pending"
