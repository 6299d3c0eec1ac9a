"""Pebble's operator semantics (`OperatorUtils`, `TypeUtils`, the attribute resolvers).

Where Python and Java disagree, Java wins, because flows were written against Kestra:
integer division truncates (`5 / 2` is 2, `-5 / 2` is -2), `%` keeps the dividend's sign,
`+` with a string concatenates (`null` spelled out), `<` only compares numbers, `true` is
not the number 1, a list index is never negative.

Strict variables: Pebble throws `AttributeNotFoundException` for an unknown variable, key or
index, and `??`, `???`, `is defined` and `| default` catch it. Here the same information
travels as a value, `Missing`, through every operation of the expression (an operation on a
`Missing` gives that `Missing`), until either one of those four operators looks at it or it
reaches a sink (printing, `{% if %}`, `{% for %}`, `{% set %}`, `and`/`or`/`not`), which raises
`UndefinedError` with the original message ("'nme' is undefined").
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2.runtime import LoopContext, StrictUndefined
from jinja2.utils import missing

from flows.expressions import methods
from flows.expressions.errors import EvaluationError, SecurityViolation, UndefinedError
from flows.expressions.serialize import MapEntry, class_name, java_str
from flows.expressions.state import MAX_RANGE_ITEMS, check_size


class Missing(StrictUndefined):
    """An unknown variable, key or index on its way to a sink or to `??` (see above)."""

    __slots__ = ()

    def __init__(
        self, hint: str | None = None, obj: Any = missing, name: str | None = None, exc: Any = None
    ) -> None:
        super().__init__(hint, obj, name, UndefinedError)

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Any:
        return self

    def fail(self) -> UndefinedError:
        """The error to raise at a sink."""
        return UndefinedError(self._undefined_message, self._undefined_name or "")


def undefined(message: str, name: str = "") -> Missing:
    return Missing(message, name=name)


_OPERATION = {"+": "ADD", "-": "SUBTRACT", "*": "MULTIPLICATION", "/": "DIVISION", "%": "MODULUS"}
_COMPARISON = {
    ">": "GREATER_THAN",
    ">=": "GREATER_THAN_EQUALS",
    "<": "LESS_THAN",
    "<=": "LESS_THAN_EQUALS",
}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _type(value: Any) -> str:
    return class_name(value) or "null"


# -- arithmetic


def _wrap(value: int) -> int:
    """Java's `long` arithmetic wraps around at 64 bits (and keeps numbers small)."""
    return (value + 2**63) % 2**64 - 2**63


def _java_int(op: str, a: int, b: int) -> int:
    a, b = _wrap(a), _wrap(b)
    if op in ("/", "%") and b == 0:
        raise EvaluationError("/ by zero")
    quotient = abs(a) // abs(b) if b else 0
    quotient = quotient if (a >= 0) == (b >= 0) else -quotient
    results = {"/": quotient, "%": a - b * quotient}
    return _wrap(results[op] if op in results else {"+": a + b, "-": a - b, "*": a * b}[op])


def _java_float(op: str, a: float, b: float) -> float:
    if op == "/":
        if b == 0:
            return (
                math.nan
                if a == 0 or math.isnan(a)
                else math.copysign(math.inf, a) * (math.copysign(1, b))
            )
        return a / b
    if op == "%":
        return math.nan if b == 0 else math.fmod(a, b)
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def arithmetic(op: str, a: Any, b: Any) -> Any:
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return check_size(java_str(a) + java_str(b))
    if op in ("+", "-") and isinstance(a, list | tuple):
        items = b if isinstance(b, list | tuple | set) else [b]
        if op == "+":
            return check_size([*a, *items])
        if isinstance(b, list | tuple | set):
            return [item for item in a if item not in items]
        result = list(a)
        if b in result:
            result.remove(b)
        return result
    if not (is_number(a) and is_number(b)):
        raise EvaluationError(
            f"invalid operands for mathematical operation [{_OPERATION[op]}]:"
            f" {_type(a)} and {_type(b)}"
        )
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        try:
            left, right = Decimal(a), Decimal(b)
            return {
                "+": left + right,
                "-": left - right,
                "*": left * right,
                "/": left / right,
                "%": left % right,
            }[op]
        except (ArithmeticError, InvalidOperation) as error:
            raise EvaluationError(f"invalid decimal operation: {error}") from error
    if isinstance(a, float) or isinstance(b, float):
        return _java_float(op, float(a), float(b))
    return _java_int(op, int(a), int(b))


def equals(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return float(a) == float(b)
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if not (is_number(a) and is_number(b)):
        raise EvaluationError(
            f"invalid operands for mathematical comparison [{_COMPARISON[op]}]:"
            f" {_type(a)} and {_type(b)}"
        )
    x, y = float(a), float(b)
    return {">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[op]


def contains(a: Any, b: Any) -> bool:
    if a is None:
        return False
    if isinstance(a, list | tuple | set | frozenset):
        if isinstance(b, list | tuple | set | frozenset):
            return all(any(equals(x, y) for x in a) for y in b)
        return any(equals(x, b) for x in a)
    if isinstance(a, dict):
        return _hashable(b) and b in a
    if isinstance(a, str):
        return java_str(b) in a
    raise EvaluationError(
        "Contains operator can only be used on Collections, Maps and arrays."
        f" Actual type was: {_type(a)}"
    )


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def concat(*values: Any) -> str:
    """`~`: toString of each non-null side."""
    return check_size("".join(java_str(v) for v in values if v is not None))


def range_list(start: Any, end: Any, step: Any = 1) -> list[Any]:
    """Pebble's inclusive `range(start, end, step)` / `start..end`, numbers or characters."""
    if step is None:
        step = 1
    if not is_number(step):
        raise EvaluationError(f"The increment of the range function must be a number {step}")
    increment = int(step)
    if increment == 0:
        raise EvaluationError("The increment of the range function must be different than 0")
    chars = isinstance(start, str) and isinstance(end, str)
    if chars:
        if len(start) != 1 or len(end) != 1:
            raise EvaluationError(
                "Arguments of range function must be of type Number or String with a length of 1"
            )
        first, last = ord(start), ord(end)
    elif is_number(start) and is_number(end):
        first, last = int(start), int(end)
    else:
        raise EvaluationError(
            "Arguments of range function must be of type Number or String with a length of 1"
        )
    numbers = range(first, last + (1 if increment > 0 else -1), increment)
    if len(numbers) > MAX_RANGE_ITEMS:
        raise SecurityViolation(
            f"a range of {len(numbers):,} items exceeds the limit of {MAX_RANGE_ITEMS:,}"
        )
    return [chr(n) for n in numbers] if chars else list(numbers)


def binary(op: str, a: Any, b: Any) -> Any:
    if op in _OPERATION:
        return arithmetic(op, a, b)
    if op == "==":
        return equals(a, b)
    if op == "!=":
        return not equals(a, b)
    if op in _COMPARISON:
        return compare(op, a, b)
    if op == "contains":
        return contains(a, b)
    if op == "~":
        return concat(a, b)
    if op == "..":
        return range_list(a, b)
    raise EvaluationError(f"unknown operator {op}")


# -- truthiness (TypeUtils.compatibleCast to Boolean, and where null is refused)


def to_bool(where: str, value: Any) -> bool:
    if isinstance(value, Missing):
        raise value.fail()
    if value is None:
        if where == "ternary":
            return False
        if where == "if":
            raise EvaluationError("null value given to if statement and strict variables is set")
        raise EvaluationError(f"null value used in {where} operator and strict variables is set")
    if isinstance(value, bool):
        return value
    if is_number(value):
        return float(value) != 0.0
    if isinstance(value, str):
        return value != ""
    raise EvaluationError(
        f"Unsupported value type {_type(value)}. Expected Boolean, String, Number in"
        f' "{where}" {"statement" if where == "if" else "expression"}'
    )


# -- attribute access (`a.b`, `a['b']`, `list[0]`)


def get_attribute(obj: Any, key: Any) -> Any:
    if isinstance(key, str) and key.startswith("__"):
        raise SecurityViolation(f"access to attribute '{key}' is not allowed")
    if isinstance(obj, Missing):
        return obj
    if isinstance(key, Missing):
        return key
    if obj is None:
        return undefined(f"cannot get '{java_str(key)}' of null", java_str(key))
    if isinstance(obj, dict | Mapping):
        if _hashable(key) and key in obj:
            return obj[key]
        return undefined(f"'{java_str(key)}' is undefined", java_str(key))
    if isinstance(key, str) and key.startswith("_"):
        raise SecurityViolation(f"access to attribute '{key}' is not allowed")
    if isinstance(obj, list | tuple):
        try:
            index = int(java_str(key)) if not isinstance(key, bool) else None
        except ValueError:
            index = None
        if index is not None:
            if 0 <= index < len(obj):
                return obj[index]
            return undefined(
                f"index {index} is out of bounds for a list of {len(obj)} items", str(index)
            )
    if isinstance(obj, MapEntry) and key in ("key", "value"):
        return obj.key if key == "key" else obj.value
    if isinstance(obj, LoopContext):
        return _loop_attribute(obj, key)
    if isinstance(key, str):
        found, value = methods.property_of(obj, key)
        if found:
            return value
    return undefined(f"'{java_str(key)}' is undefined on a {_type(obj)}", java_str(key))


def _loop_attribute(loop: LoopContext, key: Any) -> Any:
    """Pebble's loop: `index` counts from 0, `revindex` ends at 0."""
    mapping = {
        "index": "index0",
        "revindex": "revindex0",
        "first": "first",
        "last": "last",
        "length": "length",
    }
    if key not in mapping:
        return undefined(f"'{key}' is undefined on loop", str(key))
    return getattr(loop, mapping[key])


# -- tests (`is defined`, `is empty`, ...); `defined` is handled by the caller


def run_test(name: str, value: Any) -> bool:
    if name in ("defined", "null"):
        return (value is not None) == (name == "defined")
    if name == "empty":
        if value is None:
            return True
        if isinstance(value, str):
            return value.strip() == ""
        return isinstance(value, list | tuple | set | dict) and not value
    if name in ("even", "odd"):
        if value is None:
            raise EvaluationError(f'Can not pass null value to "{name}" test.')
        if not isinstance(value, int) or isinstance(value, bool):
            raise EvaluationError(f"The '{name}' test expects an integer, got {_type(value)}")
        return (value % 2 == 0) == (name == "even")
    if name == "iterable":
        return isinstance(value, list | tuple | set)
    if name == "map":
        return isinstance(value, dict)
    if name == "json":
        if not isinstance(value, str):
            raise EvaluationError(f"The 'json' test expects a string, got {_type(value)}")
        try:
            json.loads(value)
        except ValueError:
            return False
        return True
    raise EvaluationError(f"Test [{name}] does not exist.")
