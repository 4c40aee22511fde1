"""Where each node sits on a canvas: used by the BPMN diagram export and the instance SVG.

Nodes are placed in columns by their longest distance from the start (back edges of loops are
ignored), rows in order of appearance; a designer-given `position` wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from engine.flows.model import FlowDefinition

SIZES = {"start": (36, 36), "end": (36, 36), "wait": (36, 36), "exclusive": (50, 50), "parallel": (50, 50),
         "inclusive": (50, 50)}
TASK = (100, 80)
COLUMN = 170
ROW = 130


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


def layout(definition: FlowDefinition) -> dict[str, Box]:
    ids = [n.id for n in definition.nodes]
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((e.source, e.target) for e in definition.edges if e.source in graph and e.target in graph)
    start = next((n.id for n in definition.nodes if n.type == "start"), ids[0] if ids else None)
    # Drop back edges (found by DFS from the start) so the rest is a DAG to layer.
    dag = graph.copy()
    if start is not None:
        for u, v, kind in nx.dfs_labeled_edges(graph, start):
            if kind == "reverse" or u == v:
                continue
            if kind == "nontree" and v in nx.ancestors(dag, u) | {u}:
                dag.remove_edge(u, v)
    while not nx.is_directed_acyclic_graph(dag):
        cycle = nx.find_cycle(dag)
        dag.remove_edge(*cycle[-1][:2])
    column: dict[str, int] = {}
    for node in nx.topological_sort(dag):
        preds = list(dag.predecessors(node))
        column[node] = max((column[p] + 1 for p in preds), default=0)
    rows: dict[int, int] = {}
    boxes: dict[str, Box] = {}
    for node in definition.nodes:
        col = column.get(node.id, 0)
        row = rows.get(col, 0)
        rows[col] = row + 1
        width, height = SIZES.get(node.type, TASK)
        if node.position is not None:
            x, y = node.position
        else:
            x = 60 + col * COLUMN + (TASK[0] - width) / 2
            y = 60 + row * ROW + (TASK[1] - height) / 2
        boxes[node.id] = Box(x, y, width, height)
    return boxes
