"""The kinds of definition there are, where they live in a pack folder, and who checks them.

The one registry both `safeflow check` and pack installs use. Each engine's checker is
registered at wiring time (engine.runtime.definitions: forms check forms, flows check flows
against the forms they name, …); the machinery itself knows no kind's meaning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem


@dataclass(frozen=True)
class DefinitionSource:
    """One definition as read from a file: what checkers see (the text, for line/column)."""

    kind: str
    key: str
    file: str  # path inside the pack, or as given on the command line
    body: Any
    text: str


@dataclass
class CheckContext:
    """What a checker may look at besides the definition: every other definition of the pack
    being installed and the site's installed ones (for cross-references such as a flow's form)."""

    pack: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    installed: Callable[[str, str], Any | None] = lambda kind, key: None

    def lookup(self, kind: str, key: str) -> Any | None:
        found = self.pack.get((kind, key))
        return found if found is not None else self.installed(kind, key)


# (the definition, everything else it may refer to) -> located problems
Checker = Callable[[DefinitionSource, CheckContext], list[Problem]]
# Publishing a definition of a kind: (session, actor, key, body, pack) -> version. Engines that
# do more than store a version on publish (forms create expression indexes) register their own.
Publisher = Callable[[Any, Any, str, Any, str | None], int]


@dataclass
class DefinitionKind:
    kind: str
    folder: str
    suffix: str
    text: bool = False  # body is text (rules, print templates) rather than JSON
    checker: Checker | None = None
    publisher: Publisher | None = None

    def parse(self, raw: str, file: str) -> tuple[Any, list[Problem]]:
        if self.text:
            return raw, []
        try:
            return json.loads(raw), []
        except json.JSONDecodeError as exc:
            return None, [Problem("pack.bad_json", {"detail": exc.msg}, file=file, line=exc.lineno, column=exc.colno)]

    def dump(self, body: Any) -> str:
        if self.text:
            return body if body.endswith("\n") else body + "\n"
        return canonical_json_text(body)


def canonical_json_text(body: Any) -> str:
    """How JSON definitions are written in packs: 2-space indent, UTF-8 as is, key order kept."""
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


KINDS: dict[str, DefinitionKind] = {
    k.kind: k
    for k in (
        DefinitionKind("dictionary", "seed/dictionaries", ".json"),
        DefinitionKind("form", "forms", ".json"),
        DefinitionKind("flow", "flows", ".json"),
        DefinitionKind("template", "templates", ".json"),
        DefinitionKind("rule", "rules", ".rules", text=True),
        DefinitionKind("report", "reports", ".json"),
        DefinitionKind("print", "print", ".html", text=True),
    )
}
# Install order: what others refer to comes first.
ORDER = ["dictionary", "form", "flow", "template", "rule", "report", "print"]


def register_checker(kind: str, checker: Checker) -> None:
    KINDS[kind].checker = checker


def register_publisher(kind: str, publisher: Publisher) -> None:
    KINDS[kind].publisher = publisher


# Checks of a whole pack beyond its single definitions (e.g. running rules/tests/*.jsonl):
# (the loaded pack) -> problems. Registered like checkers.
PACK_CHECKS: list[Callable[[Any], list[Problem]]] = []


def register_pack_check(check: Callable[[Any], list[Problem]]) -> None:
    if check not in PACK_CHECKS:
        PACK_CHECKS.append(check)


def kind_for(relpath: str) -> DefinitionKind | None:
    for kind in KINDS.values():
        folder, _, name = relpath.rpartition("/")
        if folder == kind.folder and name.endswith(kind.suffix):
            return kind
    return None


def form_resolver(context: CheckContext) -> Any:
    """Forms by key as the check sees them (the pack's own first, then the site's); None for
    one that is missing or does not validate (its own check reports that)."""
    from engine.forms import FormDefinition

    def resolve(key: str) -> FormDefinition | None:
        body = context.lookup("form", key)
        if body is None:
            return None
        try:
            return FormDefinition.model_validate(body)
        except ValueError:
            return None

    return resolve
