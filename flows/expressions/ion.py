"""Amazon Ion text, for `toIon` and `fromIon` (Kestra stores task outputs as Ion).

No Ion library is installed, and only the text form of plain data is needed: structs, lists,
s-expressions (read as lists), strings and long strings, symbols (read as strings), ints,
decimals (read as `Decimal`), floats, timestamps (read as aware datetimes), blobs, clobs,
null and its typed variants, annotations (skipped) and comments. The writer mirrors Jackson's
compact output: `{name:"x",n:1,f:1.5e0}`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from decimal import Decimal
from typing import Any

from flows.expressions.errors import EvaluationError
from flows.expressions.serialize import iso_offset, java_double, java_str

__all__ = ["from_ion", "to_ion"]

_SYMBOL = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_KEYWORDS = {"null", "true", "false", "nan"}


def _symbol(name: str) -> str:
    if _SYMBOL.fullmatch(name) and name not in _KEYWORDS:
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    text = java_double(value)
    return text.replace("E", "e") if "E" in text else text + "e0"


def to_ion(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Decimal):
        text = str(value).replace("E", "d")
        return text if "." in text or "d" in text else text + "d0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_symbol(java_str(k))}:{to_ion(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set):
        return "[" + ",".join(to_ion(v) for v in value) + "]"
    if isinstance(value, dt.datetime):
        kind = "ZonedDateTime" if value.tzinfo else "LocalDateTime"
        text = iso_offset(value) if value.tzinfo else value.isoformat()
        return f'{kind}::"{text}"'
    if isinstance(value, bytes):
        return "{{" + base64.b64encode(value).decode() + "}}"
    return json.dumps(java_str(value), ensure_ascii=False)


# -- reader

_TOKEN = re.compile(
    r"""
    (?P<space>(?:\s+|//[^\n]*|/\*.*?\*/)+)
  | (?P<lob>\{\{.*?\}\})
  | (?P<long>'''(?:[^'\\]|\\.|'(?!''))*''')
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<qsymbol>'(?:[^'\\]|\\.)*')
  | (?P<timestamp>\d{4}(?:-\d{2}(?:-\d{2})?)?T
                   (?:\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?
                 |\d{4}-\d{2}-\d{2}(?![\d.eEd]))
  | (?P<number>[+-]inf
              |-?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eEdD][+-]?\d+)?))
  | (?P<symbol>[A-Za-z_$][A-Za-z0-9_$]*(?:\.[a-z]+)?)
  | (?P<punct>::|[{}\[\](),:])
  | (?P<operator>[!#%&*+\-./;<=>?@^`|~]+)
    """,
    re.S | re.X,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise EvaluationError(f"Invalid ion: unexpected character at offset {position}")
        if match.lastgroup != "space":
            out.append((match.lastgroup or "", match.group()))
        position = match.end()
    return out


_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    "a": "\a",
    "\n": "",
}


def _unquote(text: str, quote: str) -> str:
    body = text[len(quote) : -len(quote)]
    if "\\" not in body:
        return body
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 == len(body):
            out.append(char)
            index += 1
            continue
        escape = body[index + 1]
        if escape in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[escape]
            out.append(chr(int(body[index + 2 : index + 2 + size], 16)))
            index += 2 + size
        else:
            out.append(_ESCAPES.get(escape, escape))
            index += 2
    return "".join(out)


def _number(text: str) -> Any:
    if text in ("+inf", "-inf"):
        return math.inf if text[0] == "+" else -math.inf
    clean = text.replace("_", "")
    if clean.lower().lstrip("-").startswith(("0x", "0b")):
        return int(clean, 0)
    if "e" in clean.lower():
        return float(clean)
    if "." in clean or "d" in clean.lower():
        return Decimal(clean.lower().replace("d", "e"))
    return int(clean)


def _timestamp(text: str) -> dt.datetime | str:
    normalized = text.rstrip("T").replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(normalized if "-" in normalized else normalized + "-01")
    except ValueError:
        return text
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "eof" or (value is not None and token[1] != value):
            raise EvaluationError(f"Invalid ion: expected {value or 'a value'}, got {token[1]!r}")
        self.index += 1
        return token

    def value(self) -> Any:
        kind, text = self.take()
        while kind in ("symbol", "qsymbol") and self.peek()[1] == "::":  # annotations
            self.take("::")
            kind, text = self.take()
        if kind == "punct":
            closing = {"{": "}", "[": "]", "(": ")"}.get(text)
            if closing is None:
                raise EvaluationError(f"Invalid ion: unexpected {text!r}")
            return self.struct() if text == "{" else self.sequence(closing)
        if kind == "string":
            return _unquote(text, '"')
        if kind == "long":
            parts = [_unquote(text, "'''")]
            while self.peek()[0] == "long":
                parts.append(_unquote(self.take()[1], "'''"))
            return "".join(parts)
        if kind == "qsymbol":
            return _unquote(text, "'")
        if kind == "number":
            return _number(text)
        if kind == "timestamp":
            return _timestamp(text)
        if kind == "lob":
            body = text[2:-2].strip()
            return _unquote(body, '"') if body.startswith('"') else base64.b64decode(body)
        if kind == "symbol":
            if text == "null" or text.startswith("null."):
                return None
            return {"true": True, "false": False, "nan": math.nan}.get(text, text)
        return text  # an operator symbol inside an s-expression

    def struct(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while self.peek()[1] != "}":
            kind, name = self.take()
            if kind not in ("symbol", "qsymbol", "string"):
                raise EvaluationError(f"Invalid ion: a field name is expected, got {name!r}")
            key = name if kind == "symbol" else _unquote(name, "'" if kind == "qsymbol" else '"')
            self.take(":")
            result[key] = self.value()
            if self.peek()[1] != "}":
                self.take(",")
        self.take("}")
        return result

    def sequence(self, closing: str) -> list[Any]:
        items: list[Any] = []
        while self.peek()[1] != closing:
            items.append(self.value())
            if closing == "]" and self.peek()[1] != "]":
                self.take(",")
        self.take(closing)
        return items


def from_ion(text: str) -> Any:
    reader = _Reader(text)
    value = reader.value()
    if reader.peek()[0] != "eof":
        raise EvaluationError("Invalid ion: more than one top-level value")
    return value
