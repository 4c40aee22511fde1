"""Fixtures for the expression-language tests (data lives in expr_support.py)."""

from __future__ import annotations

import pytest

from engine.expr import EvalContext, Schema
from tests.expr.expr_support import HAZARD, fixed_context


@pytest.fixture
def ctx() -> EvalContext:
    return fixed_context()


@pytest.fixture
def schema() -> Schema:
    return HAZARD
