"""The Java methods and bean properties a Kestra expression can reach, emulated.

Pebble resolves `x.name` and `x.name(args)` by reflection on the Java object. Kestra users
rely on a handful of these (`"a,b".split(",")`, `list.size`, `text.length()`,
`map.keySet()`); this module answers exactly those, on the Python values that stand in for
Java's. Anything else is simply not there: no reflection, so no way out of the sandbox.

Java regular expressions (used by `split`, `replaceAll`, `matches` and the `replace` and
`split` filters) are translated: `(?<name>…)` groups and `$1` / `${name}` replacements.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

from flows.expressions.errors import EvaluationError, SecurityViolation
from flows.expressions.serialize import MapEntry, java_str
from flows.expressions.state import MAX_OUTPUT_CHARS

__all__ = ["call_method", "java_regex", "java_replacement", "java_split", "property_of"]


@functools.lru_cache(maxsize=256)
def java_regex(pattern: str) -> re.Pattern[str]:
    translated = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern)
    try:
        return re.compile(translated)
    except re.error as error:
        raise EvaluationError(f"invalid regular expression '{pattern}': {error}") from error


def java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """Java's `Matcher.replaceAll` replacement syntax: `$1`, `${name}`, `\\$`, `\\\\`."""

    def expand(match: re.Match[str]) -> str:
        out: list[str] = []
        index = 0
        while index < len(replacement):
            char = replacement[index]
            if char == "\\" and index + 1 < len(replacement):
                out.append(replacement[index + 1])
                index += 2
            elif char == "$" and replacement[index + 1 : index + 2] == "{":
                end = replacement.index("}", index)
                out.append(match.group(replacement[index + 2 : end]) or "")
                index = end + 1
            elif char == "$":
                digits = re.match(r"\d+", replacement[index + 1 :])
                if not digits:
                    raise EvaluationError("Illegal group reference in replacement")
                out.append(match.group(int(digits.group())) or "")
                index += 1 + len(digits.group())
            else:
                out.append(char)
                index += 1
        return "".join(out)

    return expand


def java_split(text: str, regex: str, limit: int = 0) -> list[str]:
    """`String.split(regex, limit)`: no leading empty part for a zero-width first match,
    at most `limit` parts when limit > 0, trailing empty parts dropped when limit is 0."""
    parts: list[str] = []
    index = 0
    for match in java_regex(regex).finditer(text):
        if limit > 0 and len(parts) >= limit - 1:
            break
        if index == 0 and match.start() == 0 and match.end() == 0:
            continue
        parts.append(text[index : match.start()])
        index = match.end()
    if index == 0:
        return [text]
    parts.append(text[index:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def _substring(text: str, start: int, end: int | None = None) -> str:
    stop = len(text) if end is None else end
    if start < 0 or stop > len(text) or start > stop:
        raise EvaluationError(f"begin {start}, end {stop}, length {len(text)}")
    return text[start:stop]


def _index(items: list[Any] | tuple[Any, ...], index: int) -> Any:
    if not 0 <= index < len(items):
        raise EvaluationError(f"Index {index} out of bounds for length {len(items)}")
    return items[index]


def _repeat(text: str, times: int) -> str:
    if len(text) * max(times, 0) > MAX_OUTPUT_CHARS:
        raise SecurityViolation("a value exceeds the output limit")
    return text * times


def _first(items: list[Any] | tuple[Any, ...], last: bool = False) -> Any:
    if not items:
        raise EvaluationError("NoSuchElementException: the list is empty")
    return items[-1] if last else items[0]


_STRING: dict[str, Callable[..., Any]] = {
    "length": len,
    "isEmpty": lambda s: s == "",
    "isBlank": lambda s: s.strip() == "",
    "toUpperCase": str.upper,
    "toLowerCase": str.lower,
    "trim": lambda s: s.strip("".join(chr(c) for c in range(33))),
    "strip": str.strip,
    "contains": lambda s, x: java_str(x) in s,
    "startsWith": lambda s, x: s.startswith(java_str(x)),
    "endsWith": lambda s, x: s.endswith(java_str(x)),
    "indexOf": lambda s, x: s.find(java_str(x)),
    "lastIndexOf": lambda s, x: s.rfind(java_str(x)),
    "substring": _substring,
    "replace": lambda s, a, b: s.replace(java_str(a), java_str(b)),
    "replaceAll": lambda s, a, b: java_regex(a).sub(java_replacement(b), s),
    "replaceFirst": lambda s, a, b: java_regex(a).sub(java_replacement(b), s, count=1),
    "matches": lambda s, a: java_regex(a).fullmatch(s) is not None,
    "split": lambda s, a, limit=0: java_split(s, a, int(limit)),
    "charAt": lambda s, i: _index(s, int(i)),  # type: ignore[arg-type]
    "equalsIgnoreCase": lambda s, x: isinstance(x, str) and s.casefold() == x.casefold(),
    "concat": lambda s, x: s + java_str(x),
    "repeat": lambda s, n: _repeat(s, int(n)),
}
_LIST: dict[str, Callable[..., Any]] = {
    "size": len,
    "isEmpty": lambda items: not items,
    "contains": lambda items, x: x in items,
    "get": lambda items, i: _index(items, int(i)),
    "indexOf": lambda items, x: items.index(x) if x in items else -1,
    "subList": lambda items, a, b: list(items[int(a) : int(b)]),
    "getFirst": _first,
    "getLast": lambda items: _first(items, last=True),
}
_MAP: dict[str, Callable[..., Any]] = {
    "size": len,
    "isEmpty": lambda m: not m,
    "containsKey": lambda m, k: k in m,
    "containsValue": lambda m, v: v in m.values(),
    "get": lambda m, k: m.get(k),
    "getOrDefault": lambda m, k, d: m.get(k, d),
    "keySet": lambda m: list(m),
    "values": lambda m: list(m.values()),
    "entrySet": lambda m: [MapEntry(k, v) for k, v in m.items()],
}
_DATETIME: dict[str, Callable[..., Any]] = {
    "getYear": lambda d: d.year,
    "getMonthValue": lambda d: d.month,
    "getDayOfMonth": lambda d: d.day,
    "getDayOfYear": lambda d: d.timetuple().tm_yday,
    "getDayOfWeek": lambda d: d.strftime("%A").upper(),
    "getMonth": lambda d: d.strftime("%B").upper(),
    "getHour": lambda d: d.hour,
    "getMinute": lambda d: d.minute,
    "getSecond": lambda d: d.second,
    "getNano": lambda d: d.microsecond * 1000,
    "toEpochSecond": lambda d: int(d.timestamp()),
}
_COMMON: dict[str, Callable[..., Any]] = {
    "toString": java_str,
    "equals": lambda a, b: a == b and isinstance(a, bool) == isinstance(b, bool),
}


def _table(obj: Any) -> dict[str, Callable[..., Any]]:
    if isinstance(obj, str):
        return _STRING
    if isinstance(obj, list | tuple):
        return _LIST
    if isinstance(obj, dict):
        return _MAP
    if isinstance(obj, dt.datetime):
        return _DATETIME
    if isinstance(obj, MapEntry):
        return {"getKey": lambda e: e.key, "getValue": lambda e: e.value}
    return {}


def call_method(obj: Any, name: str, args: tuple[Any, ...]) -> Any:
    if name.startswith("_") or name in ("getClass", "class", "wait", "notify", "notifyAll"):
        raise SecurityViolation(f"calling the method '{name}' is not allowed")
    if obj is None:
        raise EvaluationError(f"cannot call '{name}()' on null")
    method = _table(obj).get(name) or _COMMON.get(name)
    if method is None:
        raise EvaluationError(f"the method '{name}' does not exist on this value")
    try:
        return method(obj, *args)
    except TypeError as error:
        raise EvaluationError(f"wrong arguments for '{name}()': {error}") from error


def property_of(obj: Any, name: str) -> tuple[bool, Any]:
    """`x.name` on a non-map: Java bean getter (`getX`, `isX`, `hasX`) or no-arg method."""
    if name in ("class", "getClass"):
        raise SecurityViolation(f"access to attribute '{name}' is not allowed")
    table = _table(obj)
    capitalized = name[:1].upper() + name[1:]
    for candidate in (f"get{capitalized}", f"is{capitalized}", f"has{capitalized}", name):
        method = table.get(candidate)
        if method is not None:
            try:
                return True, method(obj)
            except TypeError:  # the method needs arguments: not a property
                return False, None
    return False, None
