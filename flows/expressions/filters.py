"""Pebble's core filters that Kestra 0.20 keeps.

`abbreviate`, `abs`, `base64encode`, `base64decode`, `capitalize`, `default`, `first`,
`last`, `join`, `length`, `lower`, `upper`, `title`, `trim`, `merge`, `reverse`, `sort`,
`rsort`, `slice`, `split`, `sha256`, `urlencode`, and `numberFormat` (Kestra's name for
Pebble's `numberformat`). Null input is passed through as in Pebble, except where Pebble
itself decides otherwise (`abs` refuses it, `length` counts 0, `merge` takes the other side).
Pebble's `escape`, `raw` and its list-based `replace` are removed by Kestra.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import urllib.parse
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flows.expressions import numbers
from flows.expressions.errors import EvaluationError
from flows.expressions.methods import java_split
from flows.expressions.registry import (
    FILTERS,
    Spec,
    filter_,
    type_name,
    want_int,
    want_list,
    want_string,
)
from flows.expressions.serialize import MapEntry, java_str


@filter_("abbreviate", "length")
def _abbreviate(value: Any, args: dict) -> Any:
    if value is None:
        return None
    text, width = want_string("abbreviate", value), want_int(args.get("length"), "length")
    if width < 0:
        raise EvaluationError("Invalid argument to abbreviate filter; must be greater than zero")
    if len(text) < width or len(text) <= 3:
        return text
    return text[:width] if width <= 3 else text[: width - 3] + "..."


@filter_("abs")
def _abs(value: Any, args: dict) -> Any:
    if value is None:
        raise EvaluationError('Can not pass null value to "abs" filter.')
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise EvaluationError("The 'abs' filter does require as input a number.")
    return abs(value)


@filter_("base64encode")
def _b64encode(value: Any, args: dict) -> Any:
    return None if value is None else base64.b64encode(java_str(value).encode()).decode()


@filter_("base64decode")
def _b64decode(value: Any, args: dict) -> Any:
    if value is None:
        return None
    try:
        return base64.b64decode(want_string("base64decode", value), validate=True).decode(
            "utf-8", "replace"
        )
    except (binascii.Error, ValueError) as error:
        raise EvaluationError(
            "Please provide a correctly Base64 encoded string containing an UTF-8 string"
        ) from error


def _title_case(text: str, every_word: bool) -> str:
    out, capitalize, done = [], True, False
    for char in text:
        if char.isspace():
            capitalize = every_word or not done
        elif capitalize:
            char, capitalize, done = char.title(), False, True
        out.append(char)
    return "".join(out)


@filter_("capitalize")
def _capitalize(value: Any, args: dict) -> Any:
    return None if value is None else _title_case(want_string("capitalize", value), False)


@filter_("title")
def _title(value: Any, args: dict) -> Any:
    return None if value is None else _title_case(want_string("title", value), True)


@filter_("default", "default")
def _default(value: Any, args: dict) -> Any:
    empty = (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, list | tuple | dict | set) and not value)
    )
    return args.get("default") if empty else value


def _edge(name: str, value: Any, last: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise EvaluationError(f"The '{name}' filter got an empty string")
        return value[-1] if last else value[0]
    items = want_list(name, value) if not isinstance(value, set) else list(value)
    return (items[-1] if last else items[0]) if items else None


FILTERS["first"] = Spec(lambda value, args: _edge("first", value, False), ())
FILTERS["last"] = Spec(lambda value, args: _edge("last", value, True), ())


@filter_("join", "separator")
def _join(value: Any, args: dict) -> Any:
    if value is None:
        return None
    if not isinstance(value, list | tuple | set):
        raise EvaluationError(
            "The 'join' filter expects that the input is either a collection or an array."
        )
    return (args.get("separator") or "").join(java_str(item) for item in value)


@filter_("length")
def _length(value: Any, args: dict) -> int:
    return len(value) if isinstance(value, str | list | tuple | set | dict) else 0


FILTERS["lower"] = Spec(lambda v, a: None if v is None else java_str(v).lower(), ())
FILTERS["upper"] = Spec(lambda v, a: None if v is None else java_str(v).upper(), ())


@filter_("trim")
def _trim(value: Any, args: dict) -> Any:
    return None if value is None else want_string("trim", value).strip("".join(map(chr, range(33))))


@filter_("merge", "items")
def _merge(value: Any, args: dict) -> Any:
    items = args.get("items")
    if value is None or items is None:
        if value is None and items is None:
            raise EvaluationError("The two arguments to be merged are null")
        return items if value is None else value
    if isinstance(value, dict):
        if isinstance(items, dict):
            return {**value, **items}
        if isinstance(items, list | tuple):
            return {**value, **{item: item for item in items}}
        raise EvaluationError("Currently, only Maps and Lists can be merged with a Map.")
    if isinstance(value, list | tuple):
        if isinstance(items, dict):
            return [*value, *(MapEntry(k, v) for k, v in items.items())]
        if isinstance(items, list | tuple):
            return [*value, *items]
        raise EvaluationError("Currently, only Maps and Lists can be merged with a List.")
    raise EvaluationError("The object being filtered is not a Map/List/Array")


FILTERS["reverse"] = Spec(lambda v, a: None if v is None else want_list("reverse", v)[::-1], ())


def _sorted(name: str, value: Any, reverse: bool) -> Any:
    if value is None:
        return None
    try:
        return sorted(want_list(name, value), reverse=reverse)
    except TypeError as error:
        raise EvaluationError(f"The '{name}' filter cannot compare these values") from error


FILTERS["sort"] = Spec(lambda v, a: _sorted("sort", v, False), ())
FILTERS["rsort"] = Spec(lambda v, a: _sorted("rsort", v, True), ())


@filter_("slice", "fromIndex", "toIndex")
def _slice(value: Any, args: dict) -> Any:
    if value is None:
        return None
    if not isinstance(value, str | list | tuple):
        raise EvaluationError(
            "Slice filter can only be applied to String, List and array inputs."
            f" Actual type was: {type_name(value)}"
        )
    start = want_int(args.get("fromIndex") or 0, "Argument fromIndex")
    end = (
        len(value) if args.get("toIndex") is None else want_int(args["toIndex"], "Argument toIndex")
    )
    if start < 0:
        raise EvaluationError("fromIndex must be greater than 0")
    if end > len(value):
        raise EvaluationError(f"toIndex must be smaller than input size: {len(value)}")
    if args.get("toIndex") is not None and start >= end:
        raise EvaluationError("toIndex must be greater than fromIndex")
    return value[start:end] if isinstance(value, str) else list(value[start:end])


@filter_("split", "delimiter", "limit")
def _split(value: Any, args: dict) -> Any:
    if value is None:
        return None
    delimiter = args.get("delimiter")
    if delimiter is None:
        raise EvaluationError("missing delimiter parameter in split filter")
    limit = args.get("limit")
    return java_split(want_string("split", value), delimiter, 0 if limit is None else int(limit))


def _digest(algorithm: str) -> Callable[[Any, dict], Any]:
    def digest(value: Any, args: dict) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise EvaluationError("Need a string to hash")
        return hashlib.new(algorithm, value.encode()).hexdigest()

    return digest


for _name, _algorithm in (
    ("sha256", "sha256"),
    ("sha1", "sha1"),
    ("sha512", "sha512"),
    ("md5", "md5"),
):
    FILTERS[_name] = Spec(_digest(_algorithm), ())


@filter_("urlencode")
def _urlencode(value: Any, args: dict) -> Any:
    if value is None:
        return None
    return urllib.parse.quote_plus(want_string("urlencode", value), safe="*").replace("~", "%7E")


@filter_("numberFormat", "format")
def _number_format(value: Any, args: dict) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise EvaluationError("The input for the 'NumberFormat' filter has to be a number.")
    return numbers.format_number(value, args.get("format"))
