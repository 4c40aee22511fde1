"""Write docs/schemas/dashboard.schema.json from the pydantic model:
`python -m engine.reports.schema_file`."""

from __future__ import annotations

from engine import schema_file
from engine.reports.dashboard import dashboard_json_schema


def render() -> str:
    return schema_file.render(dashboard_json_schema())


def main(argv: list[str] | None = None) -> int:
    return schema_file.write(render(), "docs/schemas/dashboard.schema.json", argv)


if __name__ == "__main__":
    raise SystemExit(main())
