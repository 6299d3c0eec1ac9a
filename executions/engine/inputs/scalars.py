"""Typing of the single-valued inputs that need no clock and no storage: text, numbers,
booleans, JSON, YAML, URI and email.

Each parser takes what was submitted, either a string (HTML form, multipart, CLI `KEY=VALUE`)
or an already-typed JSON value (API body, Subflow `inputs`), and returns a JSON-ready value or
raises `InputValueError` saying what was expected.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

from executions.engine.inputs.model import InputValueError
from flows.spec.yaml_loader import YamlLoadError, load_yaml_document

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""Kestra types INT inputs as java.lang.Integer."""

FLOAT_MAX = 3.4028234663852886e38
"""Kestra types FLOAT inputs as java.lang.Float; beyond this Java would give Infinity."""

HINTS = {
    "STRING": "text",
    "SECRET": "text",
    "ENUM": "one of the listed values",
    "SELECT": "one of the listed values",
    "MULTISELECT": "a list of the listed values, or a JSON array",
    "ARRAY": "a list, or a JSON array such as [1, 2]",
    "INT": "a whole number such as 42",
    "FLOAT": "a number such as 4.2",
    "BOOLEAN": "true or false",
    "DATETIME": "a date and time with a zone such as 2024-12-31T09:30:00Z",
    "DATE": "a date such as 2024-12-31",
    "TIME": "a time such as 09:30:00",
    "DURATION": "an ISO-8601 duration such as PT5M or P1DT2H",
    "JSON": "JSON text or a JSON value",
    "YAML": "YAML text or a structured value",
    "URI": "an absolute URI such as https://example.com/data.csv",
    "EMAIL": "an email address such as jane@example.com",
    "FILE": "an uploaded file, or the kestra:/// URI of a file of this namespace",
}

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?\s*")
# Kestra's pattern, with the ASCII apostrophe it meant (0.20 has U+2019 by mistake).
_EMAIL = re.compile(r"[a-zA-Z0-9_!#$%&'*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+")
# An absolute hierarchical URI: a scheme, `://`, then no blanks nor characters a URI may not
# hold unescaped. Kestra 0.20's own pattern also wants a dotted host name, which refuses
# `http://localhost:8080/`; the rest of its rule (`http:/bla` is refused) is kept.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"{}|\\^`]*")


def expected(type_name: str, detail: str = "") -> InputValueError:
    """The error for a value that cannot be read as `type_name`."""
    hint = HINTS.get(type_name, type_name.lower())
    return InputValueError(f"expected `{type_name}` ({hint}){detail}")


def is_blank_text(value: Any) -> bool:
    return isinstance(value, str) and value == ""


def to_text(value: Any, type_name: str = "STRING") -> str:
    """STRING-like inputs: a string as is, a number or boolean in its JSON spelling."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise expected(type_name)


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise expected("INT")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INT.fullmatch(value):
        number = int(value)
    else:
        raise expected("INT")
    if not INT_MIN <= number <= INT_MAX:
        raise InputValueError(f"expected `INT` (a whole number between {INT_MIN} and {INT_MAX})")
    return number


def parse_float(value: Any) -> float:
    if isinstance(value, bool):
        raise expected("FLOAT")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _FLOAT.fullmatch(value):
        number = float(value.strip().rstrip("fFdD"))
    else:
        raise expected("FLOAT")
    if not math.isfinite(number) or abs(number) > FLOAT_MAX:
        raise expected("FLOAT", ", a finite number within ±3.4e38")
    return number


def parse_boolean(value: Any) -> bool:
    """`true`/`false` in any case. Kestra 0.20 reads every other string as false
    (`Boolean.valueOf`); Aviary refuses it, so that a typo is not a silent `false`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise expected("BOOLEAN")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(value: Any) -> Any:
    """JSON text is parsed; an already-structured value is kept (correction 11)."""
    if isinstance(value, str):
        try:
            return json.loads(value, parse_constant=_reject_constant)
        except ValueError as error:
            detail = getattr(error, "msg", str(error))
            where = getattr(error, "lineno", None)
            at = f" at line {where} column {getattr(error, 'colno', '?')}" if where else ""
            raise expected("JSON", f"; the text is not valid JSON: {detail}{at}") from None
    if _is_json_data(value):
        return value
    raise expected("JSON")


def parse_yaml(value: Any) -> Any:
    """YAML text is parsed (timestamps stay text, as Kestra's reader keeps them); an
    already-structured value is kept."""
    if isinstance(value, str):
        try:
            loaded = load_yaml_document(value)
        except YamlLoadError as error:
            raise expected("YAML", f"; the text is not valid YAML: {error.message}") from None
        if loaded.problems:
            raise expected("YAML", f"; {loaded.problems[0]}")
        return loaded.data
    if _is_json_data(value):
        return value
    raise expected("YAML")


def _is_json_data(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_is_json_data(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_data(v) for k, v in value.items())
    return False


def parse_uri(value: Any) -> str:
    if not isinstance(value, str) or not _URI.fullmatch(value):
        raise expected("URI")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise expected("URI") from None
    if not parts.netloc and not parts.path.strip("/"):
        raise expected("URI")
    return value


def parse_email(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        raise expected("EMAIL")
    return value
