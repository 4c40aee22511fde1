"""JSON text through orjson: every JSON column's text (`dumps`, the engines' `json_serializer`;
a flow instance's state document is rewritten on every step) and the canonical text an audit
entry's hash covers (`canonical`).

Why: a task completion saves its instance's whole state document, and the standard library's
encoder was a tenth of the step; orjson writes the same document about six times faster.
Where orjson refuses a value (an integer beyond 64 bits, a lone surrogate) or would write it
differently (subclasses of str/int/dict/list, dataclasses, datetimes: passed through to the
fallback) the text comes from `json.dumps`, so what reads back is what `json.dumps` would have
stored. Exceptions: NaN and ±Infinity, which are not JSON (PostgreSQL refuses them), are written
as null, and UUIDs and plain enums, which `json.dumps` refuses, are written as orjson does.
Reading stays with `json.loads`: orjson reads integers beyond 64 bits as floats.

`canonical` is the text of `json.dumps(value, sort_keys=True, ensure_ascii=False,
separators=(",", ":"), default=str)`, byte for byte for every value JSON storage gives back
(what the audit chain's verification re-encodes), about ten times faster on a record's data.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

import orjson

# Int keys become strings, as json.dumps makes them; the rest goes to json.dumps.
_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_DATETIME)


def dumps(value: Any) -> str:
    """Compact JSON text of `value`, read back by `json.loads` as `json.dumps(value)` is."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError included
        return json.dumps(value)


# What the audit log has always hashed: the standard library's sorted compact text, `str` for
# what JSON has no type for.
_SORTED = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
# Keys must be str (others go to the fallback, which converts them as json does before sorting).
_SORTED_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_DATETIME)
# orjson writes a float below 1e-4 as `0.00001` or `1e-5` where `repr` writes `1e-05`; every
# other finite float, every string and integer come out as json writes them (a test sweeps them).
# Either form (also inside a text that merely contains it) takes the fallback, and so do the
# floats PostgreSQL's JSONB would give back changed (`-0.0`, and from 1e16 up, `1e+16`). Substring
# tests first: a regular expression starting with a digit class scans a record's text 5x slower
# than orjson writes it.
_SHORT_EXPONENT = re.compile(rb"(?<=\d)e-\d(?!\d)")
# From here up every float is an integer, and JSONB (exact decimals) gives it back as one.
_INTEGRAL = 1e16


def canonical(value: Any) -> str:
    """Sorted, compact, unescaped JSON text of `value`: `legacy_canonical`'s text of `value`
    with its floats as any database gives them back — -0.0 as 0.0 and floats from 1e16 up as the
    integers their shortest decimal text means (JSONB keeps decimals, not floats; otherwise an
    entry hashed with `-0.0` would fail verification once stored on PostgreSQL), NaN and
    ±Infinity as null (as `dumps` writes them) — and plain enums as their values, not their
    `str`. So the text is what the audit entry's stored diff re-encodes to, on every database."""
    try:
        text = orjson.dumps(value, option=_SORTED_OPTIONS)
    except TypeError:
        return _SORTED.encode(_as_stored(value))
    if (b"0.0000" in text or b"-0.0" in text or b"e+" in text
            or (b"e-" in text and _SHORT_EXPONENT.search(text) is not None)):
        return _SORTED.encode(_as_stored(value))
    return text.decode()


def _as_stored(value: Any) -> Any:
    """`value` with each float as JSON storage gives it back (see `canonical`)."""
    if isinstance(value, float):
        if value != value or value in (math.inf, -math.inf):
            return None
        if value == 0:
            return 0.0
        if abs(value) >= _INTEGRAL:
            return int(Decimal(repr(value)))
        return value
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_stored(v) for v in value]
    return value


def legacy_canonical(value: Any) -> str:
    """The standard library's text: how audit entries written before `canonical` used orjson
    were hashed."""
    return _SORTED.encode(value)
