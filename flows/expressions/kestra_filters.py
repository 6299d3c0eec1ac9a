"""Kestra's own filters (`Extension.getFilters` of Kestra 0.20).

`chunk`, `className`, `date`, `dateAdd`, `timestamp`, `timestampMicro`, `timestampNano`,
`jq`, `escapeChar`, `toJson` (and its deprecated alias `json`), `toIon`, `yaml`, `keys`,
`values`, `number`, `urldecode`, `slugify`, `substringBefore`, `substringBeforeLast`,
`substringAfter`, `substringAfterLast`, `flatten`, `indent`, `nindent`, `startsWith`,
`endsWith`, `sha1`, `sha512`, `md5` (in filters.py with sha256) and the map-based `replace`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from typing import Any

import jq

from flows.expressions import dates, numbers
from flows.expressions.errors import EvaluationError
from flows.expressions.ion import to_ion
from flows.expressions.methods import java_regex, java_replacement
from flows.expressions.registry import (
    FILTERS,
    Spec,
    filter_,
    required,
    type_name,
    want_int,
    want_list,
    want_string,
)
from flows.expressions.serialize import class_name, java_str, to_json, to_yaml
from flows.expressions.state import MAX_OUTPUT_CHARS, MAX_RANGE_ITEMS

__all__ = ["slugify"]


@filter_("chunk", "size")
def _chunk(value: Any, args: dict) -> Any:
    if value is None:
        return None
    size = want_int(required("chunk", args, "size"), "size")
    items = want_list("chunk", value)
    if size <= 0:
        raise EvaluationError("The 'chunk' filter expects a size greater than 0.")
    return [items[i : i + size] for i in range(0, len(items), size)]


FILTERS["className"] = Spec(lambda value, args: class_name(value), ())


@filter_("date", "format", "timeZone", "existingFormat", "locale")
def _date(value: Any, args: dict) -> Any:
    return None if value is None else dates.format_date(value, args)


@filter_("dateAdd", "amount", "unit", "format", "timeZone", "existingFormat", "locale")
def _date_add(value: Any, args: dict) -> Any:
    if value is None:
        return None
    amount = want_int(required("dateAdd", args, "amount"), "amount")
    return dates.add(value, amount, str(required("dateAdd", args, "unit")), args)


def _timestamp(kind: str) -> Callable[[Any, dict], Any]:
    def timestamp(value: Any, args: dict) -> Any:
        if value is None:
            return None
        date = dates.convert(value, dates.zone(args.get("timeZone")), args.get("existingFormat"))
        seconds = dates.epoch_seconds(date)
        if kind == "seconds":
            return seconds
        if kind == "micro":  # Kestra 0.20 adds microseconds to nanoseconds: kept as is
            return str(seconds * 1_000_000_000 + date.microsecond)
        return str(dates.epoch_nanos(date))

    return timestamp


for _name, _kind in (
    ("timestamp", "seconds"),
    ("timestampMicro", "micro"),
    ("timestampNano", "nano"),
):
    FILTERS[_name] = Spec(_timestamp(_kind), ("timeZone", "existingFormat"))


@filter_("jq", "expression")
def _jq(value: Any, args: dict) -> Any:
    if value is None:
        return None
    expression = required("jq", args, "expression")
    text = value if isinstance(value, str) else to_json(value)
    try:
        program = jq.compile(expression)
        results = list(itertools.islice(iter(program.input_text(text)), MAX_RANGE_ITEMS + 1))
    except ValueError as error:
        raise EvaluationError(
            f"Unable to parse jq value '{java_str(value)[:200]}' with type"
            f" '{type_name(value)}': {error}"
        ) from error
    if len(results) > MAX_RANGE_ITEMS:
        raise EvaluationError(f"jq produced more than {MAX_RANGE_ITEMS:,} results")
    return results


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """Apply `change` to every string of a map or list (others as their toString)."""
    if isinstance(value, dict):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(item, change) for item in value]
    return change(java_str(value))


@filter_("escapeChar", "type")
def _escape_char(value: Any, args: dict) -> Any:
    if value is None:
        return None
    kind = args.get("type")
    if kind is None:
        raise EvaluationError("The 'escapeChar' filter expects an argument 'type'.")
    quote, replacement = {
        "single": ("'", "\\'"),
        "double": ('"', '\\"'),
        "shell": ("'", "'\\''"),
    }.get(str(kind).lower(), (None, None))
    if quote is None or replacement is None:
        raise EvaluationError(
            "The 'escapeChar' filter expects the value of 'type' to be either"
            " 'single', 'double', or 'shell'."
        )
    return _map_strings(value, lambda text: text.replace(quote, replacement))


FILTERS["toJson"] = Spec(lambda value, args: to_json(value), ())
FILTERS["json"] = FILTERS["toJson"]
FILTERS["toIon"] = Spec(lambda value, args: to_ion(value), ())
FILTERS["yaml"] = Spec(lambda value, args: "null" if value is None else to_yaml(value), ())


@filter_("keys")
def _keys(value: Any, args: dict) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, list | tuple):
        return list(range(len(value)))
    raise EvaluationError(
        "'keys' filter can only be applied to List, Map, Array."
        f" Actual type was: {type_name(value)}"
    )


@filter_("values")
def _values(value: Any, args: dict) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return list(value.values())
    raise EvaluationError(
        f"'values' filter can only be applied to Map. Actual type was: {type_name(value)}"
    )


@filter_("number", "type")
def _number(value: Any, args: dict) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise EvaluationError(
            f"'number' filter can only be applied to String. Actual type was: {type_name(value)}"
        )
    return numbers.create_number(value, str(args.get("type") or ""))


@filter_("urldecode")
def _urldecode(value: Any, args: dict) -> Any:
    return None if value is None else urllib.parse.unquote_plus(want_string("urldecode", value))


def slugify(text: str) -> str:
    """Kestra's Slugify.of: whitespace to '-', accents dropped, only [A-Za-z0-9_-] kept."""
    text = re.sub(r"[ \t\n\x0b\f\r]", "-", text)
    text = re.sub(r"[^A-Za-z0-9_-]", "", unicodedata.normalize("NFD", text)).replace("_", "-")
    text = re.sub("-{2,}", "-", text)
    return text.strip("-").lower()


FILTERS["slugify"] = Spec(
    lambda value, args: None if value is None else slugify(java_str(value)), ()
)


def _substring(name: str, value: Any, args: dict) -> Any:
    if value is None:
        return None
    separator = args.get("separator")
    if separator is None:
        raise EvaluationError(f"The '{name}' filter expects an argument 'separator'.")
    text, sep = java_str(value), java_str(separator)
    last = name.endswith("Last")
    position = text.rfind(sep) if last else text.find(sep)
    if name.startswith("substringBefore"):
        return text if position < 0 or (last and not sep) else text[:position]
    if position < 0 or (last and (not sep or position == len(text) - len(sep))):
        return ""
    return text[position + len(sep) :]


for _name in ("substringBefore", "substringBeforeLast", "substringAfter", "substringAfterLast"):
    FILTERS[_name] = Spec(lambda v, a, _n=_name: _substring(_n, v, a), ("separator",))


@filter_("flatten")
def _flatten(value: Any, args: dict) -> Any:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise EvaluationError("The 'flatten' filter can only be applied to lists.")
    return [
        inner for item in value for inner in (item if isinstance(item, list | tuple) else [item])
    ]


def _indent(name: str, value: Any, args: dict) -> Any:
    if value is None:
        return None
    text = java_str(value)
    if not text:
        return text
    amount = args.get("amount")
    if amount is None:
        raise EvaluationError(f"The '{name}' filter expects an integer as argument 'amount'.")
    if want_int(amount, "amount") < 0:
        raise EvaluationError(
            f"The '{name}' filter expects a positive integer >=0 as argument 'amount'."
        )
    prefix = java_str(args["prefix"]) if args.get("prefix") is not None else " "
    if len(prefix) * amount * (text.count("\n") + text.count("\r") + 1) > MAX_OUTPUT_CHARS:
        raise EvaluationError(f"The '{name}' filter would exceed the output limit.")
    newline = next((n for n in ("\r\n", "\n\r", "\n", "\r") if n in text), "\n")
    if name == "nindent":
        text = newline + text
    return text.replace(newline, newline + prefix * amount)


FILTERS["indent"] = Spec(lambda v, a: _indent("indent", v, a), ("amount", "prefix"))
FILTERS["nindent"] = Spec(lambda v, a: _indent("nindent", v, a), ("amount", "prefix"))


@filter_("startsWith", "value")
def _starts_with(value: Any, args: dict) -> bool:
    if value is None:
        raise EvaluationError("The 'startsWith' filter cannot be applied to null")
    return java_str(value).startswith(java_str(args.get("value")))


@filter_("endsWith", "value")
def _ends_with(value: Any, args: dict) -> bool:
    if value is None:
        raise EvaluationError("The 'endsWith' filter cannot be applied to null")
    return java_str(value).endswith(java_str(args.get("value")))


@filter_("replace", "replace_pairs", "regexp")
def _replace(value: Any, args: dict) -> Any:
    if value is None:
        return None
    pairs = args.get("replace_pairs")
    if pairs is None:
        raise EvaluationError("The argument 'replace_pairs' is required.")
    if not isinstance(pairs, dict):
        raise EvaluationError("The 'replace' filter expects a map of replacements: {'a': 'b'}")
    regexp = bool(args.get("regexp", False))

    def change(text: str) -> str:
        for old, new in pairs.items():
            if regexp:
                text = java_regex(java_str(old)).sub(java_replacement(java_str(new)), text)
            else:
                text = text.replace(java_str(old), java_str(new))
        return text

    return _map_strings(value, change)
