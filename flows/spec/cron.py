"""Cron expressions as Kestra's Schedule trigger defines them (cron-utils, Unix flavour):
five fields, or six with `withSeconds`, strict ranges, month and day names, and the
`@daily`-style nicknames. No `?`, `L`, `W` or `#`: Kestra's definition does not enable them."""

from __future__ import annotations

import re

NICKNAMES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_MONTHS = {
    name: index + 1
    for index, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
# (name, lowest, highest, names)
_SECONDS = ("seconds", 0, 59, {})
_FIELDS = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_ITEM = re.compile(r"(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?")


def cron_error(expression: str, *, with_seconds: bool = False) -> str | None:
    """Why `expression` is not a valid cron expression, or None when it is."""
    if not isinstance(expression, str) or not expression.strip():
        return "the expression is empty"
    text = expression.strip()
    if text.startswith("@"):
        return None if text.lower() in NICKNAMES else f"unknown nickname '{text}'"
    fields = text.split()
    specs = ((_SECONDS,) if with_seconds else ()) + _FIELDS
    if len(fields) != len(specs):
        hint = " (set withSeconds: true for a seconds field)" if len(fields) == 6 else ""
        return f"expected {len(specs)} fields, got {len(fields)}{hint}"
    for value, spec in zip(fields, specs, strict=True):
        problem = _field_error(value, spec)
        if problem:
            return problem
    return None


def _field_error(value: str, spec: tuple[str, int, int, dict[str, int]]) -> str | None:
    name, lowest, highest, names = spec
    for item in value.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            return f"invalid {name} field '{value}'"
        step = match.group("step")
        if step is not None and int(step) == 0:
            return f"invalid step in {name} field '{value}'"
        part = match.group("range")
        if part == "*":
            continue
        bounds = part.split("-")
        numbers = []
        for bound in bounds:
            number = _number(bound, names)
            if number is None:
                return f"invalid value '{bound}' in {name} field"
            if not lowest <= number <= highest:
                return f"value {number} out of range {lowest}-{highest} for {name}"
            numbers.append(number)
        if len(numbers) == 2 and numbers[0] > numbers[1] and name != "day of week":
            return f"range {part} is reversed in {name} field"
    return None


def _number(text: str, names: dict[str, int]) -> int | None:
    if text.isdigit():
        return int(text)
    return names.get(text.upper())
