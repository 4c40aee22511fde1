"""Reading a flow definition: JSON in, a typed `FlowDefinition` or located problems out.

Node specs are a discriminated union over the registered node types, built from the registry so
a new node type is one registered class; the published JSON Schema comes from the same union.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field, ValidationError, create_model

from engine.errors import InvalidInput, Problem
from engine.flows import messages as _messages  # noqa: F401  (registers texts)
from engine.flows import nodes as _nodes  # noqa: F401  (registers the built-in node types)
from engine.flows.model import FlowDefinition
from engine.flows.nodes.base import node_types, on_registry_change
from engine.flows.source import load_json, locate, path_text


@cache
def definition_model() -> type[FlowDefinition]:
    """FlowDefinition whose `nodes` is the union of every registered node type's spec."""
    specs = tuple(t.spec for t in node_types().values())
    node_union = Annotated[Union[specs], Field(discriminator="type")]  # noqa: UP007
    return create_model(  # type: ignore[call-overload, no-any-return]
        "FlowDefinition",
        __base__=FlowDefinition,
        __doc__=FlowDefinition.__doc__,
        nodes=(list[node_union], ...),
    )


on_registry_change(definition_model.cache_clear)


def _problems_from(exc: ValidationError, text: str | None, file: str | None) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        # The discriminated union adds the tag as a path element: nodes.3.approve.mode.
        if len(loc) >= 3 and loc[0] == "nodes" and isinstance(loc[1], int) and loc[2] in node_types():
            del loc[2]
        where = locate(text, loc) if text else None
        if err["type"] == "union_tag_invalid":
            code, params = (
                "flow.node.unknown_type",
                {
                    "type": err["input"].get("type") if isinstance(err["input"], dict) else err["input"],
                    "known": ", ".join(sorted(node_types())),
                },
            )
            loc = [*loc, "type"]
            where = locate(text, loc) if text else where
        elif err["type"] == "union_tag_not_found":
            code, params = "flow.node.missing_type", {}
        else:
            code, params = "flow.schema", {"error": err["msg"]}
        problems.append(
            Problem(
                code,
                params,
                file=file,
                path=path_text(loc),
                line=where[0] if where else None,
                column=where[1] if where else None,
            )
        )
    return problems


def parse_definition(source: str | bytes | Mapping[str, Any], *, file: str | None = None) -> FlowDefinition:
    """Validate the shape of a definition (not yet its graph); raise InvalidInput with every problem."""
    text: str | None = None
    if isinstance(source, bytes | str):
        text = source.decode() if isinstance(source, bytes) else source
        raw, problems = load_json(text, file)
        if problems:
            raise InvalidInput.from_problems(problems)
    else:
        raw = source
    try:
        return definition_model().model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput.from_problems(_problems_from(exc, text, file)) from None


def definition_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the flow definition format (docs/schemas/flow.schema.json)."""
    schema = definition_model().model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://safeflow.dev/schemas/flow.schema.json"
    schema["title"] = "SafeFlow flow definition"
    return schema


def dump_definition(definition: FlowDefinition) -> str:
    """Byte-stable JSON text of a definition (same input, same bytes)."""
    return json.dumps(definition.to_dict(), ensure_ascii=False, indent=2) + "\n"
