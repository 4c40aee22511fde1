"""docs/expr-functions.md is generated from the registry and must be up to date."""

from __future__ import annotations

from pathlib import Path

from engine.expr.docgen import render
from engine.expr.functions import all_functions

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_function_reference_is_generated_from_the_registry() -> None:
    committed = (DOCS / "expr-functions.md").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m engine.expr.docgen > docs/expr-functions.md"


def test_function_reference_lists_every_function_and_alias() -> None:
    page = render()
    for spec in all_functions():
        assert f"`{spec.name.upper()}(" in page
        for alias in spec.aliases:
            assert f"`{alias.upper()}`" in page


def test_language_reference_exists_and_covers_the_semantics() -> None:
    page = (DOCS / "expr.md").read_text(encoding="utf-8")
    for heading in (
        "## Null",
        "## Dates, times and time zones",
        "## Aggregates",
        "## Sandbox",
        "## Errors",
        "## Performance",
        "## JSON Logic",
    ):
        assert heading in page, heading
