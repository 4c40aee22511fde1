"""Writing a definition format's JSON Schema into docs/schemas/: each engine's `schema_file`
module names its schema and file (`python -m engine.forms.schema_file`), and a test keeps the
committed file equal to what `render` gives."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def render(schema: dict[str, Any], *, sort_keys: bool = True) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=sort_keys) + "\n"


def write(text: str, default: str, argv: list[str] | None = None) -> int:
    """Write `text` to the path given on the command line, or to `default`."""
    args = argv if argv is not None else sys.argv[1:]
    target = Path(args[0]) if args else Path(default)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return 0
