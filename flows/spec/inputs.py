"""Input definitions (flow `inputs` and Pause `onResume`), as Kestra 0.20's Input subtypes.

Each type accepts its own extra properties (Jackson refuses the others), literal `defaults`
must already have the input's type (0.20 does not render defaults), and `dependsOn` must
name existing inputs without a cycle.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from flows.spec import formats
from flows.spec.paths import index_path, key_path
from flows.spec.report import Report
from flows.spec.schema import type_name
from flows.tasktypes.common import INPUT_TYPES

_ID = re.compile(r"[a-zA-Z0-9][.a-zA-Z0-9_-]*")
_EMAIL = re.compile(r"^$|^[a-zA-Z0-9_!#$%&'*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+$")
_INTEGER_TEXT = re.compile(r"[-+]?[0-9]+")
_COMMON = ("id", "name", "type", "description", "dependsOn", "required", "defaults", "displayName")
_EXTRA = {
    "STRING": ("validator",),
    "SECRET": ("validator",),
    "ENUM": ("values",),
    "SELECT": ("values", "expression", "allowCustomValue"),
    "MULTISELECT": ("options", "values", "expression", "itemType", "allowCustomValue"),
    "INT": ("min", "max"),
    "FLOAT": ("min", "max"),
    "DURATION": ("min", "max"),
    "DATETIME": ("after", "before"),
    "DATE": ("after", "before"),
    "TIME": ("after", "before"),
    "FILE": ("extension",),
    "ARRAY": ("itemType",),
}
_BOUND_CHECKS = {
    "DATETIME": (formats.is_instant, "a date-time with a zone such as 2024-12-31T09:30:00Z"),
    "DATE": (formats.is_date, "a date such as 2024-12-31"),
    "TIME": (formats.is_time, "a time such as 09:30:00"),
    "DURATION": (
        lambda v: formats.duration_value(v) is not None,
        "an ISO-8601 duration such as PT10S",
    ),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_number_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _fits(input_type: str, value: Any) -> str | None:
    """Why a literal value does not fit the input type (None when it does)."""
    scalar = isinstance(value, str | int | float | bool)
    if input_type in ("STRING", "SECRET", "ENUM", "SELECT", "URI"):
        return None if scalar else "a string"
    if input_type == "EMAIL":
        return None if isinstance(value, str) and _EMAIL.match(value) else "an email address"
    if input_type == "INT":
        ok = _is_int(value) or (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value))
        return None if ok else "an integer"
    if input_type == "FLOAT":
        return None if _is_number(value) or _is_number_text(value) else "a number"
    if input_type in ("BOOLEAN", "BOOL"):
        ok = isinstance(value, bool) or (
            isinstance(value, str) and value.lower() in ("true", "false")
        )
        return None if ok else "a boolean"
    if input_type in _BOUND_CHECKS:
        check, wanted = _BOUND_CHECKS[input_type]
        return None if check(value) else wanted
    if input_type in ("ARRAY", "MULTISELECT"):
        return None if isinstance(value, list) else "a list"
    return None


def check_inputs(report: Report, value: Any, path: str) -> None:
    """Check a list of input definitions found at `path`."""
    if value is None:
        return
    if not isinstance(value, list):
        report.error(
            path,
            f"Property '{path.rsplit('.', 1)[-1]}' must be a list of inputs, "
            f"got {type_name(value)}",
        )
        return
    first: dict[str, str] = {}
    depends: dict[str, tuple[str, list[Any]]] = {}
    for index, item in enumerate(value):
        item_path = index_path(path, index)
        if not isinstance(item, dict):
            report.error(item_path, f"An input must be a map, got {type_name(item)}")
            continue
        input_id = _check_id(report, item, item_path)
        if isinstance(input_id, str):
            if input_id in first:
                report.error(
                    key_path(item_path, "id" if "id" in item else "name"),
                    f"Duplicate input id '{input_id}' (first defined on line "
                    f"{report.line(first[input_id])})",
                )
            else:
                first[input_id] = item_path
        input_type = _check_type(report, item, item_path)
        if input_type is None:
            continue
        _check_properties(report, item, item_path, input_type, input_id)
        dependency = item.get("dependsOn")
        if isinstance(input_id, str) and isinstance(dependency, dict):
            inputs = dependency.get("inputs")
            if isinstance(inputs, list):
                depends[input_id] = (key_path(item_path, "dependsOn"), inputs)
    _check_dependencies(report, first, depends)


def _check_id(report: Report, item: dict, path: str) -> Any:
    input_id = item.get("id")
    if "name" in item:
        report.warn(key_path(path, "name"), "Input 'name' is deprecated, use 'id'")
        if input_id is None:
            input_id = item.get("name")
    field = "id" if item.get("id") is not None or item.get("name") is None else "name"
    if input_id is None:
        report.error(key_path(path, "id"), "Missing required property 'id'", at=path)
    elif not isinstance(input_id, str):
        report.error(key_path(path, field), f"Input id must be a string, got {type_name(input_id)}")
    elif not _ID.fullmatch(input_id):
        report.error(
            key_path(path, field),
            f"Input id '{input_id}' is invalid: it must start with a letter or digit "
            "and contain only letters, digits, '.', '_' and '-'",
        )
    return input_id


def _check_type(report: Report, item: dict, path: str) -> str | None:
    input_type = item.get("type")
    type_path = key_path(path, "type")
    if input_type is None:
        report.error(type_path, "Missing required property 'type'", at=path)
        return None
    if input_type == "BOOL":
        report.warn(
            type_path, "Input type 'BOOL' does not exist in Kestra 0.20; it is read as BOOLEAN"
        )
        return "BOOLEAN"
    if not isinstance(input_type, str) or input_type not in INPUT_TYPES:
        close = difflib.get_close_matches(str(input_type).upper(), INPUT_TYPES, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]}?" if close else ""
        report.error(
            type_path,
            f"Unknown input type '{input_type}'.{hint} Expected one of {', '.join(INPUT_TYPES)}",
        )
        return None
    return input_type


def _check_properties(
    report: Report, item: dict, path: str, input_type: str, input_id: Any
) -> None:
    allowed = (*_COMMON, *_EXTRA.get(input_type, ()))
    for key in item:
        if key not in allowed:
            report.error(
                key_path(path, key), f"Unknown property '{key}' for an input of type {input_type}"
            )

    def wrong(key: str, wanted: str) -> None:
        report.error(
            key_path(path, key), f"Property '{key}' must be {wanted}, got {type_name(item[key])}"
        )

    for key in ("description", "displayName", "validator", "expression", "extension"):
        if item.get(key) is not None and not isinstance(item[key], str):
            wrong(key, "a string")
    for key in ("required", "allowCustomValue"):
        if item.get(key) is not None and not isinstance(item[key], bool):
            wrong(key, "a boolean")
    display = item.get("displayName")
    if isinstance(display, str) and len(display) > 64:
        report.error(
            key_path(path, "displayName"),
            "Property 'displayName' must be at most 64 characters long",
        )
    validator = item.get("validator")
    if isinstance(validator, str) and formats.regex_error(validator):
        report.error(
            key_path(path, "validator"),
            f"Invalid regular expression '{validator}': {formats.regex_error(validator)}",
        )
    _check_depends_on(report, item, path)
    _check_choices(report, item, path, input_type)
    _check_item_type(report, item, path, input_type)
    _check_bounds(report, item, path, input_type)
    _check_defaults(report, item, path, input_type)


def _check_depends_on(report: Report, item: dict, path: str) -> None:
    dependency = item.get("dependsOn")
    if dependency is None:
        return
    dep_path = key_path(path, "dependsOn")
    if not isinstance(dependency, dict):
        report.error(
            dep_path,
            f"Property 'dependsOn' must be a map with 'inputs' and "
            f"'condition', got {type_name(dependency)}",
        )
        return
    for key in dependency:
        if key not in ("inputs", "condition"):
            report.error(key_path(dep_path, key), f"Unknown property '{key}' in dependsOn")
    inputs = dependency.get("inputs")
    if inputs is not None and not (
        isinstance(inputs, list) and all(isinstance(i, str) for i in inputs)
    ):
        report.error(key_path(dep_path, "inputs"), "Property 'inputs' must be a list of input ids")
    condition = dependency.get("condition")
    if condition is not None and not isinstance(condition, str):
        report.error(key_path(dep_path, "condition"), "Property 'condition' must be a string")


def _check_choices(report: Report, item: dict, path: str, input_type: str) -> None:
    if input_type not in ("ENUM", "SELECT", "MULTISELECT"):
        return
    for key in ("values", "options"):
        values = item.get(key)
        if values is not None and not (
            isinstance(values, list) and all(isinstance(v, str) for v in values)
        ):
            report.error(key_path(path, key), f"Property '{key}' must be a list of strings")
    if item.get("options") is not None:
        report.warn(key_path(path, "options"), "Input 'options' is deprecated, use 'values'")
        if item.get("values") is not None:
            report.error(key_path(path, "options"), "Set either 'values' or 'options', not both")
    if (
        item.get("values") is None
        and item.get("options") is None
        and not (input_type != "ENUM" and item.get("expression") is not None)
    ):
        needs = "'values'" if input_type == "ENUM" else "'values' or an 'expression'"
        report.error(
            key_path(path, "values"), f"An input of type {input_type} needs {needs}", at=path
        )


def _check_item_type(report: Report, item: dict, path: str, input_type: str) -> None:
    if input_type not in ("ARRAY", "MULTISELECT"):
        return
    item_type = item.get("itemType")
    if item_type is None:
        if input_type == "ARRAY":
            report.error(
                key_path(path, "itemType"), "An input of type ARRAY needs an 'itemType'", at=path
            )
        return
    if item_type not in INPUT_TYPES:
        report.error(key_path(path, "itemType"), f"Unknown itemType '{item_type}'")
    elif item_type == "ARRAY":
        report.error(key_path(path, "itemType"), "`itemType` cannot be `ARRAY`")


def _check_bounds(report: Report, item: dict, path: str, input_type: str) -> None:
    keys = ("min", "max") if input_type in ("INT", "FLOAT", "DURATION") else ("after", "before")
    if input_type not in _EXTRA or keys[0] not in _EXTRA[input_type]:
        return
    for key in keys:
        value = item.get(key)
        if value is None:
            continue
        problem = _fits(input_type, value)
        if problem:
            report.error(key_path(path, key), f"Property '{key}' must be {problem}, got {value!r}")
    low, high = item.get("min"), item.get("max")
    if _is_number(low) and _is_number(high) and low > high:
        report.error(key_path(path, "min"), f"'min' ({low}) is greater than 'max' ({high})")


def _check_defaults(report: Report, item: dict, path: str, input_type: str) -> None:
    if "defaults" not in item or item["defaults"] is None:
        return
    value = item["defaults"]
    default_path = key_path(path, "defaults")
    if input_type == "FILE":
        report.error(default_path, "no `defaults` can be set for inputs of type 'FILE'")
        return
    problem = _fits(input_type, value)
    if problem:
        report.error(
            default_path,
            f"Property 'defaults' must be {problem} for an input of type "
            f"{input_type}, got {value!r}",
        )
        return
    if input_type == "INT" or input_type == "FLOAT":
        number = float(value)
        low, high = item.get("min"), item.get("max")
        if (_is_number(low) and number < low) or (_is_number(high) and number > high):
            report.error(default_path, f"Default {value} is outside min/max")
    allowed = item.get("values") or item.get("options")
    if (
        input_type in ("ENUM", "SELECT", "MULTISELECT")
        and isinstance(allowed, list)
        and not item.get("allowCustomValue")
    ):
        chosen = value if isinstance(value, list) else [value]
        for choice in chosen:
            if str(choice) not in [str(a) for a in allowed]:
                report.error(
                    default_path,
                    f"Default '{choice}' is not one of the values: {', '.join(map(str, allowed))}",
                )


def _check_dependencies(
    report: Report, first: dict[str, str], depends: dict[str, tuple[str, list[Any]]]
) -> None:
    for input_id, (dep_path, names) in depends.items():
        for index, name in enumerate(names):
            if isinstance(name, str) and name not in first:
                report.error(
                    index_path(key_path(dep_path, "inputs"), index),
                    f"Input with id '{input_id}' depends on a non-existent input '{name}'.",
                )
    graph = {
        key: [n for n in names if isinstance(n, str) and n in first]
        for key, (_, names) in depends.items()
    }
    reported: set[frozenset[str]] = set()
    for start in graph:
        cycle = _find_cycle(start, graph)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            report.error(
                depends[start][0],
                f"Cycle dependency detected for input with id '{start}': [{', '.join(cycle)}]",
            )


def _find_cycle(start: str, graph: dict[str, list[str]]) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in on_path:
            return path[path.index(node) :]
        if node in done:
            return None
        on_path.add(node)
        path.append(node)
        for following in graph.get(node, []):
            found = visit(following)
            if found:
                return found
        on_path.discard(node)
        path.pop()
        done.add(node)
        return None

    return visit(start)
