"""The flow state document's JSON text (orjson) reads back as `json.dumps` would have stored it."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.store.json_codec import dumps

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
