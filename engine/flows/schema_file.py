"""Write docs/schemas/flow.schema.json from the pydantic model: `python -m engine.flows.schema_file`."""

from __future__ import annotations

from engine import schema_file
from engine.flows.definition import definition_json_schema


def render() -> str:
    return schema_file.render(definition_json_schema(), sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    return schema_file.write(render(), "docs/schemas/flow.schema.json", argv)


if __name__ == "__main__":
    raise SystemExit(main())
