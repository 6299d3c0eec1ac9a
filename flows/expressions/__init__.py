"""Kestra 0.20's `{{ }}` expression language (Pebble 3.2.2 + Kestra's extensions), in Python.

The engine calls `render`, `render_value`, `render_typed`, `truthy` and `mask_secrets`; nothing
else here is public. Pure Python: no Django, no database.

How it is built
---------------
Templates run on `jinja2.sandbox.ImmutableSandboxedEnvironment`, with Pebble's syntax and
semantics plugged into Jinja's three stages instead of translating template text:

1. `lexer.PebbleLexer` (a Jinja `Lexer`) adds the tokens `?`, `??`, `???`, `..`, keeps Pebble's
   string literals (only the quote is un-escaped, `"#{…}"` interpolates) and carriage returns.
2. `parser.PebbleParser` (a Jinja `Parser`) parses expressions with Pebble's precedence
   climbing (ternary, `contains`, `is [not] test`, `~`, inclusive `..`, `??`/`???`, filters
   whose arguments are optional), and Pebble's statements (`if`/`elseif`/`else`,
   `for … else`, `set`, `macro`, `filter`; Kestra's disabled tags are unknown tags). It
   emits ordinary Jinja nodes: every Pebble operation becomes a `Call` of a function of
   `helpers.py` (brought into the compiled module with `nodes.ImportedName`), so Jinja's own
   code generator and optimizer are used unchanged.
3. The helpers implement the semantics in `runtime.py` (Java arithmetic and comparisons,
   Pebble truthiness, strict attribute access), `filters.py` / `kestra_filters.py`,
   `functions.py`, `dates.py` (Java date patterns), `numbers.py`, `ion.py`, `methods.py`.

Strictness is Kestra's (`strictVariables(true)`): an unknown variable, map key or list index
is an error naming it. Pebble throws and lets `??`, `???`, `is defined` and `| default` catch
the exception; here the unknown value travels as a `runtime.Missing` through the operations
of the expression to one of those four operators, or to a sink (printing, `if`, `for`, `set`,
`and`/`or`), which raises. `??`'s right side is only evaluated when needed, its left side
once.

Rendering (Kestra's VariableRenderer)
-------------------------------------
- A string without `{{`, `{%` or `{#` is returned as is, without parsing.
- Output: null prints nothing, booleans `true`/`false`, maps and lists compact JSON, numbers
  as Java prints them (`1.0E7`), anything else its Java `toString()`.
- One pass only (`kestra.variables.recursive-rendering` is false by default): a variable
  whose value holds `{{ }}` prints that text; `render(x)` renders it (recursively, at most 100
  passes), `renderOnce(x)` once. `{% raw %}…{% endraw %}` comes out literally.
- `render_value` renders every string of a map or list, map keys included, as Kestra's
  `render(Map)` does; errors name the property path.
- Where Kestra keeps types (`renderTyped`: `kv.Set.value`, an input's `dependsOn.condition` and
  `expression`), `render_typed` returns the native value of a template that is exactly one
  `{{ expr }}`; any other template renders to a string. Everything else in Kestra (ForEach
  `values`, Return `format`, OutputValues `values`, `runIf`…) is rendered to a string.

Limits (the sandbox): no attribute starting with `_`, no Python method, no reflection; at most
1 MiB of text per render or per value built, 100,000 items per range or jq result, 1,000,000
loop turns per render, 100 nested renders. jq programs and regular expressions run without a
time limit (the worker's task time limit is the backstop).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError

from flows.expressions import lexer, state
from flows.expressions.environment import ENVIRONMENT, has_tags
from flows.expressions.errors import EvaluationError, ExpressionError, UndefinedError
from flows.expressions.masking import mask_secrets
from flows.expressions.truth import truthy

__all__ = [
    "ExpressionError",
    "ExpressionServices",
    "RenderContext",
    "mask_secrets",
    "render",
    "render_typed",
    "render_value",
    "truthy",
]


class ExpressionServices(Protocol):
    """What the storage-backed functions need; the engine provides one per task run.

    `file_exists` is part of the protocol for the engine's own use; the `fileExists()` and
    `isFileEmpty()` functions came after Kestra 0.20 and are not offered to templates.
    """

    def kv(self, namespace: str, key: str, error_on_missing: bool) -> Any: ...

    def secret(self, namespace: str, key: str) -> str | None: ...

    def read(self, uri_or_path: str) -> str: ...

    def file_size(self, uri: str) -> int: ...

    def file_exists(self, uri: str) -> bool: ...

    def error_logs(self) -> list[dict[str, Any]]: ...


@dataclass
class RenderContext:
    """The variables of one render, the services behind kv()/secret()/read()…, and the set
    that collects every value secret() revealed (for `mask_secrets`)."""

    variables: Mapping[str, Any]
    services: ExpressionServices | None = None
    secrets_seen: set[str] = field(default_factory=set)


@contextmanager
def _session(ctx: RenderContext) -> Iterator[state.RenderState]:
    render_state = state.RenderState(ctx.variables, ctx.services, ctx.secrets_seen)
    with state.entered(render_state):
        yield render_state


def _line(error: BaseException) -> int | None:
    line = getattr(error, "lineno", None)
    trace = error.__traceback__
    while trace is not None:
        template = trace.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(trace.tb_lineno)
        trace = trace.tb_next
    return line


def _problem(error: BaseException) -> str:
    if isinstance(error, TemplateSyntaxError):
        return f"syntax error: {error.message}"
    if isinstance(error, UndefinedError | EvaluationError):
        return str(error)
    if isinstance(error, SecurityError):
        return f"{error} (not allowed)"
    if isinstance(error, RecursionError):
        return "too much recursion"
    if isinstance(error, TemplateError):
        return error.message or type(error).__name__
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _fail(template: str, error: Exception) -> ExpressionError:
    if isinstance(error, ExpressionError):
        return error
    failure = ExpressionError(template, _problem(error), line=_line(error))
    failure.__cause__ = error
    return failure


def render(template: str, ctx: RenderContext) -> str:
    """Render one template to text (Kestra's `VariableRenderer.render`)."""
    if not isinstance(template, str) or not has_tags(template):
        return template
    try:
        with _session(ctx):
            return ENVIRONMENT.render_text(template, ctx.variables, recursive=False)
    except Exception as error:
        raise _fail(template, error) from error


def render_typed(template: str, ctx: RenderContext) -> Any:
    """The native value of a template that is exactly one `{{ expr }}`, else its text."""
    if not isinstance(template, str) or not has_tags(template):
        return template
    try:
        with _session(ctx):
            protected, blocks = lexer.protect_raw(template)
            compiled = None if blocks else ENVIRONMENT.template(protected, typed=True)
            if compiled is None:
                return ENVIRONMENT.render_text(template, ctx.variables, recursive=False)
            value = ENVIRONMENT.run_typed(compiled, ctx.variables)
            return lexer.strip_raw(value) if isinstance(value, str) else value
    except Exception as error:
        raise _fail(template, error) from error


def _child(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def render_value(value: Any, ctx: RenderContext, path: str = "") -> Any:
    """Render every string inside `value` (map keys too); errors name the property path."""
    if isinstance(value, str):
        try:
            return render(value, ctx)
        except ExpressionError as error:
            raise error.at_path(path) from error.__cause__
    if isinstance(value, Mapping):
        rendered: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = render_value(key, ctx, _child(path, key)) if isinstance(key, str) else key
            rendered.setdefault(new_key, render_value(item, ctx, _child(path, key)))
        return rendered
    if isinstance(value, list | tuple):
        return [render_value(item, ctx, f"{path}[{index}]") for index, item in enumerate(value)]
    return value
