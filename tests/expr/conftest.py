"""Fixtures for the expression-language tests (data lives in expr_support.py)."""

from __future__ import annotations

import pytest
from expr_support import HAZARD, fixed_context

from engine.expr import EvalContext, Schema


@pytest.fixture
def ctx() -> EvalContext:
    return fixed_context()


@pytest.fixture
def schema() -> Schema:
    return HAZARD
