"""A tiny stand-in for `flows.expressions`, so engine tests do not depend on it.

It understands `{{ a.b['c'][d.e] }}` lookups (strict: an unknown name is an error, as in
Pebble), `==` / `!=` between two operands (lookups, quoted strings, integers, true/false)
and `is defined`. Maps and lists print as JSON, booleans as true/false, null as nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from executions.engine.rendering import RenderError

_EXPRESSION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_TOKEN = re.compile(r"\s*(\.[A-Za-z_][\w-]*|\[[^\]]*\])")
_HEAD = re.compile(r"[A-Za-z_][\w]*")


class _Undefined(Exception):
    pass


def _literal(text: str) -> tuple[bool, Any]:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return True, text[1:-1]
    if re.fullmatch(r"-?\d+", text):
        return True, int(text)
    if text in ("true", "false"):
        return True, text == "true"
    if text == "null":
        return True, None
    return False, None


def _lookup(text: str, variables: Mapping[str, Any]) -> Any:
    text = text.strip()
    found, value = _literal(text)
    if found:
        return value
    head = _HEAD.match(text)
    if head is None:
        raise RenderError(f"Unsupported expression `{text}`")
    name = head.group(0)
    if name not in variables:
        raise _Undefined(name)
    node = variables[name]
    rest = text[head.end() :]
    while rest.strip():
        token = _TOKEN.match(rest)
        if token is None:
            raise RenderError(f"Unsupported expression `{text}`")
        part = token.group(1)
        key = part[1:] if part.startswith(".") else _lookup(part[1:-1], variables)
        if not isinstance(node, Mapping) or key not in node:
            raise _Undefined(str(key))
        node = node[key]
        rest = rest[token.end() :]
    return node


def _evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    if expression.endswith(" is defined"):
        try:
            _lookup(expression[: -len(" is defined")], variables)
        except _Undefined:
            return False
        return True
    for operator in ("==", "!="):
        if operator in expression:
            left, right = expression.split(operator, 1)
            equal = _lookup(left, variables) == _lookup(right, variables)
            return equal if operator == "==" else not equal
    return _lookup(expression, variables)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class FakeTemplates:
    def __init__(self, variables: Mapping[str, Any], services: Any = None) -> None:
        self.variables = variables
        self.services = services
        self.secrets_seen: set[str] = set()

    def _eval(self, expression: str, template: str) -> Any:
        try:
            return _evaluate(expression, self.variables)
        except _Undefined as missing:
            raise RenderError(
                f"Unable to find `{missing}` used in the expression `{template}` at line 1"
            ) from None

    def render(self, template: str) -> str:
        return _EXPRESSION.sub(lambda m: _text(self._eval(m.group(1), template)), template)

    def render_typed(self, template: str) -> Any:
        whole = _EXPRESSION.fullmatch(template.strip())
        return self._eval(whole.group(1), template) if whole else self.render(template)

    def render_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.render(value)
        if isinstance(value, Mapping):
            return {self.render(str(k)): self.render_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_value(item) for item in value]
        return value


def fake_renderer(variables: Mapping[str, Any], services: Any = None) -> FakeTemplates:
    return FakeTemplates(variables, services)


class Counter:
    """Deterministic ids: tr-1, tr-2..."""

    def __init__(self, prefix: str = "tr") -> None:
        self.prefix = prefix
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count}"
