"""Sandbox bounds: how big an expression may be and how much work one evaluation may do.

They exist so that no text a rule author types (or pastes) can crash the parser, blow the Python
compiler's stack, or keep a worker busy forever. Every limit is reported as an `ExprError`.
"""

from __future__ import annotations

# Source text.
MAX_TEXT_LENGTH = 20_000
# AST nesting depth (parentheses, calls, operator chains). The generated Python nests about two
# parentheses per level and CPython refuses more than 200, so keep well under 100.
MAX_DEPTH = 64
# Digits in a number literal (Python refuses to parse very long integers, and none are useful).
MAX_NUMBER_DIGITS = 40

# Evaluation.
MAX_LIST_ITEMS = 10_000  # any list an expression builds (ranges, split, merge, map …)
MAX_TEXT_RESULT = 100_000  # characters of any text an expression builds (REPT, padding, &)
MAX_WORK = 1_000_000  # element visits by list functions (filter/map/any …) in one evaluation
MAX_REGEX_LENGTH = 300  # characters in a REGEX* pattern
MAX_WORKDAYS_SPAN = 100_000  # days a workday calculation may step over
