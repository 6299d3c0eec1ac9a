"""Reading dates: Kestra's `AbstractDate.convert` and `existingFormat` patterns.

An aware datetime keeps its instant; a naive one is a local date-time in `timeZone`; a date is
noon of that day; an int is epoch seconds; a string is tried as a zoned date-time, then a local
date-time, then a local date at midnight, with ISO rules (`ZonedDateTime.parse`) or with the
Java pattern / named format given as `existingFormat`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from flows.expressions.errors import EvaluationError
from flows.expressions.javatime import DAYS, MONTHS, UTC, pattern_of, tokens, zone

__all__ = ["convert", "parse"]


_NUMBERS = {
    "M": r"\d{1,2}",
    "d": r"\d{1,2}",
    "H": r"\d{1,2}",
    "h": r"\d{1,2}",
    "K": r"\d{1,2}",
    "k": r"\d{1,2}",
    "m": r"\d{1,2}",
    "s": r"\d{1,2}",
    "D": r"\d{1,3}",
    "n": r"\d{1,9}",
}
_OFFSET_RE = r"Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?"


def _parse_regex(letter: str, count: int) -> str:
    if letter in "yu":
        return r"\d{2}" if count == 2 else rf"[+-]?\d{{{max(count, 1)},9}}"
    if letter in "ML" and count >= 3:
        names = [m if count == 4 else m[:3] for m in MONTHS]
        return "|".join(names)
    if letter in "Ee":
        return "|".join(DAYS) + "|" + "|".join(d[:3] for d in DAYS)
    if letter == "S":
        return rf"\d{{{count}}}"
    if letter == "a":
        return "AM|PM|am|pm"
    if letter in "XxZ":
        return _OFFSET_RE if count < 4 or letter != "Z" else rf"GMT(?:{_OFFSET_RE})?|Z"
    if letter == "O":
        return r"GMT(?:[+-]\d{1,2}(?::\d{2})?)?"
    if letter == "V":
        return r"[A-Za-z][A-Za-z0-9~/._+-]*|" + _OFFSET_RE
    if letter == "z":
        return r"[A-Za-z]{1,5}"
    if letter in _NUMBERS:
        return r"\d{2}" if count == 2 else _NUMBERS[letter]
    raise EvaluationError(f"Unsupported letter '{letter}' in a parse pattern")


@functools.lru_cache(maxsize=128)
def _compiled(pattern: str) -> tuple[re.Pattern[str], tuple[tuple[str, int], ...]]:
    parts: list[str] = []
    fields: list[tuple[str, int]] = []
    for kind, text, count in tokens(pattern):
        if kind == "f":
            parts.append(f"({_parse_regex(text, count)})")
            fields.append((text, count))
        elif kind == "l":
            parts.append(re.escape(text))
        else:
            parts.append("(?:" if kind == "[" else ")?")
    return re.compile("".join(parts)), tuple(fields)


def _offset_of(text: str) -> dt.tzinfo:
    text = text.removeprefix("GMT")
    return UTC if text in ("", "Z") else zone(text)


def _parse_fields(text: str, pattern: str) -> dict[str, Any]:
    regex, fields = _compiled(pattern)
    match = regex.fullmatch(text)
    if match is None:
        raise EvaluationError(f"Text '{text}' could not be parsed with the pattern '{pattern}'")
    found: dict[str, Any] = {}
    for (letter, count), value in zip(fields, match.groups(), strict=True):
        if value is None:
            continue
        if letter in "yu":
            found["year"] = 2000 + int(value) if count == 2 else int(value)
        elif letter in "ML":
            found["month"] = (
                int(value) if value.isdigit() else [m[:3] for m in MONTHS].index(value[:3]) + 1
            )
        elif letter in "dDHhKkmsna":
            key = {
                "d": "day",
                "D": "yday",
                "H": "hour",
                "k": "hour",
                "m": "minute",
                "s": "second",
                "n": "nano",
                "a": "ampm",
            }.get(letter, "hour12")
            found[key] = value.upper() if letter == "a" else int(value)
        elif letter == "S":
            found["nano"] = int(value.ljust(9, "0")[:9])
        elif letter in "XxZOz" or (letter == "V" and value[0] in "+-Z"):
            found["tz"] = _offset_of(value) if letter != "z" else zone(value)
        elif letter == "V":
            found["tz"] = zone(value)
    if "hour12" in found:
        found["hour"] = found.pop("hour12") % 12 + (12 if found.get("ampm") == "PM" else 0)
    return found


_ISO_RE = re.compile(
    r"(?P<date>[+-]?\d{4,9}-\d{2}-\d{2})?(?:T?(?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?))?"
    rf"(?P<offset>{_OFFSET_RE})?(?:\[(?P<zone>[^\]]+)\])?"
)
_RFC_RE = re.compile(
    r"(?:[A-Z][a-z]{2}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))?"
    r" (GMT|[+-]\d{4})"
)


def _iso_fields(text: str, name: str | None) -> dict[str, Any]:
    if name == "rfc_1123_date_time":
        rfc = _RFC_RE.fullmatch(text)
        if rfc is None:
            raise EvaluationError(f"Text '{text}' could not be parsed as RFC 1123")
        day, month, year, hour, minute, second, tz = rfc.groups()
        return {
            "year": int(year),
            "month": [m[:3] for m in MONTHS].index(month) + 1,
            "day": int(day),
            "hour": int(hour),
            "minute": int(minute),
            "second": int(second or 0),
            "tz": _offset_of(tz),
        }
    match = _ISO_RE.fullmatch(text)
    if (
        match is None
        or not (match["date"] or match["time"])
        or (name is None and "T" not in text and match["time"])
    ):
        raise EvaluationError(f"Text '{text}' could not be parsed")
    found: dict[str, Any] = {}
    if match["date"]:
        year, month, day = match["date"].rsplit("-", 2)
        found.update(year=int(year), month=int(month), day=int(day))
    if match["time"]:
        clock, _, fraction = match["time"].replace(",", ".").partition(".")
        hour, minute, *second = clock.split(":")
        found.update(
            hour=int(hour),
            minute=int(minute),
            second=int(second[0]) if second else 0,
            nano=int(fraction.ljust(9, "0")) if fraction else 0,
        )
    if match["zone"]:
        found["tz"] = zone(match["zone"])
    elif match["offset"]:
        found["tz"] = _offset_of(match["offset"])
    return found


def _build(found: dict[str, Any], tz: dt.tzinfo, text: str) -> dt.datetime:
    """ZonedDateTime, else LocalDateTime in `tz`, else LocalDate at midnight in `tz`."""
    try:
        if "yday" in found and "year" in found:
            day = dt.date(found["year"], 1, 1) + dt.timedelta(days=found["yday"] - 1)
        else:
            day = dt.date(found["year"], found["month"], found["day"])
    except (KeyError, ValueError) as error:
        raise EvaluationError(f"Text '{text}' could not be parsed: no complete date") from error
    if "hour" not in found:
        return dt.datetime.combine(day, dt.time(), tz)
    try:
        clock = dt.time(
            found["hour"],
            found.get("minute", 0),
            found.get("second", 0),
            found.get("nano", 0) // 1000,
        )
    except ValueError as error:
        raise EvaluationError(f"Text '{text}' could not be parsed: {error}") from error
    return dt.datetime.combine(day, clock, found.get("tz", tz))


def parse(text: str, tz: dt.tzinfo, existing_format: str | None) -> dt.datetime:
    if existing_format is None or existing_format.startswith(("iso_", "rfc_")):
        found = _iso_fields(text.strip() if existing_format else text, existing_format)
    else:
        found = _parse_fields(text, pattern_of(existing_format))
    return _build(found, tz, text)


def convert(value: Any, tz: dt.tzinfo, existing_format: str | None = None) -> dt.datetime:
    """Kestra's AbstractDate.convert: any supported input to an aware datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(12), tz)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz)
        except (OverflowError, OSError, ValueError) as error:
            raise EvaluationError(f"epoch seconds out of range: {value}") from error
    if isinstance(value, str):
        return parse(value, tz, existing_format)
    raise EvaluationError(f"Unable to convert a {type(value).__name__} to a date")
