"""DATETIME, DATE, TIME and DURATION inputs: parsing as java.time does, the normalized text
Kestra stores (Jackson's ISO forms), and the `after`/`before`/`min`/`max` bounds.

Values are kept as text so that an execution's inputs stay JSON: an instant in UTC with `Z`
(`2019-10-06T18:27:49Z`), a date `2019-10-06`, a time `18:27:49`, a duration in
`java.time.Duration#toString` form (`PT5M6S`, `PT48H` for `P2D`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from executions.engine.inputs.model import InputValueError
from executions.engine.inputs.scalars import expected
from flows.spec.formats import parse_duration

_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2})(?::?([0-9]{2}))?)?)"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?")


def _micros(fraction: str | None) -> int:
    return int((fraction or "").ljust(6, "0")[:6])


def parse_datetime(value: Any) -> datetime:
    """An instant: ISO-8601 date and time with `Z` or an offset; aware `datetime` objects too.
    A date-time without a zone is refused, as `Instant.parse` refuses it."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise expected("DATETIME", "; the value has no time zone")
        return value.astimezone(UTC)
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise expected("DATETIME")
    year, month, day, hour, minute, second, fraction, zulu, sign, oh, om, os_ = match.groups()
    offset = timedelta(0)
    if not zulu:
        offset = timedelta(hours=int(oh), minutes=int(om or 0), seconds=int(os_ or 0))
        offset = -offset if sign == "-" else offset
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            _micros(fraction),
            tzinfo=timezone(offset),
        )
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise expected("DATETIME", "; no such date or time") from None


def format_instant(moment: datetime) -> str:
    """`Instant#toString`: UTC, `Z`, a fraction only when there is one, by groups of 3."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    micros = moment.microsecond
    if micros:
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text + "Z"


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise expected("DATE")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise expected("DATE", "; no such date") from None


def parse_time(value: Any) -> time:
    """A local time `HH:MM[:SS[.fraction]]`, as `LocalTime.parse`."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise expected("TIME", "; a local time has no time zone")
        return value
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise expected("TIME")
    hour, minute, second, fraction = match.groups()
    try:
        return time(int(hour), int(minute), int(second or 0), _micros(fraction))
    except ValueError:
        raise expected("TIME", "; no such time") from None


def format_time(moment: time) -> str:
    """Jackson's ISO_LOCAL_TIME: seconds always, a fraction without trailing zeros."""
    text = moment.strftime("%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text


def java_time_text(moment: time) -> str:
    """`LocalTime#toString`, used in messages as Kestra's are: `01:00` for 01:00:00."""
    text = moment.strftime("%H:%M")
    micros = moment.microsecond
    if moment.second or micros:
        text += f":{moment.second:02d}"
    if micros:
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text


def parse_duration_value(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise expected("DURATION")
    try:
        return parse_duration(value)
    except ValueError:
        raise expected("DURATION") from None


def definition_duration(value: Any) -> Any:
    """A duration written in a definition (`defaults`, `min`, `max`): Kestra's Jackson reader
    also takes a number of seconds there, though not in a submitted value."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


def _truncated_div(a: int, b: int) -> int:
    quotient = abs(a) // b
    return quotient if a >= 0 else -quotient


def format_duration(delta: timedelta) -> str:
    """`java.time.Duration#toString`: hours, minutes and seconds only (`P2D` is `PT48H`);
    a negative fraction reads as Java writes it (`PT-0.5S`)."""
    total = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, micros = divmod(total, 1_000_000)
    if seconds == 0 and micros == 0:
        return "PT0S"
    effective = seconds + 1 if seconds < 0 and micros > 0 else seconds
    hours = _truncated_div(effective, 3600)
    minutes = _truncated_div(effective - hours * 3600, 60)
    secs = effective - hours * 3600 - minutes * 60
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs == 0 and micros == 0:
        return text
    if seconds < 0 and micros > 0 and secs == 0:
        text += "-0"
    else:
        text += str(secs)
    if micros:
        fraction = 1_000_000 - micros if seconds < 0 else micros
        text += "." + f"{fraction:06d}".rstrip("0")
    return text + "S"


_Parser = Callable[[Any], Any]
_TYPES: dict[str, tuple[_Parser, Callable[[Any], str], Callable[[Any], str]]] = {
    # type: (parse, stored text, text in messages)
    "DATETIME": (parse_datetime, format_instant, format_instant),
    "DATE": (parse_date, date.isoformat, date.isoformat),
    "TIME": (parse_time, format_time, java_time_text),
    "DURATION": (parse_duration_value, format_duration, format_duration),
}


def parse_temporal(type_name: str, value: Any) -> str:
    """Parse and normalize a DATETIME, DATE, TIME or DURATION value."""
    parse, store, _ = _TYPES[type_name]
    return store(parse(value))


_BOUND_WORDS = {
    False: ("after", "before", "it must be after", "it must be before"),
    True: ("min", "max", "It must be more than", "It must be less than"),  # Kestra's capital
}


def check_temporal_bounds(type_name: str, definition: Mapping[str, Any], text: str) -> None:
    """DATETIME/DATE/TIME honour `after`/`before` (Kestra's names; `min`/`max` are read as
    the same), DURATION honours `min`/`max`. Messages are Kestra's."""
    parse, _, shown = _TYPES[type_name]
    value = parse(text)
    low_key, high_key, low_text, high_text = _BOUND_WORDS[type_name == "DURATION"]
    low = _bound(type_name, definition, low_key, "min", parse)
    high = _bound(type_name, definition, high_key, "max", parse)
    if low is not None and value < low:
        raise InputValueError(f"{low_text} `{shown(low)}`")
    if high is not None and value > high:
        raise InputValueError(f"{high_text} `{shown(high)}`")


def _bound(
    type_name: str, definition: Mapping[str, Any], key: str, alias: str, parse: _Parser
) -> Any:
    raw = definition.get(key)
    if raw is None:
        raw = definition.get(alias)
        key = alias
    if raw is None:
        return None
    try:
        return parse(definition_duration(raw) if type_name == "DURATION" else raw)
    except InputValueError:
        raise InputValueError(
            f"its `{key}` bound `{raw}` is not a valid {type_name}", about_value=False
        ) from None
