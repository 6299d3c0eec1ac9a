"""What Kestra's date functions share with Java's `java.time`: zones, names, patterns.

`zone()` is `ZoneId.of`; `tokens()` reads a `DateTimeFormatter` pattern into letters, quoted
literals and optional sections, for `dates.py` (formatting) and `date_parsing.py` (parsing).
Names are English (Locale.US), the locale of Kestra's servers.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.expressions.errors import EvaluationError

__all__ = ["DAYS", "MONTHS", "UTC", "pattern_of", "tokens", "zone"]

UTC = dt.UTC
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_NNBSP = "\u202f"  # Java 20+ (CLDR 42) puts a narrow no-break space before AM/PM

_NAMED_PATTERNS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
}
_STYLES = {
    "short": f"M/d/yy, h:mm{_NNBSP}a",
    "medium": f"MMM d, y, h:mm:ss{_NNBSP}a",
    "long": f"MMMM d, y 'at' h:mm:ss{_NNBSP}a z",
    "full": f"EEEE, MMMM d, y 'at' h:mm:ss{_NNBSP}a zzzz",
}


@functools.lru_cache(maxsize=128)
def zone(name: str | None) -> dt.tzinfo:
    """`ZoneId.of`: a region (`Europe/Paris`), `UTC`/`Z`/`GMT`, or an offset (`+02:00`)."""
    if name is None:
        return UTC
    if name in ("Z", "UTC", "GMT", "UT"):
        return UTC
    offset = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?", name)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        hours, minutes, seconds = (int(g or 0) for g in offset.group(2, 3, 4))
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes, seconds=seconds))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise EvaluationError(f"Unknown time-zone ID: {name}") from error


# -- pattern reading


@functools.lru_cache(maxsize=256)
def tokens(pattern: str) -> tuple[tuple[str, str, int], ...]:
    """('f', letter, count) | ('l', text, 0) | ('[', '', 0) | (']', '', 0)."""
    out: list[tuple[str, str, int]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char.isascii() and char.isalpha():
            end = index
            while end < len(pattern) and pattern[end] == char:
                end += 1
            out.append(("f", char, end - index))
            index = end
        elif char == "'":
            end = pattern.find("'", index + 1)
            if end < 0:
                raise EvaluationError(f"Pattern ends with an incomplete string literal: {pattern}")
            out.append(("l", pattern[index + 1 : end] or "'", 0))
            index = end + 1
        elif char in "[]":
            out.append((char, "", 0))
            index += 1
        elif char in "{}#":
            raise EvaluationError(f"Pattern includes reserved character: '{char}'")
        else:
            out.append(("l", char, 0))
            index += 1
    return tuple(out)


def pattern_of(name: str) -> str:
    """The Java pattern of a named format (`iso`, `sql`…) or style (`short`…), else `name`."""
    return _NAMED_PATTERNS.get(name) or _STYLES.get(name) or name
