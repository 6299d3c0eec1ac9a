"""The tables of filters and functions, and how Pebble binds their arguments.

A filter is `fn(value, args)`, a function `fn(args, call)`; `args` maps Pebble's argument names
to values, bound from positional then named arguments as Pebble's `ArgumentsNode` does (a
function without names, like `min`/`max`, gets "0", "1", …). `filters.py`,
`kestra_filters.py` and `functions.py` fill the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flows.expressions.errors import EvaluationError
from flows.expressions.serialize import class_name

__all__ = ["FILTERS", "FUNCTIONS", "Spec", "bind", "filter_", "function_"]


@dataclass(frozen=True)
class Spec:
    fn: Callable[..., Any]
    #: Pebble's argument names; None = positional only, bound as "0", "1", ...
    names: tuple[str, ...] | None


FILTERS: dict[str, Spec] = {}


def bind(names: tuple[str, ...] | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict:
    if names is None:
        return {str(index): value for index, value in enumerate(args)}
    if len(args) > len(names):
        raise EvaluationError(
            f"The argument at position {len(names) + 1} is not allowed."
            f" Only {len(names)} argument(s) are allowed."
        )
    bound = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise EvaluationError(f"The following named argument does not exist: {key}")
        bound[key] = value
    return bound


def filter_(name: str, *names: str, positional: bool = False) -> Callable:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        FILTERS[name] = Spec(fn, None if positional else names)
        return fn

    return register


def type_name(value: Any) -> str:
    return class_name(value) or "null"


def want_string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise EvaluationError(f"The '{name}' filter expects a string, got {type_name(value)}")
    return value


def want_list(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise EvaluationError(
            f"'{name}' filter can only be applied to List. Actual type was: {type_name(value)}"
        )
    return list(value)


def required(name: str, args: dict, key: str) -> Any:
    if args.get(key) is None:
        raise EvaluationError(f"The '{name}' filter expects an argument '{key}'.")
    return args[key]


def want_int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise EvaluationError(f"{what} must be an integer, got {type_name(value)}")
    return value


FUNCTIONS: dict[str, Spec] = {}


def function_(name: str, *names: str, positional: bool = False) -> Callable:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = Spec(fn, None if positional else names)
        return fn

    return register
