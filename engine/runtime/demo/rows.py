"""The `rows` generator: a sub-table's rows, each field generated like a top-level one.

    gas:
      rows: {1: 5, 2: 4, 3: 1}        # how many: 3, "2..5", value: weight — or `each`
      sort: sampled_at                # order the new rows by a field afterwards
      unique: worker                  # drop a new row repeating an earlier row's value
      append: true                    # keep the rows already in the record, add these after
      fields:
        sampled_at: {moment: "-25min..-10min", from: "if(previous == null, now() + MINUTES(8), previous.sampled_at)"}
        flammable_pct: {range: [0.02, 0.15], decimals: 3}

Row expressions read the row's fields so far, and `record` (the record so far), `index`
(0-based, in the order rows are generated), `count` (rows generated) and `previous` (the row
before, or null). `rows: each` changes every row already in the record instead (a flow step
confirming a checklist): its fields are generated over each row and replace those values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.expr.types import INTEGER, ListType, RecordType, Schema
from engine.runtime.demo.values import Draw, check_value, generate, generator, shape, weighted

COUNT = re.compile(r"^\s*\d+\s*(\.\.\s*\d+\s*)?$")


def row_scope(schema: Schema | None, key: str) -> Schema | None:
    """What a row's expressions may read, or None when `key` is not a sub-table of `schema`."""
    found = schema.lookup(key) if schema is not None else None
    if not (isinstance(found, ListType) and isinstance(found.item, RecordType)):
        return None
    row = found.item.schema
    assert schema is not None
    variables = {"record": RecordType(schema), "index": INTEGER, "count": INTEGER, "previous": RecordType(row)}
    return Schema(fields=row.fields, variables=variables, name=f"{schema.name}.{key}")


def row_count(value: Any, draw: Draw) -> int:
    """`3`, `"2..5"` (both ends included) or `{2: 3, 3: 1}` (count: weight)."""
    if isinstance(value, Mapping):
        return int(weighted(draw.rng, value))
    low, _, high = str(value).partition("..")
    return draw.rng.randint(int(low), int(high or low))


@generator("rows", "fields", "sort", "unique", "append")
def _rows(value: Any, draw: Draw, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    key = draw.key
    scope = row_scope(draw.schema, key)
    fields: Mapping[str, Any] = spec.get("fields") or {}
    existing = [dict(row) for row in draw.data.get(key) or [] if isinstance(row, Mapping)]
    if value == "each":
        return [_row(draw, scope, key, fields, row, i, len(existing), existing[i - 1] if i else None)
                for i, row in enumerate(existing)]
    kept = existing if spec.get("append") else []
    count = row_count(value, draw)
    made: list[dict[str, Any]] = []
    for index in range(count):
        previous = made[-1] if made else (kept[-1] if kept else None)
        made.append(_row(draw, scope, key, fields, {}, index, count, previous))
    if spec.get("sort"):
        made.sort(key=lambda row: (row.get(spec["sort"]) is None, str(row.get(spec["sort"]))))
    if spec.get("unique"):
        seen, distinct = {row.get(spec["unique"]) for row in kept}, []
        for row in made:
            if row.get(spec["unique"]) not in seen:
                seen.add(row.get(spec["unique"]))
                distinct.append(row)
        made = distinct
    return kept + made


def _row(draw: Draw, scope: Schema | None, key: str, fields: Mapping[str, Any], row: dict[str, Any], index: int,
         count: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    """One row: its field specs generated in order over the row so far."""
    inner = Draw(draw.rng, draw.now, draw.tz, draw.form, scope or draw.schema, draw.world, draw.owner, row,
                 {"record": draw.data, "index": index, "count": count, "previous": previous}, draw.resolve)
    for name, field_spec in fields.items():
        given, result = generate(field_spec, inner, name)
        if given:
            row[name] = draw.resolve(f"{key}.{name}", result) if draw.resolve is not None else result
    return row


@shape("rows")
def _rows_shape(spec: Mapping[str, Any], schema: Schema | None, key: str) -> list[tuple[str, str]]:
    scope = row_scope(schema, key)
    if scope is None:
        return [("rows", f"rows fill a sub-table; {key or 'this field'} is not one")]
    value = spec["rows"]
    counts_ok = (isinstance(value, Mapping) and value and all(COUNT.match(str(k)) and "." not in str(k)
                                                            for k in value)) or value == "each" or (
        not isinstance(value, Mapping | bool) and COUNT.match(str(value)) is not None)
    problems = [] if counts_ok else [("rows", "expected a count such as 3 or 2..5, count: weight, or each")]
    fields = spec.get("fields")
    if not isinstance(fields, Mapping) or not fields:
        return [*problems, ("fields" if "fields" in spec else "rows", "expected fields: {row field: generator}")]
    for option in ("sort", "unique"):
        if option in spec and spec[option] not in scope.fields:
            problems.append((option, f"the rows of {key} have no field {spec[option]!r}"))
    if "append" in spec and not isinstance(spec["append"], bool):
        problems.append(("append", "expected true or false"))
    for name, field_spec in fields.items():
        if name not in scope.fields:
            problems.append((f"fields.{name}", f"the rows of {key} have no field {name!r}"))
            continue
        for sub, message in check_value(field_spec, scope, name):
            problems.append((f"fields.{name}.{sub}" if sub else f"fields.{name}", message))
    return problems
