"""JSON text for the documents rewritten on every flow step, through orjson.

Why: a task completion saves its instance's whole state document, and the standard library's
encoder was a tenth of the step; orjson writes the same document about six times faster.
Where orjson refuses a value (an integer beyond 64 bits, a lone surrogate) or would write it
differently (subclasses of str/int/dict/list, dataclasses, datetimes: passed through to the
fallback) the text comes from `json.dumps`, so what reads back is what `json.dumps` would have
stored. Exceptions: NaN and ±Infinity, which are not JSON (PostgreSQL refuses them), are written
as null, and UUIDs and plain enums, which `json.dumps` refuses, are written as orjson does.
Reading stays with `json.loads`: orjson reads integers beyond 64 bits as floats.
"""

from __future__ import annotations

import json
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
