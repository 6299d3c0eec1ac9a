"""The engine's port to the expression language (Pebble on Jinja2, `flows.expressions`).

The engine never imports `flows.expressions` at module level: it receives a
`RendererFactory`, `(variables, services) -> Templates`, and the default one imports the
real renderer lazily. Tests pass a tiny fake. Every rendering error reaches the engine as
`RenderError`, whose message is the one to log (Kestra logs the Pebble message as is).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol


class RenderError(Exception):
    """A template could not be rendered (undefined variable, syntax, a failing function)."""


class Templates(Protocol):
    """Rendering bound to one set of run variables."""

    secrets_seen: set[str]

    def render(self, template: str) -> str: ...

    def render_value(self, value: Any) -> Any: ...

    def render_typed(self, template: str) -> Any: ...


RendererFactory = Callable[[Mapping[str, Any], Any], Templates]

_FALSY = (None, "", "false", "0", "-0")


def truthy(rendered: Any) -> bool:
    """Kestra's `TruthUtils`: false only for null, "", "false", "0" and "-0" (exactly)."""
    if isinstance(rendered, bool):
        return rendered
    return rendered not in _FALSY


class _ExpressionTemplates:
    """`Templates` over `flows.expressions`, translating its error into `RenderError`."""

    def __init__(self, variables: Mapping[str, Any], services: Any) -> None:
        self._module = importlib.import_module("flows.expressions")
        self._context = self._module.RenderContext(variables, services=services)

    @property
    def secrets_seen(self) -> set[str]:
        return set(getattr(self._context, "secrets_seen", set()))

    def _call(self, name: str, value: Any) -> Any:
        try:
            return getattr(self._module, name)(value, self._context)
        except self._module.ExpressionError as error:
            raise RenderError(str(error)) from error

    def render(self, template: str) -> str:
        return self._call("render", template)

    def render_value(self, value: Any) -> Any:
        return self._call("render_value", value)

    def render_typed(self, template: str) -> Any:
        return self._call("render_typed", template)


def expressions_renderer(variables: Mapping[str, Any], services: Any = None) -> Templates:
    """The default factory: the real Pebble-compatible renderer, imported on first use."""
    return _ExpressionTemplates(variables, services)
