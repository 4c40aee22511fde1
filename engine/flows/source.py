"""Where a JSON path sits in the source text, so a problem can say `file:line:column`.

`json` does not report positions of values, and problems are found on parsed data (pydantic,
graph checks); this small scanner maps a path like ("nodes", 3, "mode") back to the text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

PathPart = str | int


def path_text(path: Sequence[PathPart]) -> str:
    """("nodes", 3, "mode") -> "nodes[3].mode"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.decoder = json.JSONDecoder()
        self.positions: dict[tuple[PathPart, ...], int] = {}

    def skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t\r\n":
            i += 1
        return i

    def value(self, i: int, path: tuple[PathPart, ...]) -> int:
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


def locate(text: str, path: Sequence[PathPart]) -> tuple[int, int] | None:
    """Line and column (1-based) of the value at `path`, or of its nearest located ancestor."""
    scanner = _Scanner(text)
    try:
        scanner.value(0, ())
    except (ValueError, IndexError):
        return None
    parts = tuple(path)
    while parts not in scanner.positions and parts:
        parts = parts[:-1]
    offset = scanner.positions.get(parts)
    return None if offset is None else _line_col(text, offset)


def load_json(text: str, file: str | None = None) -> tuple[Any, list[Any]]:
    """Parse JSON text; a syntax error becomes a located problem instead of an exception."""
    from engine.errors import Problem

    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [
            Problem("flow.json_syntax", {"error": exc.msg}, file=file, line=exc.lineno, column=exc.colno)
        ]
