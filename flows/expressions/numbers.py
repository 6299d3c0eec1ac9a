"""The `number` filter (commons-lang `NumberUtils`) and `numberFormat` (`java.text.DecimalFormat`).

`number` picks the Java type the way `NumberUtils.createNumber` does: an integer that fits is
an Integer, then a Long, then a BigInteger; a decimal with at most 7 decimals is a Float, with at
most 16 a Double, else a BigDecimal. The type only shows through `className` (via the
`JavaFloat` / `BigInteger` markers of serialize.py).

`numberFormat` reads the DecimalFormat pattern: prefix/suffix text, `#`/`0` digits, `,`
grouping, `.` fraction, `%`/`‰` multipliers, `E0` exponent; rounding is HALF_EVEN as in Java,
on the exact binary value. Symbols are those of Locale.US (Kestra servers run in English).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from flows.expressions.errors import EvaluationError
from flows.expressions.serialize import BigInteger, JavaFloat

__all__ = ["create_number", "format_number"]

_INT32 = range(-(2**31), 2**31)
_INT64 = range(-(2**63), 2**63)
_FLOAT_MAX = 3.4028234663852886e38


def _invalid(text: str) -> EvaluationError:
    return EvaluationError(f"{text} is not a valid number.")


def _as_float(text: str) -> JavaFloat:
    value = float(text)
    if abs(value) > _FLOAT_MAX:
        return JavaFloat("inf" if value > 0 else "-inf")
    return JavaFloat(value)


def _integer(text: str) -> int:
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body[:2].lower() == "0x" or body[:1] == "#":
        return sign * int(body.lstrip("#").removeprefix("0x").removeprefix("0X"), 16)
    if len(body) > 1 and body.startswith("0") and body.isdigit():
        return sign * int(body, 8)
    if not body.isdigit():
        raise ValueError(text)
    return sign * int(body)


def create_number(text: str, kind: str = "") -> Any:
    text = text.strip() if kind else text
    try:
        if kind == "INT":
            value = _integer(text)
            if value not in _INT32:
                raise ValueError(text)
            return value
        if kind == "LONG":
            value = _integer(text.rstrip("lL"))
            if value not in _INT64:
                raise ValueError(text)
            return value
        if kind == "FLOAT":
            return _as_float(text.rstrip("fF"))
        if kind == "DOUBLE":
            return float(text.rstrip("dD"))
        if kind == "BIGDECIMAL":
            return Decimal(text)
        if kind == "BIGINTEGER":
            return BigInteger(_integer(text))
        return _auto(text)
    except (ValueError, InvalidOperation) as error:
        raise _invalid(text) from error


def _auto(text: str) -> Any:
    if not text or text != text.strip():
        raise ValueError(text)
    last = text[-1]
    if last in "lL":
        return _integer(text[:-1])
    if last in "fF":
        return _as_float(text[:-1])
    if last in "dD" and not text.lower().startswith(("0x", "-0x", "#")):
        return float(text[:-1])
    if re.fullmatch(r"[+-]?(0[xX][0-9a-fA-F]+|#[0-9a-fA-F]+|\d+)", text):
        value = _integer(text)
        return value if value in _INT64 else BigInteger(value)
    match = re.fullmatch(r"[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", text)
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(text)
    decimals = len(match.group(2) or "")
    all_zeros = not (match.group(1) + (match.group(2) or "")).strip("0")
    if decimals <= 7:
        single = _as_float(text)
        if abs(single) != float("inf") and (single != 0 or all_zeros):
            return single
    if decimals <= 16:
        double = float(text)
        if abs(double) != float("inf") and (double != 0 or all_zeros):
            return double
    return Decimal(text)


# -- DecimalFormat


def _split_pattern(pattern: str) -> tuple[str, str, str]:
    """prefix, number part, suffix (quotes removed from prefix/suffix)."""
    positive = pattern.split(";", 1)[0]
    match = re.search(r"[#0,.]+(?:E0+)?", positive)
    if match is None:
        raise EvaluationError(f'Malformed pattern "{pattern}"')
    unquote = lambda text: re.sub(r"'(.*?)'", lambda m: m.group(1) or "'", text)  # noqa: E731
    return unquote(positive[: match.start()]), match.group(), unquote(positive[match.end() :])


def _group(digits: str, size: int) -> str:
    if size <= 0 or len(digits) <= size:
        return digits
    head = len(digits) % size or size
    return ",".join(
        [digits[:head]] + [digits[i : i + size] for i in range(head, len(digits), size)]
    )


def format_number(value: Any, pattern: str | None) -> str:
    if pattern is None:
        pattern = "#,##0.###"
    prefix, number, suffix = _split_pattern(pattern)
    mantissa_part, _, exponent_part = number.partition("E")
    integer_part, _, fraction_part = mantissa_part.partition(".")
    grouping = len(integer_part) - integer_part.rindex(",") - 1 if "," in integer_part else 0
    min_int = integer_part.count("0")
    min_frac = fraction_part.count("0")
    max_frac = len(fraction_part)
    if isinstance(value, float) and value != value:
        return "NaN"
    decimal = Decimal(value) if not isinstance(value, Decimal) else value
    if decimal.is_infinite():
        return ("-" if decimal < 0 else "") + prefix + "∞" + suffix
    if "%" in prefix + suffix:
        decimal *= 100
    elif "‰" in prefix + suffix:
        decimal *= 1000
    negative = decimal < 0
    decimal = abs(decimal)
    exponent_text = ""
    if exponent_part:
        exponent = decimal.adjusted() - max(min_int, 1) + 1 if decimal else 0
        decimal = decimal.scaleb(-exponent)
        exponent_text = (
            "E" + ("-" if exponent < 0 else "") + str(abs(exponent)).zfill(len(exponent_part))
        )
    rounded = decimal.quantize(Decimal(1).scaleb(-max_frac), rounding=ROUND_HALF_EVEN)
    whole, _, fraction = f"{rounded:f}".partition(".")
    fraction = fraction.rstrip("0").ljust(min_frac, "0")
    whole = whole.lstrip("0").rjust(min_int, "0")
    if not whole and not fraction:
        whole = "0"
    text = _group(whole, grouping) + ("." + fraction if fraction else "") + exponent_text
    if negative and rounded != 0:
        return "-" + prefix + text + suffix
    return prefix + text + suffix
