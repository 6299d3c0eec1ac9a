"""Value formats Kestra parses with java.time and java.util.regex, checked the same way here so
that a flow Kestra would refuse is refused at save time, not when it runs."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

_DURATION = re.compile(
    r"([-+]?)P(?:([-+]?[0-9]+)D)?"
    r"(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?",
    re.IGNORECASE,
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?")
_OFFSET = re.compile(r"Z|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2})?)?", re.IGNORECASE)
_ZONE_OFFSET = re.compile(r"(?:UTC|GMT|UT)?(?:[+-][0-9]{1,2}(?::?[0-9]{2}(?::?[0-9]{2})?)?)?|Z")


def is_expression(value: Any) -> bool:
    """A Pebble template: Kestra renders it before use, so its type is only known at run time."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration as `java.time.Duration.parse` does (days and smaller units
    only, case-insensitive, signed parts); raise ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"'{text}' is not an ISO-8601 duration such as PT10S or P1DT2H")
    sign, days, t_part, hours, minutes, seconds, fraction = match.groups()
    if days is None and t_part is None:
        raise ValueError(f"'{text}' is not an ISO-8601 duration such as PT10S or P1DT2H")
    if t_part is not None and hours is None and minutes is None and seconds is None:
        raise ValueError(f"'{text}' is not an ISO-8601 duration such as PT10S or P1DT2H")
    try:
        total = timedelta(
            days=int(days or 0),
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=int(seconds or 0),
        )
    except OverflowError:  # past 999,999,999 days: Java's Duration would overflow too
        raise ValueError(f"'{text}' is too long a duration") from None
    if fraction:
        micros = int(fraction.ljust(9, "0")[:6])
        signed = -1 if (seconds or "").startswith("-") else 1
        total += timedelta(microseconds=signed * micros)
    return -total if sign == "-" else total


def duration_value(value: Any) -> timedelta | None:
    """A literal duration (ISO text, or a number of seconds as Jackson accepts); None for an
    expression or anything unparsable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return timedelta(seconds=value)
        except (OverflowError, ValueError):  # too large, or not a number (NaN)
            return None
    if isinstance(value, str) and not is_expression(value):
        try:
            return parse_duration(value)
        except ValueError:
            return None
    return None


def is_duration(value: Any) -> bool:
    return is_expression(value) or duration_value(value) is not None


def is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_time(value: Any) -> bool:
    """`HH:MM[:SS[.fraction]]`, a java.time.LocalTime."""
    if not isinstance(value, str):
        return False
    match = _TIME.fullmatch(value)
    return match is not None and _time_in_range(match)


def is_offset_time(value: Any) -> bool:
    """A local time with an optional offset (`10:00:00+02:00`), for TimeBetween."""
    if not isinstance(value, str):
        return False
    match = _TIME.match(value)
    if match is None or not _time_in_range(match):
        return False
    rest = value[match.end() :]
    return not rest or _OFFSET.fullmatch(rest) is not None


def _time_in_range(match: re.Match[str]) -> bool:
    hours, minutes, seconds, _ = match.groups()
    try:
        time(int(hours), int(minutes), int(seconds or 0))
    except ValueError:
        return False
    return True


def is_instant(value: Any) -> bool:
    """An ISO date-time with a zone or offset (`2019-10-06T18:27:49Z`)."""
    parsed = _datetime(value)
    return parsed is not None and parsed.tzinfo is not None


def is_zoned_datetime(value: Any) -> bool:
    """Like an instant, optionally followed by a region in brackets
    (`2024-01-01T00:00:00+01:00[Europe/Paris]`)."""
    if isinstance(value, str) and value.endswith("]") and "[" in value:
        value, zone = value[:-1].split("[", 1)
        if not is_timezone(zone):
            return False
    return is_instant(value)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@lru_cache(maxsize=512)
def is_timezone(value: str) -> bool:
    """Accept what `java.time.ZoneId.of` accepts: region ids and offsets (`UTC+2`)."""
    if not isinstance(value, str) or not value:
        return False
    if _ZONE_OFFSET.fullmatch(value):
        return True
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        # Without a time-zone database every name would fail; do not refuse then.
        return not available_timezones()
    return True


@lru_cache(maxsize=512)
def regex_error(pattern: str) -> str | None:
    """Why `pattern` is not a valid regular expression, or None."""
    try:
        re.compile(pattern)
    except re.error as error:
        return str(error)
    return None
