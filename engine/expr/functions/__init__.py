"""The expression function library; importing this package registers every function."""

from engine.expr.functions import (  # noqa: F401  (importing registers)
    dates,
    durations,
    geo,
    jsonlogic,
    lists,
    logic,
    lookup,
    number,
    regex,
    text,
    workdays,
)
from engine.expr.functions.registry import CATEGORIES, FunctionSpec, Param, all_functions, names, register
from engine.expr.functions.registry import lookup as find_function

__all__ = ["CATEGORIES", "FunctionSpec", "Param", "all_functions", "find_function", "names", "register"]
