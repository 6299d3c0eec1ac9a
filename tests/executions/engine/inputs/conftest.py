"""Fakes for input resolution: a tiny renderer and an in-memory file sink."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pytest

from executions.engine.inputs import resolve_inputs
from executions.engine.rendering import RenderError

_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_COMPARISON = re.compile(r"(inputs(?:\.[\w-]+)+)\s*==\s*'([^']*)'")
_LOOKUP = re.compile(r"inputs(?:\.[\w-]+)+")


def _lookup(path: str, variables: Mapping[str, Any]) -> Any:
    node: Any = variables
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise RenderError(f"Unable to find `{part}` used in the expression `{path}`")
        node = node[part]
    return node


def _evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    if match := _COMPARISON.fullmatch(expression):
        return _lookup(match[1], variables) == match[2]
    if _LOOKUP.fullmatch(expression):
        return _lookup(expression, variables)
    if expression.startswith("[") and expression.endswith("]"):
        return [item.strip().strip("'") for item in expression[1:-1].split(",") if item.strip()]
    if expression == "true":
        return True
    raise RenderError(f"Unknown expression `{expression}`")


def fake_render(template: str, variables: Mapping[str, Any]) -> Any:
    """Pebble in miniature: `{{ inputs.a.b }}`, `{{ inputs.a == 'x' }}`, `{{ ['a', 'b'] }}`,
    `{{ true }}`; a template that is one expression gives a typed value, else text."""
    whole = _EXPRESSION.fullmatch(template.strip())
    if whole:
        return _evaluate(whole[1], variables)
    return _EXPRESSION.sub(lambda m: str(_evaluate(m[1], variables)), template)


@dataclass
class MemorySink:
    """Stores uploads in memory under the execution's inputs folder."""

    namespace_uri: str = "kestra:///company/team/"
    execution_uri: str = "kestra:///company/team/hello/executions/exec1/"
    stored: dict[str, bytes] = field(default_factory=dict)

    def store(self, input_id: str, filename: str, data: bytes | BinaryIO) -> str:
        uri = f"{self.execution_uri}inputs/{input_id}/{filename}"
        self.stored[uri] = data if isinstance(data, bytes) else data.read()
        return uri


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


ABSENT = object()


@pytest.fixture
def one(sink: MemorySink):
    """Resolve a single input `x` of the given definition: `(value, violation message)`."""

    def resolve_one(definition: dict[str, Any], value: Any = ABSENT, **options: Any):
        options.setdefault("files", sink)
        provided = {} if value is ABSENT else {"x": value}
        result = resolve_inputs([{"id": "x", **definition}], provided, **options)
        messages = [violation.message for violation in result.violations]
        assert len(messages) <= 1, messages
        return result.values.get("x"), (messages[0] if messages else None)

    return resolve_one
