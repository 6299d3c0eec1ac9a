"""Typed values of the KV store, as Kestra's `KVType` sees them. Pure Python.

Kestra stores KV values as ION, so a value keeps its type: a JSON string is STRING, a number
NUMBER, an object or array JSON, and an unquoted ISO timestamp, date or duration (which ION
accepts and JSON does not) DATETIME, DATE or DURATION.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from flows.spec.formats import parse_duration

KV_TYPES = ("STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON")
KEY_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
KEY_RULE = (
    "Key must start with an alphanumeric character (uppercase or lowercase) and can contain "
    "alphanumeric characters (uppercase or lowercase), dots (.), underscores (_), and "
    "hyphens (-) only."
)
MAX_KEY_LENGTH = 255


class KVValueError(ValueError):
    """A value or key the store refuses; the message says why."""


def check_key(key: str) -> None:
    if not key:
        raise KVValueError("Key cannot be null or empty")
    if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.fullmatch(key):
        raise KVValueError(KEY_RULE)


def kv_type_of(value: Any) -> str:
    if value is None or isinstance(value, str):
        return "STRING"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMBER"
    if isinstance(value, datetime):
        return "DATETIME"
    if isinstance(value, date):
        return "DATE"
    if isinstance(value, timedelta):
        return "DURATION"
    return "JSON"


def parse_text(text: str) -> Any:
    """The value of a KV PUT body: JSON, or an unquoted ISO date-time, date or duration."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    for parse in (_datetime, date.fromisoformat, parse_duration):
        try:
            return parse(stripped)
        except ValueError:
            continue
    raise KVValueError(f"Invalid JSON value for: {text[:200]}")


def coerce(value: Any, kv_type: str) -> Any:
    """`value` as `kv_type` (the kv.Set task's `kvType`, the page's type select)."""
    if kv_type not in KV_TYPES:
        raise KVValueError(f"Unknown type {kv_type}; expected one of {', '.join(KV_TYPES)}")
    try:
        if kv_type == "STRING":
            return value if isinstance(value, str) else json.dumps(value)
        if kv_type == "NUMBER":
            number = float(value) if not isinstance(value, int | float) else value
            return int(number) if isinstance(number, float) and number.is_integer() else number
        if kv_type == "BOOLEAN":
            return _boolean(value)
        if kv_type == "DATETIME":
            return value if isinstance(value, datetime) else _datetime(str(value))
        if kv_type == "DATE":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if kv_type == "DURATION":
            return value if isinstance(value, timedelta) else parse_duration(str(value))
        return json.loads(value) if isinstance(value, str) else value
    except (ValueError, TypeError) as error:
        raise KVValueError(f"'{value}' is not a valid {kv_type}: {error}") from None


def to_json(value: Any) -> Any:
    """What the database and the API hold: dates, date-times and durations as ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    return value


def from_json(stored: Any, kv_type: str) -> Any:
    """The typed value back (what `kv()` returns to expressions)."""
    if kv_type == "DATETIME":
        return _datetime(stored)
    if kv_type == "DATE":
        return date.fromisoformat(stored)
    if kv_type == "DURATION":
        return parse_duration(stored)
    return stored


def iso_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}PT"
    if hours:
        text += f"{int(hours)}H"
    if minutes:
        text += f"{int(minutes)}M"
    if secs or text.endswith("T"):
        text += f"{secs:g}S"
    return text


def _datetime(text: str) -> datetime:
    if "T" not in text.upper():
        raise ValueError(f"'{text}' is not an ISO date-time")
    return datetime.fromisoformat(text)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    raise ValueError("expected true or false")
