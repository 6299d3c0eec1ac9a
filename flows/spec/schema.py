"""JSON Schema checking with Kestra's leniencies, and jsonschema errors turned into
`Violation`s with a dotted path, a YAML line and a sentence a flow author understands.

Plugin properties are validated with a relaxed type check: a Pebble expression (`{{ ... }}`)
is accepted wherever a number, boolean, list or map is expected, because Kestra renders it
before use. Flow-level sections (concurrency, sla...) are never rendered, so they use the
strict validator.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match

from flows.spec import formats
from flows.spec.paths import index_path, key_path
from tenants.errors import Violation

LineOf = Callable[[str], tuple[int | None, int | None]]

_BASE_TYPE = Draft202012Validator.VALIDATORS["type"]
_RENDERED = frozenset({"integer", "number", "boolean", "array", "object"})


def _type_or_expression(validator: Any, types: Any, instance: Any, schema: Any) -> Any:
    """The `type` keyword, except that a Pebble expression satisfies any non-string type.
    Only the keyword is relaxed: other keywords still see a string, so `properties` or
    `minimum` do not try to look inside an expression."""
    wanted = types if isinstance(types, list) else [types]
    if formats.is_expression(instance) and _RENDERED.intersection(wanted):
        return
    yield from _BASE_TYPE(validator, types, instance, schema)


RelaxedValidator = validators.extend(Draft202012Validator, {"type": _type_or_expression})

FORMATS = FormatChecker(formats=())


def _string_format(name: str, check: Callable[[Any], bool]) -> None:
    """Register a format that only judges literal strings (types are checked elsewhere)."""

    def checker(value: Any) -> bool:
        if not isinstance(value, str) or formats.is_expression(value):
            return True
        return check(value)

    FORMATS.checks(name)(checker)


FORMATS.checks("duration")(
    lambda value: (
        isinstance(value, bool)
        or formats.is_duration(value)
        or not isinstance(value, str | int | float)
    )
)
_string_format("date", formats.is_date)
_string_format("time", formats.is_time)
_string_format("offset-time", formats.is_offset_time)
_string_format("date-time", formats.is_instant)
_string_format("zoned-date-time", formats.is_zoned_datetime)
_string_format("timezone", formats.is_timezone)
_string_format("regex", lambda value: formats.regex_error(value) is None)

_FORMAT_MESSAGES = {
    "duration": "must be an ISO-8601 duration such as PT10S or P1DT2H",
    "date": "must be a date such as 2024-12-31",
    "time": "must be a time such as 09:30:00",
    "offset-time": "must be a time such as 09:30:00 or 09:30:00+01:00",
    "date-time": "must be a date-time with a zone such as 2024-12-31T09:30:00Z",
    "zoned-date-time": "must be a date-time with a zone such as 2024-12-31T09:30:00+01:00",
    "timezone": "must be a time-zone id such as Europe/Paris",
    "regex": "must be a valid regular expression",
}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a map",
    "null": "null",
}


def relaxed(schema: dict[str, Any]) -> Draft202012Validator:
    return RelaxedValidator(schema, format_checker=FORMATS)


def strict(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FORMATS)


def type_name(value: Any) -> str:
    """How a YAML value is named in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def without_nulls(value: Any) -> Any:
    """Drop `key: null` entries: Kestra reads an explicit null as "not set"."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def schema_violations(
    validator: Draft202012Validator,
    instance: Any,
    base: str,
    line_of: LineOf,
) -> list[Violation]:
    """Every schema problem of `instance` (found at path `base`), one violation each."""
    found: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    for error in validator.iter_errors(instance):
        for violation in _violations(error, base, line_of):
            key = (violation.path, violation.message)
            if key not in seen:
                seen.add(key)
                found.append(violation)
    return found


def _join(base: str, parts: Iterable[Any]) -> str:
    path = base
    for part in parts:
        path = index_path(path, part) if isinstance(part, int) else key_path(path, str(part))
    return path


def _label(base: str, path: str) -> str:
    relative = path[len(base) :].lstrip(".") if path.startswith(base) else path
    return relative or path or "value"


def _violation(path: str, message: str, line_of: LineOf) -> Violation:
    line, column = line_of(path)
    return Violation(path, message, line, column)


def _violations(error: ValidationError, base: str, line_of: LineOf) -> Iterator[Violation]:
    path = _join(base, error.absolute_path)
    keyword = error.validator
    messages = error.schema.get("x-messages", {}) if isinstance(error.schema, dict) else {}
    custom = messages.get(keyword)
    name = _label(base, path)
    instance = error.instance
    if keyword in ("anyOf", "oneOf") and error.context:
        yield from _violations(best_match(error.context), base, line_of)
        return
    if keyword == "required":
        for prop in error.validator_value:
            if isinstance(instance, dict) and prop not in instance:
                missing = key_path(path, prop)
                line, column = line_of(path)
                yield Violation(missing, f"Missing required property '{prop}'", line, column)
        return
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = list(error.schema.get("properties", {}))
        for prop in instance:
            if prop in known:
                continue
            close = difflib.get_close_matches(prop, known, n=1, cutoff=0.7)
            hint = f". Did you mean '{close[0]}'?" if close else ""
            if not close and known:
                hint = ". Known properties: " + ", ".join(sorted(known))
            yield _violation(key_path(path, prop), f"Unknown property '{prop}'{hint}", line_of)
        return
    if custom:
        yield _violation(path, custom, line_of)
        return
    yield _violation(path, _message(keyword, error, name, instance), line_of)


def _message(keyword: str, error: ValidationError, name: str, instance: Any) -> str:
    value = error.validator_value
    subject = f"Property '{name}'"
    if keyword == "type":
        wanted = value if isinstance(value, list) else [value]
        names = " or ".join(_TYPE_NAMES.get(t, t) for t in wanted)
        return f"{subject} must be {names}, got {type_name(instance)}"
    if keyword == "enum":
        return f"{subject} must be one of {', '.join(map(str, value))}; got {instance!r}"
    if keyword == "const":
        return f"{subject} must be {value!r}"
    if keyword == "minimum":
        return f"{subject} must be at least {value}, got {instance}"
    if keyword == "maximum":
        return f"{subject} must be at most {value}, got {instance}"
    if keyword in ("exclusiveMinimum", "exclusiveMaximum"):
        side = "greater" if keyword == "exclusiveMinimum" else "less"
        return f"{subject} must be {side} than {value}, got {instance}"
    if keyword in ("minItems", "minProperties", "minLength"):
        if value == 1:
            return f"{subject} must not be empty"
        return f"{subject} must have at least {value} items"
    if keyword == "maxLength":
        return f"{subject} must be at most {value} characters long"
    if keyword == "maxItems":
        return f"{subject} must have at most {value} items"
    if keyword == "pattern":
        return f"{subject} must match the pattern {value}, got {instance!r}"
    if keyword == "format":
        return f"{subject} {_FORMAT_MESSAGES.get(value, 'has an invalid format')}, got {instance!r}"
    if keyword == "uniqueItems":
        return f"{subject} must not contain duplicates"
    return f"{subject}: {error.message}"
