"""The port through which an instance running on a stored record keeps that record current.

The flow engine edits `instance.data` as people fill and approve; the record (what lists,
dashboards and rules read) must show the same. The server implements this port with the form
engine's record service; simulations and benches run without it.
"""

from __future__ import annotations

from typing import Any, Protocol

from engine.flows.state import FlowInstance


class RecordSync(Protocol):
    def sync(self, inst: FlowInstance, before: dict[str, Any], before_status: str, actor: int | None) -> None:
        """Write the fields that changed since `before` (and a new status) to the record."""
        ...

    # Optional: `refresh(inst)` puts the form's computed values (formulas) over the data a task
    # just submitted into `inst.data` without writing, so gateways further along see them.
