"""The type system: primitive types, lists, records, and the `Schema` an expression is checked
against (a form's fields, relations as nested records, subtables as lists of records).

A schema's `fingerprint` is part of the compile-cache key, so editing a form recompiles its
expressions while identical forms share compiled code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


class Type:
    """Base of all types; `str(t)` is the spelling used in docs and `parse_type`."""

    def label(self) -> dict[str, str]:
        from engine.expr.values import type_label

        return type_label(str(self))


@dataclass(frozen=True, slots=True)
class Prim(Type):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ListType(Type):
    item: Type

    def __str__(self) -> str:
        return f"list[{self.item}]"


@dataclass(frozen=True, slots=True, eq=False)
class RecordType(Type):
    schema: Schema

    def __str__(self) -> str:
        return f"record({self.schema.name})" if self.schema.name else "record"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordType) and other.schema.fingerprint == self.schema.fingerprint

    def __hash__(self) -> int:
        return hash(self.schema.fingerprint)


@dataclass(frozen=True, slots=True)
class TypeVar(Type):
    """A placeholder in function signatures (`T` in `coalesce(T, T…) -> T`)."""

    name: str = "T"

    def __str__(self) -> str:
        return self.name


TEXT = Prim("text")
NUMBER = Prim("number")
INTEGER = Prim("integer")
BOOLEAN = Prim("boolean")
DATE = Prim("date")
DATETIME = Prim("datetime")
DURATION = Prim("duration")
NULL = Prim("null")
ANY = Prim("any")
T = TypeVar("T")

PRIMITIVES = {t.name: t for t in (TEXT, NUMBER, INTEGER, BOOLEAN, DATE, DATETIME, DURATION, NULL, ANY)}
NUMERIC = (INTEGER, NUMBER)
TEMPORAL = (DATE, DATETIME)


def list_of(item: Type) -> ListType:
    return ListType(item)


def record(schema: Schema | Mapping[str, Any]) -> RecordType:
    return RecordType(schema if isinstance(schema, Schema) else Schema.of(schema))


@dataclass(frozen=True)
class Schema:
    """Names an expression may read: `fields` come from the data mapping, `variables` from
    `EvalContext.variables` (a rule alias such as `h`). `open` schemas accept any name as `any`
    (used for JSON-logic style data); `version` is an optional label folded into the fingerprint."""

    fields: Mapping[str, Type] = field(default_factory=dict)
    variables: Mapping[str, Type] = field(default_factory=dict)
    name: str | None = None
    open: bool = False
    version: str | int | None = None

    @classmethod
    def of(cls, spec: Mapping[str, Any], *, name: str | None = None, **kw: Any) -> Schema:
        """Build from a compact spec: `{"title": "text", "measures": [{"cost": "number"}],
        "area": {"name": "text"}}` (a list of one mapping is a subtable, a mapping a relation)."""
        return cls(fields={k: parse_type(v) for k, v in spec.items()}, name=name, **kw)

    @classmethod
    def open_schema(cls) -> Schema:
        return OPEN

    def with_variables(self, **variables: Type | Schema | Mapping[str, Any] | str) -> Schema:
        merged = dict(self.variables)
        merged.update({k: parse_type(v) for k, v in variables.items()})
        return Schema(self.fields, merged, self.name, self.open, self.version)

    def lookup(self, name: str) -> Type | None:
        found = self.fields.get(name)
        if found is None and self.open:
            return ANY
        return found

    @cached_property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(self._describe().encode()).hexdigest()
        return digest[:16]

    def _describe(self) -> str:
        def desc(t: Type) -> str:
            if isinstance(t, RecordType):
                return "{" + t.schema._describe() + "}"
            if isinstance(t, ListType):
                return f"list[{desc(t.item)}]"
            return str(t)

        body = ",".join(f"{k}:{desc(v)}" for k, v in sorted(self.fields.items()))
        scope = ",".join(f"{k}:{desc(v)}" for k, v in sorted(self.variables.items()))
        return f"{self.name}|{self.version}|{self.open}|{body}|{scope}"

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and other.fingerprint == self.fingerprint


OPEN = Schema(open=True, name="open")


def parse_type(spec: Any) -> Type:
    """`"number"`, `"list[text]"`, `{"name": "text"}` (record), `[{...}]` (list of records),
    a `Schema` or a `Type` → a Type."""
    if isinstance(spec, Type):
        return spec
    if isinstance(spec, Schema):
        return RecordType(spec)
    if isinstance(spec, Mapping):
        return RecordType(Schema.of(spec))
    if isinstance(spec, list | tuple) and len(spec) == 1:
        return ListType(parse_type(spec[0]))
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("list[") and text.endswith("]"):
            return ListType(parse_type(text[5:-1]))
        if text == "list":
            return ListType(ANY)
        if text == "record":
            return RecordType(OPEN)
        if text in PRIMITIVES:
            return PRIMITIVES[text]
    raise ValueError(f"not a type: {spec!r}")


def is_numeric(t: Type) -> bool:
    return t in NUMERIC


def is_temporal(t: Type) -> bool:
    return t in TEMPORAL


def assignable(src: Type, dst: Type) -> bool:
    """Can a value of type `src` be used where `dst` is expected?"""
    if src == dst or src in (ANY, NULL) or dst == ANY:
        return True
    if src == INTEGER and dst == NUMBER:
        return True
    if src == DATE and dst == DATETIME:
        return True
    if isinstance(src, ListType) and isinstance(dst, ListType):
        return assignable(src.item, dst.item)
    if isinstance(src, RecordType) and isinstance(dst, RecordType):
        return dst.schema.open or src.schema.open
    return False


def unify(types: Iterable[Type]) -> Type | None:
    """The common type of several values (if-branches, list items); None when they clash."""
    result: Type = NULL
    for t in types:
        if t in (NULL, result):
            continue
        if result == NULL:
            result = t
        elif ANY in (t, result):
            result = ANY
        elif {t, result} <= {INTEGER, NUMBER}:
            result = NUMBER
        elif {t, result} <= {DATE, DATETIME}:
            result = DATETIME
        elif isinstance(t, ListType) and isinstance(result, ListType):
            inner = unify([t.item, result.item])
            if inner is None:
                return None
            result = ListType(inner)
        elif isinstance(t, RecordType) and isinstance(result, RecordType):
            result = RecordType(OPEN)
        else:
            return None
    return result


def comparable(a: Type, b: Type, *, ordering: bool) -> bool:
    """May `a` and `b` be compared? (`==` for every family; `<` only for ordered ones.)"""
    if ANY in (a, b) or NULL in (a, b):
        return not ordering or (a != BOOLEAN and b != BOOLEAN)
    for family in (NUMERIC, TEMPORAL, (TEXT,), (DURATION,)):
        if a in family and b in family:
            return True
    if ordering:
        return False
    if a == BOOLEAN and b == BOOLEAN:
        return True
    if isinstance(a, ListType) and isinstance(b, ListType):
        return comparable(a.item, b.item, ordering=False)
    return isinstance(a, RecordType) and isinstance(b, RecordType)
