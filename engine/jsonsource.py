"""JSON text with positions: where each value of a parsed document sits, as line and column.

`json` reports no positions for values, yet problems are found on parsed data (pydantic, the
expression checker, graph checks) and must be printed as `file:line:column`. `parse` returns the
document and a map from each JSON path (("fields", 3, "visible_if")) to its place in the text;
any engine that reads JSON definitions (forms, flows, dashboards) uses it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PathPart = str | int
Path = tuple[PathPart, ...]


def path_text(path: Sequence[PathPart]) -> str:
    """("fields", 3, "mode") -> "fields[3].mode" (the form problems carry as `path`)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Source:
    """A parsed JSON document and where its values are in the text (1-based line, column)."""

    data: Any
    text: str = ""
    positions: dict[Path, int] = field(default_factory=dict)
    file: str | None = None

    def locate(self, path: Sequence[PathPart]) -> tuple[int | None, int | None]:
        """Line and column of the value at `path`, or of its nearest located ancestor."""
        parts = tuple(path)
        while parts and parts not in self.positions:
            parts = parts[:-1]
        offset = self.positions.get(parts)
        if offset is None:
            return None, None
        return line_col(self.text, offset)


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


class _Scanner:
    """Walks text already known to be valid JSON, noting where each value starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.decoder = json.JSONDecoder()
        self.positions: dict[Path, int] = {}

    def skip(self, i: int) -> int:
        text = self.text
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    def value(self, i: int, path: Path) -> int:
        i = self.skip(i)
        self.positions[path] = i
        ch = self.text[i]
        if ch == "{":
            i = self.skip(i + 1)
            if self.text[i] == "}":
                return i + 1
            while True:
                key, i = self.decoder.raw_decode(self.text, self.skip(i))
                i = self.skip(i) + 1  # ':'
                i = self.skip(self.value(i, (*path, key)))
                if self.text[i] == "}":
                    return i + 1
                i += 1  # ','
        if ch == "[":
            i = self.skip(i + 1)
            if self.text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = self.skip(self.value(i, (*path, index)))
                index += 1
                if self.text[i] == "]":
                    return i + 1
                i += 1
        _, end = self.decoder.raw_decode(self.text, i)
        return end


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def parse(text: str | bytes, file: str | None = None) -> Source:
    """Parse JSON text keeping positions; raises JsonSyntaxError with line and column."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    elif text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(exc.msg, exc.lineno, exc.colno) from exc
    scanner = _Scanner(text)
    scanner.value(0, ())
    return Source(data=data, text=text, positions=scanner.positions, file=file)
