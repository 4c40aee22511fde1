"""Which fields a caller may see and write: the union of the role grant's field rules (`Access`)
and, inside a flow, the node's own field permissions (a fill node may open three fields and
require one; an approve node may open only the opinion)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldPermissions:
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    # When set (a flow node), only these fields may be written.
    editable: frozenset[str] | None = None

    def locks(self, key: str) -> bool:
        return key in self.hidden or key in self.readonly or (self.editable is not None and key not in self.editable)

    @classmethod
    def of(cls, access: Any = None, node: FieldPermissions | None = None) -> FieldPermissions:
        """Combine an `engine.store.access.Access` (or None: a system actor, no limits) with a
        flow node's permissions: hidden/read-only add up, the node narrows what is editable."""
        hidden = frozenset(getattr(access, "hidden", ()) or ())
        readonly = frozenset(getattr(access, "readonly", ()) or ())
        if node is None:
            return cls(hidden=hidden, readonly=readonly)
        return cls(hidden=hidden | node.hidden, readonly=readonly | node.readonly, required=node.required,
                   editable=node.editable)
