"""One value against one input definition: parse it to the input's type (`parse_value`), then
check the definition's constraints (`check_value`): `validator`, `minLength`/`maxLength`,
`min`/`max`, `after`/`before`, the choices."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from executions.engine.inputs import choices as choice_rules
from executions.engine.inputs import scalars, temporal
from executions.engine.inputs.definitions import TYPE_ALIASES, InputDefinition
from executions.engine.inputs.files import parse_file
from executions.engine.inputs.model import FileSink, InputValueError

TEXT_TYPES = frozenset({"STRING", "SECRET"})
"""Types for which an empty string is a value. For the others an empty string (what an HTML
form sends for a field left blank, or for a select's empty option) means "not given"."""


@dataclass(frozen=True)
class Target:
    """Where a value goes: the input's id (FILE names its folder after it) and the storage."""

    input_id: str
    files: FileSink | None
    extension: str | None = None


_SIMPLE: dict[str, Callable[[Any], Any]] = {
    "STRING": scalars.to_text,
    "SECRET": partial(scalars.to_text, type_name="SECRET"),
    "ENUM": partial(scalars.to_text, type_name="ENUM"),
    "SELECT": partial(scalars.to_text, type_name="SELECT"),
    "INT": scalars.parse_int,
    "FLOAT": scalars.parse_float,
    "BOOLEAN": scalars.parse_boolean,
    "JSON": scalars.parse_json,
    "YAML": scalars.parse_yaml,
    "URI": scalars.parse_uri,
    "EMAIL": scalars.parse_email,
    "DATETIME": partial(temporal.parse_temporal, "DATETIME"),
    "DATE": partial(temporal.parse_temporal, "DATE"),
    "TIME": partial(temporal.parse_temporal, "TIME"),
    "DURATION": partial(temporal.parse_temporal, "DURATION"),
}


def is_blank(type_name: str, value: Any) -> bool:
    return type_name not in TEXT_TYPES and scalars.is_blank_text(value)


def parse_value(definition: InputDefinition, value: Any, target: Target) -> Any:
    """The typed value, or `InputValueError`."""
    type_name = definition.type
    if type_name == "ARRAY":
        item_type = _item_type(definition, None)
        return parse_items(item_type, choice_rules.as_list(value, "ARRAY"), target)
    if type_name == "MULTISELECT":
        items = choice_rules.as_list(value, "MULTISELECT")
        return choice_rules.multiselect_texts(items)
    return parse_single(type_name, value, target)


def parse_single(type_name: str, value: Any, target: Target) -> Any:
    if type_name == "FILE":
        return parse_file(value, target.input_id, target.extension, target.files)
    parser = _SIMPLE.get(type_name)
    if parser is None:
        raise InputValueError(f"`{type_name}` cannot be used here", about_value=False)
    return parser(value)


def parse_items(item_type: str, items: list[Any], target: Target) -> list[Any]:
    """ARRAY items and typed MULTISELECT items, each read as `item_type`."""
    parsed = []
    for item in items:
        try:
            parsed.append(parse_single(item_type, item, target))
        except InputValueError as error:
            if not error.about_value:
                raise
            shown = scalars.to_text(item) if isinstance(item, str | int | float) else item
            raise InputValueError(
                f"Unable to parse array element as `{item_type}` on `{shown}`"
            ) from None
    return parsed


def _item_type(definition: InputDefinition, default: str | None) -> str:
    raw = definition.raw.get("itemType", default)
    item_type = TYPE_ALIASES.get(raw, raw) if isinstance(raw, str) else None
    if item_type is None:
        raise InputValueError(
            f"an input of type {definition.type} needs an `itemType`", about_value=False
        )
    if item_type in ("ARRAY", "MULTISELECT") or item_type not in _SIMPLE.keys() | {"FILE"}:
        raise InputValueError(f"`itemType` cannot be `{raw}`", about_value=False)
    return item_type


def check_value(
    definition: InputDefinition, value: Any, choices: list[str] | None, target: Target
) -> Any:
    """Apply the definition's constraints to a parsed value; MULTISELECT items are then typed
    by `itemType` (membership is checked on their text). Returns the final value."""
    type_name, raw = definition.type, definition.raw
    allow_custom = raw.get("allowCustomValue") is True
    if type_name in ("STRING", "SECRET"):
        _check_text(raw, value)
    elif type_name in ("INT", "FLOAT"):
        _check_number(type_name, raw, value)
    elif type_name in ("DATETIME", "DATE", "TIME", "DURATION"):
        temporal.check_temporal_bounds(type_name, raw, value)
    elif type_name in ("SELECT", "ENUM"):
        choice_rules.check_choice(value, choices, allow_custom and type_name == "SELECT")
    elif type_name == "MULTISELECT":
        choice_rules.check_choices(value, choices, allow_custom)
        item_type = _item_type(definition, "STRING")
        if item_type != "STRING":
            return parse_items(item_type, value, target)
    return value


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_text(raw: Any, value: str) -> None:
    validator = raw.get("validator")
    if validator is not None:
        try:
            pattern = _compiled(str(validator))
        except re.error as error:
            raise InputValueError(
                f"its validator `{validator}` is not a valid regular expression: {error}",
                about_value=False,
            ) from None
        # Java's String#matches: the whole value must match.
        if pattern.fullmatch(value) is None:
            raise InputValueError(f"it must match the pattern `{validator}`")
    shortest, longest = _length_bound(raw, "minLength"), _length_bound(raw, "maxLength")
    if shortest is not None and len(value) < shortest:
        raise InputValueError(f"it must be at least {shortest} characters long")
    if longest is not None and len(value) > longest:
        raise InputValueError(f"it must be at most {longest} characters long")


def _length_bound(raw: Any, key: str) -> int | None:
    bound = raw.get(key)
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
        raise InputValueError(f"its `{key}` must be a whole number ≥ 0", about_value=False)
    return bound


def _check_number(type_name: str, raw: Any, value: float) -> None:
    parse = scalars.parse_int if type_name == "INT" else scalars.parse_float
    for key, word in (("min", "more"), ("max", "less")):
        bound = raw.get(key)
        if bound is None:
            continue
        try:
            limit = parse(bound)
        except InputValueError:
            raise InputValueError(
                f"its `{key}` bound `{bound}` is not a valid {type_name}", about_value=False
            ) from None
        if (value < limit) if key == "min" else (value > limit):
            # Java prints a Float bound with a decimal point (`1.0`), as Python does.
            raise InputValueError(f"it must be {word} than `{limit!r}`")
