"""Installing bundled packs together with the packs they depend on, in dependency order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import networkx as nx

from engine.errors import InvalidInput, NotFound, Problem
from engine.runtime.packs.installer import InstallReport, Packs, bundled_packs, find_pack
from engine.runtime.packs.source import PackSource, load_pack


def install_order(target: PackSource, installed: set[str]) -> list[PackSource]:
    """The target and its not-yet-installed dependencies from the library, dependencies first."""
    library = {p.key: p for p in bundled_packs()}
    graph = nx.DiGraph()
    graph.add_node(target.key)
    sources = {target.key: target}
    pending = [target]
    problems = []
    while pending:
        source = pending.pop()
        for name, _op, _version in (source.manifest.requirements() if source.manifest else []):
            if name in installed:
                continue
            if name not in library:
                problems.append(Problem("pack.missing_dependency", {"pack": name, "wanted": ""},
                                        file=f"{source.root.name}/pack.yaml", path="depends"))
                continue
            graph.add_edge(name, source.key)
            if name not in sources:
                sources[name] = library[name]
                pending.append(library[name])
    if problems:
        raise InvalidInput("pack.invalid", problems=problems, pack=target.key)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " → ".join(str(edge[0]) for edge in nx.find_cycle(graph))
        raise InvalidInput("pack.invalid", pack=target.key,
                           problems=[Problem("pack.dependency_cycle", {"cycle": cycle})])
    return [sources[key] for key in nx.topological_sort(graph)]


def install_with_dependencies(packs: Packs, name_or_path: str | Path,
                              progress: Callable[[str], None] | None = None) -> list[InstallReport]:
    try:
        target = load_pack(find_pack(name_or_path))
    except NotFound:
        raise
    installed = {row.key for row in packs.installed()}
    reports = []
    for source in install_order(target, installed):
        if progress:
            progress(source.key)
        reports.append(packs.install(source))
    return reports
