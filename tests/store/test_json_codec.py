"""orjson writes what `json.dumps` would: the flow state document reads back the same, and the
audit hash's canonical text is the same bytes."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.store.json_codec import canonical, dumps, legacy_canonical

FINITE = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | st.integers() | FINITE | st.text()
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4), max_leaves=30)


@given(DOCUMENTS)
def test_any_json_value_reads_back_as_json_dumps_stores_it(value):
    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


def test_integers_beyond_64_bits_keep_every_digit():
    value = {"serial": 2**70, "small": [-(2**63) - 1]}
    assert json.loads(dumps(value)) == value


def test_a_lone_surrogate_is_kept():
    assert json.loads(dumps({"note": "\ud800"})) == {"note": "\ud800"}


def test_str_and_int_subclasses_are_written_as_their_plain_values():
    class Level(StrEnum):
        HIGH = "high"

    assert json.loads(dumps({"level": Level.HIGH, 3: True})) == {"level": "high", "3": True}


def test_a_value_json_refuses_is_still_refused():
    with pytest.raises(TypeError):
        dumps({"at": datetime(2026, 1, 5, tzinfo=UTC)})


def test_nan_is_written_as_null():
    assert json.loads(dumps({"x": math.nan, "y": [math.inf]})) == {"x": None, "y": [None]}


# --- canonical: the audit hash's text ------------------------------------------------------------

LEGACY = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
TEXT_KEYED = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


def stored(value):
    """A float as PostgreSQL's JSONB gives it back: no negative zero, exact decimals from 1e16 up."""
    if isinstance(value, float):
        return 0.0 if value == 0 else int(Decimal(repr(value))) if abs(value) >= 1e16 else value
    if isinstance(value, dict):
        return {k: stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stored(v) for v in value]
    return value


@given(TEXT_KEYED)
def test_canonical_is_the_standard_librarys_sorted_text_of_the_stored_value(value):
    assert canonical(value) == LEGACY.encode(stored(value))


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e-3, max_value=1e-3))
def test_canonical_writes_small_floats_as_repr_does(value):
    assert canonical([value, {"v": value}]) == LEGACY.encode(stored([value, {"v": value}]))


def test_canonical_writes_every_float_magnitude_as_repr_does_below_1e16():
    values = [float(f"{m}e{e}") for e in range(-323, 308) for m in (1, 1.5, 2.25, 9.999999, 7)]
    values += [-v for v in values]
    assert [canonical(v) for v in values] == [LEGACY.encode(stored(v)) for v in values]
    small = [v for v in values if abs(v) < 1e16]
    assert [canonical(v) for v in small] == [LEGACY.encode(v) for v in small]
    assert canonical({"tiny": 4.8e-06, "t": "0.00001 and 1e-5"}) == '{"t":"0.00001 and 1e-5","tiny":4.8e-06}'


def test_canonical_writes_floats_as_postgresql_gives_them_back():
    assert canonical([-0.0, 1e16, -2.5e22, 1.5e300, -0.05]) == (
        "[0.0,10000000000000000,-25000000000000000000000,15" + "0" * 299 + ",-0.05]")


def test_canonical_writes_every_code_point_as_json_does():
    text = "".join(chr(c) for c in range(0x3000) if not 0xD800 <= c < 0xE000) + "\U0001f525\u2028\x7f"
    assert canonical({"k": text, text: 1}) == LEGACY.encode({"k": text, text: 1})


def test_canonical_converts_and_sorts_other_keys_and_types_as_json_does():
    class Level(StrEnum):
        HIGH = "high"

    for value in [{3: "a", 1: "b"}, {"at": datetime(2026, 1, 5, tzinfo=UTC), "s": {1}}, {"big": 2**70},
                  {"level": Level.HIGH}, (1, 2), {"b": b"x"}]:
        assert canonical(value) == LEGACY.encode(value)


def test_canonical_writes_nan_as_null_like_dumps():
    assert canonical({"x": math.nan}) == '{"x":null}' and legacy_canonical({"x": math.nan}) == '{"x":NaN}'
