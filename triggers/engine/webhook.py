"""The pure part of the Webhook trigger: what templates see of an HTTP call (Kestra's
`Webhook.Output`) and the trigger's options. No Django: the view hands in plain data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEY_MAX_LENGTH = 256  # Kestra's @Size(max = 256) on `key`
# Deeper JSON stays text: every later step (storage, templates, the JSON answer) recurses
# over it, and a hostile body must not reach Python's recursion limit there.
MAX_JSON_DEPTH = 100


@dataclass(frozen=True)
class WebhookCall:
    """One HTTP call to a webhook URL: its raw body, headers (lower-case name → values) and
    query parameters (name → values, in the order given)."""

    method: str
    body: bytes
    headers: Mapping[str, list[str]]
    parameters: Mapping[str, list[str]]


def parse_body(raw: bytes) -> Any:
    """Kestra's order: a JSON object, else a JSON array, else the text as sent; None when
    empty. A JSON scalar (`12`, `"x"`) stays text, as Jackson's map/list readers refuse it;
    so does JSON nested deeper than MAX_JSON_DEPTH."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not isinstance(parsed, dict | list) or _deeper_than(parsed, MAX_JSON_DEPTH):
        return text
    return parsed


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether maps and lists nest more than `limit` levels (walked without recursion)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def trigger_variables(call: WebhookCall) -> dict[str, Any]:
    """`trigger.body`, `trigger.headers`, `trigger.parameters` of the started execution.
    A NUL character anywhere (a binary body, `%00` in the query, `\\u0000` in the JSON)
    becomes U+FFFD, as bytes that are not UTF-8 do: PostgreSQL's JSON cannot hold NUL."""
    return storable(
        {
            "body": parse_body(call.body),
            "headers": {name: list(values) for name, values in call.headers.items()},
            "parameters": {name: list(values) for name, values in call.parameters.items()},
        }
    )


def storable(value: Any) -> Any:
    """`value` with every NUL in its strings (map keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def waits(spec: Mapping[str, Any]) -> bool:
    """Answer only when the execution ends: `wait: true`, or `returnOutputs: true` (outputs
    exist only then)."""
    return spec.get("wait") is True or returns_outputs(spec)


def returns_outputs(spec: Mapping[str, Any]) -> bool:
    return spec.get("returnOutputs") is True
