"""The expression function library; importing this package registers every function."""

from engine.expr.functions import dates, jsonlogic, lists, logic, lookup, number, text  # noqa: F401
from engine.expr.functions.registry import CATEGORIES, FunctionSpec, Param, all_functions, names, register
from engine.expr.functions.registry import lookup as find_function

__all__ = ["CATEGORIES", "FunctionSpec", "Param", "all_functions", "find_function", "names", "register"]
