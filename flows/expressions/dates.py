"""Dates the way Kestra's `date`, `dateAdd`, `timestamp*` filters and `now()` handle them.

Kestra formats with Java's `DateTimeFormatter`, so flows are full of Java patterns
(`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`). Rather than translating them to `strftime` (which has no
equivalent for `XXX`, `SSSSSS`, `a`, quoted literals or optional sections), this module reads
the pattern letter by letter, as Java does, both to format and to parse (`existingFormat`).

Conversions follow Kestra's `AbstractDate`: an aware datetime keeps its instant; a naive one
is a local date-time in `timeZone`; a date is noon of that day; an int is epoch seconds; a
string is tried as a zoned date-time, then a local date-time, then a local date (midnight).
The named formats (`iso`, `iso_sec`, `sql`, `iso_date_time`, …, `rfc_1123_date_time`) and
the styles `full`/`long`/`medium`/`short` are supported.

Differences, documented: names of months and days are English whatever `locale` says; the
default zone (no `timeZone`) is UTC (Kestra uses the server's zone, UTC in its images); Python
keeps microseconds, so a ninth fraction digit is always 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta

from flows.expressions.date_parsing import convert
from flows.expressions.errors import EvaluationError
from flows.expressions.javatime import DAYS, MONTHS, UTC, pattern_of, tokens, zone
from flows.expressions.serialize import _fraction, offset_text, zone_id

__all__ = ["add", "convert", "epoch_nanos", "epoch_seconds", "format_date", "zone"]


_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}


def _offset(value: dt.datetime, letter: str, count: int) -> str:
    seconds = int((value.utcoffset() or dt.timedelta()).total_seconds())
    if letter in "OZ" and (letter == "O" or count == 4):
        if seconds == 0:
            return "GMT"
        sign, rest = ("+" if seconds > 0 else "-"), abs(seconds)
        hours, minutes = rest // 3600, rest % 3600 // 60
        if letter == "O" and count == 1:
            return f"GMT{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
        return f"GMT{sign}{hours:02d}:{minutes:02d}"
    if letter == "Z":
        letter, count = ("X", 5) if count == 5 else ("x", 2)
    if seconds == 0 and letter == "X":
        return "Z"
    sign, rest = ("+" if seconds >= 0 else "-"), abs(seconds)
    hours, minutes, secs = rest // 3600, rest % 3600 // 60, rest % 60
    colon = ":" if count in (3, 5) else ""
    text = f"{sign}{hours:02d}"
    if count > 1 or minutes:
        text += f"{colon}{minutes:02d}"
    if count > 3 and secs:
        text += f"{colon}{secs:02d}"
    return text


def _week_fields(day: dt.date) -> tuple[int, int]:
    """US week-based year and week (weeks start on Sunday, week 1 holds January 1st)."""
    saturday = day + dt.timedelta(days=(5 - day.weekday()) % 7)
    year = saturday.year
    jan1 = dt.date(year, 1, 1)
    start = jan1 - dt.timedelta(days=(jan1.weekday() + 1) % 7)
    return year, (day - start).days // 7 + 1


def _text(value: dt.datetime, names: list[str], index: int, count: int) -> str:
    name = names[index]
    return name[:3] if count <= 3 else name if count == 4 else name[0]


def _number(number: int, count: int) -> str:
    return str(number).zfill(count)


def _field(value: dt.datetime, letter: str, count: int) -> str:
    nanos = value.microsecond * 1000
    if letter in "yu":
        return f"{value.year % 100:02d}" if count == 2 else _number(value.year, count)
    if letter in "ML":
        if count >= 3:
            return _text(value, MONTHS, value.month - 1, count)
        return _number(value.month, count)
    if letter == "d":
        return _number(value.day, count)
    if letter == "D":
        return _number(value.timetuple().tm_yday, count)
    if letter == "H":
        return _number(value.hour, count)
    if letter in "hK":
        hour = value.hour % 12
        return _number(12 if hour == 0 and letter == "h" else hour, count)
    if letter == "k":
        return _number(value.hour or 24, count)
    if letter == "m":
        return _number(value.minute, count)
    if letter == "s":
        return _number(value.second, count)
    if letter == "S":
        return f"{nanos:09d}"[:count].ljust(count, "0")
    if letter == "n":
        return _number(nanos, count)
    if letter == "A":
        return _number(
            (value.hour * 3600 + value.minute * 60 + value.second) * 1000
            + value.microsecond // 1000,
            count,
        )
    if letter == "N":
        return _number(
            (value.hour * 3600 + value.minute * 60 + value.second) * 10**9 + nanos, count
        )
    if letter == "a":
        return "AM" if value.hour < 12 else "PM"
    if letter == "E":
        return _text(value, DAYS, value.weekday(), count)
    if letter in "ec":
        if count <= 2:
            return _number((value.weekday() + 1) % 7 + 1, count)
        return _text(value, DAYS, value.weekday(), count)
    if letter in "Qq":
        quarter = (value.month - 1) // 3 + 1
        return {3: f"Q{quarter}", 4: f"{_ORDINAL[quarter]} quarter"}.get(count, str(quarter))
    if letter == "G":
        return {4: "Anno Domini", 5: "A"}.get(count, "AD")
    if letter in "Yw":
        year, week = _week_fields(value.date())
        if letter == "w":
            return _number(week, count)
        return f"{year % 100:02d}" if count == 2 else _number(year, count)
    if letter == "W":
        first = value.replace(day=1).date()
        return str((value.day + (first.weekday() + 1) % 7 - 1) // 7 + 1)
    if letter == "F":
        return str((value.day - 1) // 7 + 1)
    if letter in "VvzZXxO":
        if letter in "Vv" or (letter == "z" and count == 4):
            return zone_id(value) or offset_text(value.utcoffset())
        if letter == "z":
            return value.tzname() or offset_text(value.utcoffset())
        return _offset(value, letter, count)
    raise EvaluationError(f"Unknown pattern letter: {letter}")


def format_pattern(value: dt.datetime, pattern: str) -> str:
    return "".join(
        _field(value, text, count) if kind == "f" else text
        for kind, text, count in tokens(pattern)
        if kind in "fl"
    )


# -- the named ISO formatters


def _local_time(value: dt.datetime) -> str:
    text = value.strftime("%H:%M:%S")
    return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")


def _iso(name: str, value: dt.datetime) -> str | None:
    offset = offset_text(value.utcoffset())
    date = value.strftime("%Y-%m-%d")
    region = zone_id(value)
    local = f"{date}T{_local_time(value)}"
    iso_year, iso_week, iso_day = value.isocalendar()
    instant = value.astimezone(UTC)
    formats = {
        "iso_local_date": date,
        "iso_date": date + offset,
        "iso_local_time": _local_time(value),
        "iso_time": _local_time(value) + offset,
        "iso_offset_time": _local_time(value) + offset,
        "iso_local_date_time": local,
        "iso_offset_date_time": local + offset,
        "iso_date_time": local + offset + (f"[{region}]" if region else ""),
        "iso_zoned_date_time": local + offset + (f"[{region}]" if region else ""),
        "iso_instant": instant.strftime("%Y-%m-%dT%H:%M:%S")
        + _fraction(instant.microsecond * 1000)
        + "Z",
        "iso_ordinal_date": f"{value.year}-{value.timetuple().tm_yday:03d}{offset}",
        "iso_week_date": f"{iso_year}-W{iso_week:02d}-{iso_day}{offset}",
        "rfc_1123_date_time": f"{DAYS[value.weekday()][:3]}, {value.day} "
        f"{MONTHS[value.month - 1][:3]} {value.year} {value.strftime('%H:%M:%S')} "
        + (_offset(value, "x", 2) if value.utcoffset() else "GMT"),
    }
    return formats.get(name)


def format_with(value: dt.datetime, name: str) -> str:
    return _iso(name, value) or format_pattern(value, pattern_of(name))


# -- parsing


def format_date(value: Any, args: dict[str, Any], default: str = "iso") -> str:
    tz = zone(args.get("timeZone"))
    date = convert(value, tz, args.get("existingFormat"))
    return format_with(date.astimezone(tz), args.get("format") or default)


_UNITS = {
    "NANOS": dt.timedelta(microseconds=0.001),
    "MICROS": dt.timedelta(microseconds=1),
    "MILLIS": dt.timedelta(milliseconds=1),
    "SECONDS": dt.timedelta(seconds=1),
    "MINUTES": dt.timedelta(minutes=1),
    "HOURS": dt.timedelta(hours=1),
    "HALF_DAYS": dt.timedelta(hours=12),
}
_DATE_UNITS = {
    "DAYS": ("days", 1),
    "WEEKS": ("weeks", 1),
    "MONTHS": ("months", 1),
    "YEARS": ("years", 1),
    "DECADES": ("years", 10),
    "CENTURIES": ("years", 100),
    "MILLENNIA": ("years", 1000),
}


def add(value: Any, amount: int, unit: str, args: dict[str, Any]) -> str:
    """`dateAdd`: time units move the instant, date units the local date (DST-safe)."""
    tz = zone(args.get("timeZone"))
    date = convert(value, tz, args.get("existingFormat"))
    if unit in _UNITS:
        moved = (date.astimezone(UTC) + _UNITS[unit] * amount).astimezone(date.tzinfo)
    elif unit in _DATE_UNITS:
        field, factor = _DATE_UNITS[unit]
        moved = date + relativedelta(**{field: amount * factor})
    else:
        raise EvaluationError(f"No enum constant java.time.temporal.ChronoUnit.{unit}")
    return format_with(moved.astimezone(tz), args.get("format") or "iso")


def epoch_seconds(date: dt.datetime) -> int:
    delta = date - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86400 + delta.seconds


def epoch_nanos(date: dt.datetime) -> int:
    return epoch_seconds(date) * 1_000_000_000 + date.microsecond * 1000
