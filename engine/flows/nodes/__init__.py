"""Built-in node types; importing this package registers them."""

from engine.flows.nodes import approve, automation, events, gateways, notify, user, waiting
from engine.flows.nodes.base import NodeType, node_type, node_types, register_node_type

__all__ = [
    "NodeType",
    "approve",
    "automation",
    "events",
    "gateways",
    "node_type",
    "node_types",
    "notify",
    "register_node_type",
    "user",
    "waiting",
]
