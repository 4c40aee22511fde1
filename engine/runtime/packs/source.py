"""Reading a pack folder: manifest, definitions by kind, and the other files it carries."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Problem
from engine.runtime.packs.kinds import ORDER, DefinitionSource, kind_for
from engine.runtime.packs.manifest import PackManifest, load_manifest

SKIP = {"__pycache__", ".DS_Store"}
BINARY_PREFIX = "base64:"


@dataclass
class PackSource:
    root: Path
    manifest: PackManifest | None
    manifest_text: str
    definitions: list[DefinitionSource] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.manifest.key if self.manifest else self.root.name

    def by_id(self) -> dict[tuple[str, str], Any]:
        return {(d.kind, d.key): d.body for d in self.definitions}

    def ordered(self) -> list[DefinitionSource]:
        return sorted(self.definitions, key=lambda d: (ORDER.index(d.kind), d.key))

    def roles(self) -> list[dict[str, Any]]:
        text = self.files.get("seed/roles.yaml")
        return list(yaml.safe_load(text) or []) if text else []


def _read(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return BINARY_PREFIX + base64.b64encode(data).decode()


def write_file(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if content.startswith(BINARY_PREFIX):
        path.write_bytes(base64.b64decode(content[len(BINARY_PREFIX):]))
    else:
        path.write_bytes(content.encode("utf-8"))


def load_pack(root: Path) -> PackSource:
    """Read everything and collect every problem (bad YAML/JSON, keys that don't match names)."""
    root = root.resolve()
    manifest_path = root / "pack.yaml"
    if not manifest_path.is_file():
        return PackSource(root, None, "", problems=[Problem("pack.no_manifest", file=str(root / "pack.yaml"))])
    manifest_text = manifest_path.read_text(encoding="utf-8")
    manifest, problems = load_manifest(manifest_text, file=f"{root.name}/pack.yaml")
    source = PackSource(root, manifest, manifest_text, problems=list(problems))
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == "pack.yaml" or any(part in SKIP for part in path.parts):
            continue
        kind = kind_for(rel)
        if kind is None:
            source.files[rel] = _read(path)
            continue
        text = path.read_text(encoding="utf-8")
        shown = f"{root.name}/{rel}"
        body, errors = kind.parse(text, shown)
        source.problems.extend(errors)
        if errors:
            continue
        key = path.name[: -len(kind.suffix)]
        declared = body.get("key") if isinstance(body, dict) else None
        if declared is not None and declared != key:
            source.problems.append(Problem("pack.key_mismatch", {"key": declared, "name": key}, file=shown,
                                           path="key"))
        if not kind.text and kind.dump(body) != text:
            source.problems.append(Problem("pack.not_canonical", file=shown, severity="warning"))
        source.definitions.append(DefinitionSource(kind.kind, key, rel, body, text))
    roles_text = source.files.get("seed/roles.yaml")
    if roles_text:
        try:
            roles = yaml.safe_load(roles_text)
            if roles is not None and not isinstance(roles, list):
                raise yaml.YAMLError("expected a list of roles")
        except yaml.YAMLError as exc:
            source.problems.append(Problem("pack.bad_yaml", {"detail": str(exc)}, file=f"{root.name}/seed/roles.yaml"))
    return source
