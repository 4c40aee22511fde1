"""Graph validation: every problem of a flow at once, each with the node or edge it is about.

Shape errors come from the pydantic model (engine.flows.definition); this module checks what a
schema cannot: reachability, dead ends, dangling edges, splits without joins, gateways without
a way out, reject targets, durations, and expressions type-checked against the form's schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from engine.errors import Problem
from engine.flows import model as m
from engine.flows.durations import parse_duration
from engine.flows.graph import CompiledFlow
from engine.flows.source import locate
from engine.i18n import LOCALES

_EXIT = "\x00exit"


def schema_fields(schema: Any) -> set[str] | None:
    """Field keys of an expression Schema (None when there is no schema to check against)."""
    if schema is None:
        return None
    fields = getattr(schema, "fields", None)
    if isinstance(fields, Mapping):
        return set(fields)
    return None


class GraphContext:
    """What node types need to validate themselves, and how to locate what they report."""

    def __init__(
        self,
        definition: m.FlowDefinition,
        schema: Any = None,
        *,
        catalog: Any = None,
        text: str | None = None,
        file: str | None = None,
    ) -> None:
        self.definition = definition
        self.schema = schema
        self.fields = schema_fields(schema)
        self.catalog = catalog
        self.text = text
        self.file = file
        self.flow = CompiledFlow(definition, schema)
        self.index = {n.id: i for i, n in enumerate(definition.nodes)}

    def _at(self, parts: list[Any]) -> dict[str, Any]:
        where = locate(self.text, parts) if self.text else None
        return {"line": where[0], "column": where[1]} if where else {}

    def problem(
        self, code: str, node_id: str, *, path: str | None = None, severity: str = "error", **params: Any
    ) -> Problem:
        index = self.index.get(node_id)
        parts: list[Any] = ["nodes", index] if index is not None else []
        if path:
            parts += [p for p in path.replace("[", ".").replace("]", "").split(".") if p]
            parts = [int(p) if isinstance(p, str) and p.isdigit() else p for p in parts]
        text_path = f"nodes[{index}]" + (f".{path}" if path else "") if index is not None else path
        return Problem(
            code,
            {"node": node_id, **params},
            file=self.file,
            path=text_path,
            severity=severity,
            **self._at(parts),
        )  # type: ignore[arg-type]

    def edge_problem(
        self, code: str, index: int, *, field: str | None = None, severity: str = "error", **params: Any
    ) -> Problem:
        parts: list[Any] = ["edges", index] + ([field] if field else [])
        path = f"edges[{index}]" + (f".{field}" if field else "")
        return Problem(
            code,
            params,
            file=self.file,
            path=path,
            severity=severity,  # type: ignore[arg-type]
            **self._at(parts),
        )

    def outgoing_with_index(self, node_id: str) -> list[tuple[int, m.Edge]]:
        return [(i, e) for i, e in enumerate(self.definition.edges) if e.source == node_id]

    def expression_problems(
        self, text: str, node_id: str, path: str, *, condition: bool = False
    ) -> list[Problem]:
        """Type-checked against the form's schema; without one, every name is `any` (syntax and
        function checks still apply)."""
        from engine.flows.conditions import check_condition, check_expression, open_schema

        schema = self.schema if self.schema is not None else open_schema()
        found = check_condition(text, schema) if condition else check_expression(text, schema)
        return [
            self.problem("flow.expression", node_id, path=path, expr=text,
                         error={loc: p.message(loc) for loc in LOCALES})
            for p in found
            if p.severity == "error"
        ]

    def duration_problems(self, text: str, node_id: str, path: str) -> list[Problem]:
        try:
            parse_duration(text)
        except ValueError as exc:
            return [self.problem("flow.duration", node_id, path=path, error=str(exc))]
        return []

    def assignee_problems(self, node: Any, specs: Iterable[Any], attr: str) -> list[Problem]:
        problems = []
        for i, spec in enumerate(specs):
            where = f"{attr}[{i}]"
            for field in (getattr(spec, "field", None), getattr(spec, "within_field", None)):
                if field and self.fields is not None and field not in self.fields:
                    problems.append(self.problem("flow.field.unknown", node.id, path=where, field=field))
            head = getattr(spec, "department_head", None)
            if isinstance(head, dict) and self.fields is not None and head["field"] not in self.fields:
                problems.append(self.problem("flow.field.unknown", node.id, path=where, field=head["field"]))
            if isinstance(spec, m.ExprAssignee):
                problems += self.expression_problems(spec.expr, node.id, f"{where}.expr")
        return problems

    def user_node_problems(self, node: Any) -> list[Problem]:
        problems = []
        if not node.assignees:
            problems.append(self.problem("flow.assignee.missing", node.id, path="assignees"))
        problems += self.assignee_problems(node, node.assignees, "assignees")
        if self.fields is not None:
            for key in node.fields:
                if key not in self.fields:
                    problems.append(
                        self.problem("flow.field.unknown", node.id, path=f"fields.{key}", field=key)
                    )
        to = node.reject.to
        if to not in ("previous", "initiator", "terminate", "choose"):
            flow = self.flow
            if to not in flow.user_nodes or to not in flow.upstream(node.id):
                problems.append(self.problem("flow.reject.bad_target", node.id, path="reject.to", target=to))
        if node.deadline is not None:
            d = node.deadline
            problems += self.duration_problems(d.after, node.id, "deadline.after")
            if d.remind_every:
                problems += self.duration_problems(d.remind_every, node.id, "deadline.remind_every")
            if d.on_timeout == "jump" and (d.target is None or d.target not in self.flow.nodes):
                problems.append(
                    self.problem("flow.deadline.bad_target", node.id, path="deadline.target", target=d.target)
                )
        return problems


def validate_flow(
    definition: m.FlowDefinition,
    schema: Any = None,
    *,
    catalog: Any = None,
    text: str | None = None,
    file: str | None = None,
) -> list[Problem]:
    """Every graph and expression problem of a parsed definition (errors and warnings)."""
    ctx = GraphContext(definition, schema, catalog=catalog, text=text, file=file)
    flow = ctx.flow
    problems: list[Problem] = []
    ids = [n.id for n in definition.nodes]
    for node_id in {i for i in ids if ids.count(i) > 1}:
        problems.append(ctx.problem("flow.node.duplicate", node_id, path="id"))
    starts = [n.id for n in definition.nodes if n.type == "start"]
    ends = [n.id for n in definition.nodes if n.type == "end"]
    if not starts:
        problems.append(Problem("flow.start.missing", file=file, path="nodes"))
    for extra in starts[1:]:
        problems.append(ctx.problem("flow.start.many", extra))
    if not ends:
        problems.append(Problem("flow.end.missing", file=file, path="nodes"))

    for i, edge in enumerate(definition.edges):
        for end, field in ((edge.source, "from"), (edge.target, "to")):
            if end not in flow.nodes:
                problems.append(ctx.edge_problem("flow.edge.dangling", i, field=field, node=end))
        source = flow.nodes.get(edge.source)
        if (
            source is not None
            and (edge.when or edge.default)
            and source.type not in ("exclusive", "inclusive")
        ):
            problems.append(
                ctx.edge_problem("flow.edge.condition_not_on_gateway", i, field="when", node=edge.source)
            )
        elif source is not None and edge.when:
            problems += [
                ctx.edge_problem(
                    "flow.edge.condition", i, field="when", error=p.params.get("error"), expr=edge.when
                )
                for p in ctx.expression_problems(edge.when, edge.source, "", condition=True)
            ]

    graph = flow.graph
    if starts:
        reachable = nx.descendants(graph, starts[0]) | {starts[0]}
        for node_id in ids:
            if node_id not in reachable:
                problems.append(ctx.problem("flow.node.unreachable", node_id))
    if ends:
        can_end = set(ends)
        for end in ends:
            can_end |= nx.ancestors(graph, end)
        for node_id in ids:
            if node_id not in can_end:
                problems.append(ctx.problem("flow.node.dead_end", node_id))

    for node in definition.nodes:
        out = flow.outgoing[node.id]
        if len(out) > 1 and node.type not in ("exclusive", "parallel", "inclusive"):
            problems.append(ctx.problem("flow.node.many_outgoing", node.id, count=len(out)))
        problems += flow.handlers[node.id].validate(node, ctx)
    problems += _split_join_problems(ctx, ends)
    return problems


def _split_join_problems(ctx: GraphContext, ends: list[str]) -> list[Problem]:
    """A parallel (or inclusive) split must be closed by a join of its own kind: the nearest node
    every path from the split passes through (its immediate post-dominator)."""
    flow = ctx.flow
    splits = [
        n
        for n in ctx.definition.nodes
        if n.type in ("parallel", "inclusive") and len(flow.outgoing[n.id]) > 1
    ]
    if not splits or not ends:
        return []
    reverse = flow.graph.reverse(copy=True)
    reverse.add_edges_from((_EXIT, end) for end in ends)
    try:
        ipdom = nx.immediate_dominators(reverse, _EXIT)
    except (nx.NetworkXError, KeyError):
        return []
    problems = []
    for split in splits:
        join = ipdom.get(split.id)
        node = flow.nodes.get(join) if join else None
        if node is None or node.type != split.type or len(flow.incoming[join]) < 2:
            problems.append(ctx.problem("flow.split.no_join", split.id, kind=split.type))
    return problems
