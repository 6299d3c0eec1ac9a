"""How values become text, the way Kestra's JVM does it.

Three spellings exist and templates see all of them:

- `output_text`: what `{{ x }}` prints (Kestra's `JsonWriter`): null prints nothing, maps and
  lists print as compact JSON, everything else as Java's `toString()`.
- `java_str`: Java's `toString()`, used by `~` and `join` (`[a, b]`, `{k=v}`, `1.0E7`).
- `to_json` / `to_yaml`: Jackson's output for `toJson` and `yaml` (dates as ISO strings).

Python has one float and one int; the few places where Kestra's Java type shows through
(`className`, the `number` filter) use the marker types `JavaFloat` and `BigInteger`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jinja2.runtime import Undefined

from flows.expressions.errors import EvaluationError, UndefinedError

__all__ = [
    "BigInteger",
    "JavaFloat",
    "MapEntry",
    "class_name",
    "java_double",
    "java_str",
    "output_text",
    "to_json",
    "to_yaml",
]


class JavaFloat(float):
    """A float that Java would hold as `java.lang.Float` (from the `number` filter)."""


class BigInteger(int):
    """An int that Java would hold as `java.math.BigInteger` (from `number('BIGINTEGER')`)."""


class MapEntry:
    """A map entry, what `{% for e in map %}` iterates in Pebble (`e.key`, `e.value`)."""

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MapEntry) and (self.key, self.value) == (other.key, other.value)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"{java_str(self.key)}={java_str(self.value)}"


def java_double(value: float) -> str:
    """`Double.toString`: `1.0`, `0.001`, `1.0E7`, `1.234E-5`, `NaN`, `Infinity`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(float(value))
        if "e" in text:  # repr never does this in this range, but be safe
            text = format(Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(float(value))).as_tuple()
    figures = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    mantissa = figures[0] + "." + (figures[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def _fraction(nanos: int) -> str:
    """Java's toString fraction: 3, 6 or 9 digits, none when zero."""
    if not nanos:
        return ""
    text = f"{nanos:09d}"
    for size in (3, 6):
        if text[size:] == "0" * (9 - size):
            return "." + text[:size]
    return "." + text


def _local_time(value: dt.time | dt.datetime) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}"
    nanos = value.microsecond * 1000
    if value.second or nanos:
        text += f":{value.second:02d}{_fraction(nanos)}"
    return text


def offset_text(offset: dt.timedelta | None) -> str:
    """`ZoneOffset.toString`: `Z`, `+02:00`, `-05:30`, `+01:02:03`."""
    if offset is None:
        return ""
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return "Z"
    sign = "+" if seconds > 0 else "-"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def zone_id(value: dt.datetime) -> str | None:
    """The region id of an aware datetime (`Europe/Paris`), None for fixed offsets."""
    key = getattr(value.tzinfo, "key", None)
    return key if isinstance(key, str) and key not in ("UTC", "Etc/UTC") else None


def _datetime_text(value: dt.datetime) -> str:
    text = f"{value.date().isoformat()}T{_local_time(value)}"
    if value.tzinfo is None:
        return text
    text += offset_text(value.utcoffset())
    region = zone_id(value)
    return text + (f"[{region}]" if region else "")


def _duration_text(value: dt.timedelta) -> str:
    """`Duration.toString`: `PT0S`, `PT5M6S`, `PT24H`, `PT0.5S`."""
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    if micros == 0:
        return "PT0S"
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    text = "PT"
    if hours:
        text += f"{sign}{hours}H"
    if minutes:
        text += f"{sign}{minutes}M"
    if seconds or fraction:
        frac = f".{fraction:06d}".rstrip("0") if fraction else ""
        text += f"{sign}{seconds}{frac}S"
    return text


def java_str(value: Any) -> str:
    """Java's `String.valueOf(value)`."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{java_str(k)}={java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _local_time(value)
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    if isinstance(value, MapEntry):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def output_text(value: Any) -> str:
    """What a `{{ }}` prints: nothing for null, JSON for maps and lists, else `toString()`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple | set | frozenset | Mapping):
        return to_json(value)
    return java_str(value)


# -- JSON, as Jackson writes it (compact, non-ASCII kept, dates as ISO strings)


def iso_offset(value: dt.datetime) -> str:
    """`DateTimeFormatter.ISO_OFFSET_DATE_TIME` (seconds always, minimal fraction)."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + offset_text(value.utcoffset())


def _json_parts(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(java_double(value) if math.isfinite(value) else f'"{java_double(value)}"')
    elif isinstance(value, Decimal):
        out.append(format(value, "f"))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(java_str(key), ensure_ascii=False))
            out.append(":")
            _json_parts(item, out)
        out.append("}")
    elif isinstance(value, list | tuple | set | frozenset):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _json_parts(item, out)
        out.append("]")
    elif isinstance(value, MapEntry):
        _json_parts({value.key: value.value}, out)
    elif isinstance(value, dt.datetime):
        out.append(json.dumps(iso_offset(value) if value.tzinfo else value.isoformat()))
    elif isinstance(value, dt.date | dt.time | dt.timedelta):
        out.append(json.dumps(java_str(value)))
    elif isinstance(value, Undefined):
        raise UndefinedError(value._undefined_message)
    elif isinstance(value, Mapping):
        _json_parts(dict(value), out)
    else:
        raise EvaluationError(f"cannot write a {class_name(value)} as JSON")


def to_json(value: Any) -> str:
    out: list[str] = []
    _json_parts(value, out)
    return "".join(out)


# -- YAML, as Jackson's YAML mapper of the `yaml` filter writes it (minimised quotes, arrays
#    indented by one space, no document marker)

_PLAIN_UNSAFE = re.compile(r"^[-?:,\[\]{}#&*!|>'\"%@`\s]|: |\s#|[\n\r\t]|\s$|:$")
_YAML_KEYWORDS = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO"
    r"|on|On|ON|off|Off|OFF|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
    r"|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        if value and not _PLAIN_UNSAFE.search(value) and not _YAML_KEYWORDS.match(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return iso_offset(value) if value.tzinfo else value.isoformat()
    return java_str(value)


def _yaml_lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{_yaml_scalar(java_str(key))}:"
            if isinstance(item, dict) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent + 2))
            elif isinstance(item, list | tuple) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent))
            else:
                lines.append(f"{head} {_yaml_inline(item)}")
        return lines
    for item in value:  # a sequence: items one space deeper than their parent
        dash = f"{pad} - "
        if isinstance(item, dict | list | tuple) and item:
            # continuation lines align with the text after the dash
            inner = _yaml_lines(item, indent + (3 if isinstance(item, dict) else 2))
            lines.append(dash + inner[0][len(dash) :])
            lines.extend(inner[1:])
        else:
            lines.append(dash + _yaml_inline(item))
    return lines


def _yaml_inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return _yaml_scalar(value)


def to_yaml(value: Any) -> str:
    if isinstance(value, dict | list | tuple) and value:
        return "\n".join(_yaml_lines(value, 0)) + "\n"
    return _yaml_inline(value) + "\n"


# -- Java class names, for the `className` filter


def class_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, BigInteger):
        return "java.math.BigInteger"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    if isinstance(value, JavaFloat):
        return "java.lang.Float"
    names = (
        (float, "java.lang.Double"),
        (Decimal, "java.math.BigDecimal"),
        (str, "java.lang.String"),
        (dict, "java.util.LinkedHashMap"),
        (list | tuple, "java.util.ArrayList"),
        (MapEntry, "java.util.AbstractMap$SimpleEntry"),
        (dt.datetime, "java.time.ZonedDateTime"),
        (dt.date, "java.time.LocalDate"),
        (dt.time, "java.time.LocalTime"),
        (dt.timedelta, "java.time.Duration"),
    )
    for kind, name in names:
        if isinstance(value, kind):
            if name == "java.time.ZonedDateTime" and value.tzinfo is None:
                return "java.time.LocalDateTime"
            return name
    return type(value).__name__
