"""Write docs/schemas/dashboard.schema.json from the pydantic model:
`python -m engine.reports.schema_file`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine.reports.dashboard import dashboard_json_schema


def render() -> str:
    return json.dumps(dashboard_json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    target = Path(args[0]) if args else Path("docs/schemas/dashboard.schema.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
