"""The list-shaped and choice inputs: SELECT, ENUM (legacy), MULTISELECT and ARRAY.

Choices come from `values` (MULTISELECT also reads the deprecated `options`) or from an
`expression` rendered with the inputs resolved before it, whose result replaces `values`.
Membership is always checked unless `allowCustomValue` (correction 10: Kestra 0.20 skips the
check on optional SELECT and ENUM inputs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from executions.engine.inputs.model import InputValueError
from executions.engine.inputs.scalars import expected, to_text

CHOICE_TYPES = frozenset({"SELECT", "ENUM", "MULTISELECT"})


def java_list(items: list[str]) -> str:
    """A list as Java prints it, since Kestra's messages quote it: `[a, b]`."""
    return "[" + ", ".join(items) + "]"


def declared_choices(definition: Mapping[str, Any], type_name: str) -> list[str] | None:
    """The literal choices of a SELECT, ENUM or MULTISELECT input (None when there are none)."""
    values = definition.get("values")
    options = definition.get("options") if type_name == "MULTISELECT" else None
    if values is not None and options is not None:
        raise InputValueError("you can't define both `values` and `options`", about_value=False)
    chosen = values if values is not None else options
    if chosen is None:
        return None
    if not isinstance(chosen, list):
        raise InputValueError("its `values` must be a list", about_value=False)
    return [to_text(item) for item in chosen if item is not None]


def choices_from_expression(result: Any) -> list[str]:
    """What an `expression` rendered to, as a list of strings (nulls dropped, as Kestra does).
    A renderer that can only give text may return the list as JSON."""
    if isinstance(result, str):
        try:
            decoded = json.loads(result)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            result = decoded
    if isinstance(result, list | tuple):
        return [_choice_text(item) for item in result if item is not None]
    kind = "<null>" if result is None else type(result).__name__
    raise InputValueError(
        f"Invalid expression result. Expected a list of strings, but received {kind}",
        about_value=False,
    )


def _choice_text(item: Any) -> str:
    try:
        return to_text(item)
    except InputValueError:
        return json.dumps(item, default=str)


def check_choice(value: str, choices: list[str] | None, allow_custom: bool) -> None:
    """SELECT and ENUM: the value must be one of the choices."""
    if allow_custom:
        return
    if choices is None:
        raise InputValueError("it has no `values` to choose from", about_value=False)
    if value not in choices:
        raise InputValueError(f"it must match the values `{java_list(choices)}`")


def check_choices(items: list[str], choices: list[str] | None, allow_custom: bool) -> None:
    """MULTISELECT: every item must be one of the choices; the message names the strays."""
    if allow_custom:
        return
    if choices is None:
        raise InputValueError("it has no `values` to choose from", about_value=False)
    strays = [item for item in items if item not in choices]
    if strays:
        listed = ", ".join(f"`{item}`" for item in strays)
        verb = "is" if len(strays) == 1 else "are"
        raise InputValueError(
            f"it must match the values `{java_list(choices)}` ({listed} {verb} not among them)"
        )


def as_list(value: Any, type_name: str) -> list[Any]:
    """A list as is, or the text of a JSON array (what forms and the CLI send)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            raise expected(type_name, "; the text is not a JSON array") from None
        if isinstance(decoded, list):
            return decoded
    raise expected(type_name)


def multiselect_texts(items: list[Any]) -> list[str]:
    try:
        return [to_text(item) for item in items]
    except InputValueError:
        raise expected("MULTISELECT", "; every item must be a single value") from None
