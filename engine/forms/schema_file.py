"""Write docs/schemas/form.schema.json from the pydantic model: `python -m engine.forms.schema_file`."""

from __future__ import annotations

from engine import schema_file
from engine.forms.model import definition_json_schema


def render() -> str:
    return schema_file.render(definition_json_schema())


def main(argv: list[str] | None = None) -> int:
    return schema_file.write(render(), "docs/schemas/form.schema.json", argv)


if __name__ == "__main__":
    raise SystemExit(main())
