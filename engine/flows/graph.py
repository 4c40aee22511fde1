"""A flow definition compiled for running: adjacency, compiled conditions, reachability.

Built once per pinned (key, version) and shared by every instance of it, so a step costs dict
look-ups, not graph searches: the per-step budget is a few microseconds (see bench/).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import networkx as nx

from engine.flows.actions import editable_fields
from engine.flows.model import Edge, FlowDefinition, NodeSpec
from engine.flows.nodes.base import NodeType, node_type


class CompiledFlow:
    """The runnable form of one flow version."""

    def __init__(self, definition: FlowDefinition, schema: Any = None) -> None:
        self.definition = definition
        self.key = definition.key
        self.version = definition.version
        self.schema = schema
        self.nodes: dict[str, NodeSpec] = {n.id: n for n in definition.nodes}
        self.handlers: dict[str, NodeType] = {}
        for n in definition.nodes:
            handler = node_type(n.type)
            if handler is None:
                raise ValueError(f"unknown node type {n.type!r}")
            self.handlers[n.id] = handler
        self.outgoing: dict[str, list[Edge]] = {n: [] for n in self.nodes}
        self.incoming: dict[str, list[Edge]] = {n: [] for n in self.nodes}
        for edge in definition.edges:
            if edge.source in self.outgoing and edge.target in self.incoming:
                self.outgoing[edge.source].append(edge)
                self.incoming[edge.target].append(edge)
        self.out_targets: dict[str, tuple[str, ...]] = {
            n: tuple(e.target for e in edges) for n, edges in self.outgoing.items()
        }
        self.start = next((n.id for n in definition.nodes if n.type == "start"), None)
        self.user_nodes = frozenset(n for n, h in self.handlers.items() if h.user_node)
        # Nodes where tokens can meet (two or more incoming edges): only these look for others.
        self.joins = frozenset(n for n, edges in self.incoming.items() if len(edges) >= 2)
        self._conditions: dict[tuple[str, int], Any] = {}
        # The plan: per node, the step functions its type compiled for this version (see
        # `NodeType.plan`) — what the token loop calls when a token arrives, as (enter, spec),
        # and what `settle` calls when one of its tasks is decided.
        self.entries: dict[str, tuple[Any, NodeSpec]] = {
            n: (self.handlers[n].plan(self, spec), spec) for n, spec in self.nodes.items()
        }
        # Per user node, the fields its task holders may set (None: all), for the decision check.
        self.editable: dict[str, frozenset[str] | None] = {}
        for node_id in self.user_nodes:
            allowed = editable_fields(self.nodes[node_id])
            self.editable[node_id] = None if allowed is None else frozenset(allowed)
        self.on_done: dict[str, Any] = {
            n: self.handlers[n].plan_done(self, spec) for n, spec in self.nodes.items()
        }

    @cached_property
    def graph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from((e.source, e.target) for e in self.definition.edges)
        return g

    @cached_property
    def _ancestors(self) -> dict[str, frozenset[str]]:
        return {n: frozenset(nx.ancestors(self.graph, n)) for n in self.nodes}

    @cached_property
    def _descendants(self) -> dict[str, frozenset[str]]:
        return {n: frozenset(nx.descendants(self.graph, n)) for n in self.nodes}

    def upstream(self, node_id: str) -> frozenset[str]:
        """Nodes from which `node_id` can be reached."""
        return self._ancestors[node_id]

    def downstream(self, node_id: str) -> frozenset[str]:
        return self._descendants[node_id]

    def condition(self, source: str, index: int) -> Any:
        """The compiled condition of the index-th outgoing edge of `source` (compiled on first use)."""
        return self.test(source, index)[2]

    def test(self, source: str, index: int) -> tuple[Any, bool, Any]:
        """(evaluate, whether it reads the expression context, the compiled condition) of the
        index-th outgoing edge of `source`, compiled on first use; a condition that never reads
        the clock, calendar or dictionaries is evaluated without building a context."""
        key = (source, index)
        test = self._conditions.get(key)
        if test is None:
            from engine.flows.conditions import compile_condition, reads_context

            compiled = compile_condition(self.outgoing[source][index].when or "true", self.schema)
            test = self._conditions[key] = (compiled.evaluate, reads_context(compiled), compiled)
        return test

    def node(self, node_id: str) -> NodeSpec:
        return self.nodes[node_id]
