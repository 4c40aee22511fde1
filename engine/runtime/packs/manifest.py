"""pack.yaml: what a pack is, which version, what it needs."""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import Problem

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.-]+)?$")
REQUIREMENT = re.compile(r"^([a-z][a-z0-9_]*)\s*(?:(>=|==|>|<=|<)\s*(\d+\.\d+(?:\.\d+)?))?$")


def parse_version(text: str) -> tuple[int, ...]:
    parts = text.split("-")[0].split("+")[0].split(".")
    return tuple(int(p) for p in parts) + (0,) * (3 - len(parts))


def satisfies(version: str, op: str | None, wanted: str | None) -> bool:
    if op is None or wanted is None:
        return True
    have, want = parse_version(version), parse_version(wanted)
    return {">=": have >= want, "==": have == want, ">": have > want, "<=": have <= want, "<": have < want}[op]


class Label(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class PackManifest(BaseModel):
    """The manifest: a pack's identity, names in both languages, its version and requirements."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unique pack key, e.g. hazards")
    name: Label
    description: Label
    version: str = Field(description="Semantic version, e.g. 1.2.0")
    depends: list[str] = Field(default_factory=list, description='Other packs, e.g. "base>=1.0"')
    min_safeflow: str = Field(default="0.1.0", description="Oldest SafeFlow version it runs on")

    @field_validator("version", "min_safeflow")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.match(value) and not re.match(r"^\d+\.\d+$", value):
            raise ValueError("expected a version like 1.2.0")
        return value

    @field_validator("depends")
    @classmethod
    def _requirements(cls, value: list[str]) -> list[str]:
        for item in value:
            if not REQUIREMENT.match(item.strip()):
                raise ValueError(f'expected "pack" or "pack>=1.0", got {item!r}')
        return value

    def requirements(self) -> list[tuple[str, str | None, str | None]]:
        out = []
        for item in self.depends:
            match = REQUIREMENT.match(item.strip())
            assert match is not None
            out.append((match.group(1), match.group(2), match.group(3)))
        return out


def _line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """Find the line/column of a pydantic error location in the YAML node tree."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    if node is None:
        return None, None
    return node.start_mark.line + 1, node.start_mark.column + 1


def yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    """A YAML syntax error of a pack file, located where the parser stopped."""
    mark = getattr(exc, "problem_mark", None)
    return Problem("pack.bad_yaml", {"detail": str(getattr(exc, "problem", exc))}, file=file,
                   line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None)


def load_manifest(text: str, file: str = "pack.yaml") -> tuple[PackManifest | None, list[Problem]]:
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [yaml_problem(exc, file)]
    if not isinstance(raw, dict):
        return None, [Problem("pack.bad_manifest", {"detail": "expected a mapping"}, file=file, line=1, column=1)]
    try:
        return PackManifest.model_validate(raw), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line, column = _line_of(node, tuple(err["loc"]))
            problems.append(Problem("pack.bad_manifest", {"detail": err["msg"]}, file=file,
                                    path=".".join(map(str, err["loc"])), line=line, column=column))
        return None, problems
