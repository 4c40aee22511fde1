"""Name resolution: what a bare name means at a given spot of an expression.

Innermost first: a list function's element (`item`, `acc`, or a field of the element), then an
aggregate's candidate row (every bare name that is not a named scope), then the form's fields,
the context's variables (`h`) and `record` (the whole current record). The checker records a
`Resolution` per Name node; the compiler and `bind` follow it instead of re-deciding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.expr.types import ANY, RecordType, Schema, Type

LAMBDA_NAMES = ("item", "acc")


@dataclass(frozen=True)
class Resolution:
    kind: str  # "field" | "variable" | "record" | "local" | "element" | "row"
    binding: str | None = None  # local/element: the lambda binding key ("L1:item")
    aggregate: int | None = None  # row: id() of the Aggregate whose candidate row it reads


@dataclass
class LambdaFrame:
    number: int
    bindings: dict[str, tuple[str, Type]]  # name → (binding key, type)
    element: Type
    ref_prefix: str | None  # field path of the list, for .references ("measures")

    def element_schema(self) -> Schema | None:
        if isinstance(self.element, RecordType) and not self.element.schema.open:
            return self.element.schema
        return None


@dataclass
class RowFrame:
    aggregate_id: int
    form: str
    schema: Schema | None  # None: the form's fields are unknown (no resolver) → any


@dataclass
class Scopes:
    schema: Schema
    frames: list[LambdaFrame | RowFrame] = field(default_factory=list)

    def scope_names(self) -> set[str]:
        """Names that always mean an outer scope, even inside an aggregate's `where`."""
        names = {"record", *self.schema.variables}
        for frame in self.frames:
            if isinstance(frame, LambdaFrame):
                names.update(frame.bindings)
        return names

    def resolve_head(self, head: str) -> tuple[Resolution, Type, int] | None:
        """(resolution, type of the head, index of the frame or -1 for root); None if unknown.

        For an element field the type returned is the element's record type (the path then
        starts at the head itself)."""
        scope_names = self.scope_names()
        for index in range(len(self.frames) - 1, -1, -1):
            frame = self.frames[index]
            if isinstance(frame, LambdaFrame):
                if head in frame.bindings:
                    key, t = frame.bindings[head]
                    return Resolution("local", binding=key), t, index
                if self._element_claims(frame, head, scope_names):
                    key, _ = frame.bindings["item"]
                    return Resolution("element", binding=key), frame.element, index
            elif head not in scope_names:
                row_type = RecordType(frame.schema) if frame.schema is not None else ANY
                return Resolution("row", aggregate=frame.aggregate_id), row_type, index
        if head in self.schema.fields:
            return Resolution("field"), self.schema.fields[head], -1
        if head in self.schema.variables:
            return Resolution("variable"), self.schema.variables[head], -1
        if head == "record":
            return Resolution("record"), RecordType(self.schema), -1
        if self.schema.open and head not in LAMBDA_NAMES:
            return Resolution("field"), ANY, -1
        return None

    def _element_claims(self, frame: LambdaFrame, head: str, scope_names: set[str]) -> bool:
        """Is `head` a field of the element? Known record elements claim their own fields;
        elements of unknown shape claim every name the form does not define."""
        schema = frame.element_schema()
        if schema is not None:
            return head in schema.fields
        if isinstance(frame.element, RecordType) or frame.element == ANY:
            if head in scope_names:
                return False
            return self.schema.open or head not in self.schema.fields
        return False

    def candidates(self) -> list[str]:
        """Names a did-you-mean may suggest at this spot."""
        names = [*self.schema.fields, *self.schema.variables, "record"]
        for frame in self.frames:
            if isinstance(frame, LambdaFrame):
                names.extend(frame.bindings)
                schema = frame.element_schema()
                if schema is not None:
                    names.extend(schema.fields)
            elif frame.schema is not None:
                names.extend(frame.schema.fields)
        return names
