"""The Jinja environment that runs Kestra's expression language, and its compile cache.

`KestraEnvironment` is an `ImmutableSandboxedEnvironment` (lists and maps of the variables
cannot be modified, unsafe callables cannot be called) with Pebble's lexer and parser plugged
in. The compiled code calls `helpers.py` for every Pebble operation, and attribute access goes
through `runtime.get_attribute`, never Python's `getattr` on arbitrary objects: maps give
keys, lists give indexes, a few emulated Java properties exist, and everything else (dunders
included) is refused.

Templates are compiled once and kept in an LRU cache keyed by their source (1000 entries,
Kestra's default cache size); a cached render of `{{ inputs.x }}` costs a few microseconds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Template, nodes
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flows.expressions import helpers, lexer, runtime, state
from flows.expressions.errors import EvaluationError, SecurityViolation, UndefinedError
from flows.expressions.parser import PebbleParser, _const, _context, _helper
from flows.expressions.registry import FILTERS, bind
from flows.expressions.serialize import output_text

__all__ = ["ENVIRONMENT", "KestraEnvironment", "has_tags"]

_HELPERS = helpers  # compiled templates import it; loading it fills the filter tables

CACHE_SIZE = 1000
_TYPED_RESULT = "\ue002result"


def has_tags(text: str) -> bool:
    """Whether `text` holds any Pebble syntax at all (else it renders to itself)."""
    return "{" in text and ("{{" in text or "{%" in text or "{#" in text)


def _finalize(value: Any) -> str:
    if isinstance(value, Undefined):
        raise UndefinedError(value._undefined_message, value._undefined_name or "")
    return state.check_size(output_text(value))


def _block_filter(name: str) -> Callable[..., Any]:
    """A filter in Jinja's calling convention, for `{% filter name %}` blocks."""

    def apply(value: Any, *args: Any, **kwargs: Any) -> Any:
        spec = FILTERS.get(name)
        if spec is None:
            raise EvaluationError(f"Filter [{name}] does not exist.")
        return output_text(spec.fn(value, bind(spec.names, args, kwargs)))

    return apply


class KestraEnvironment(ImmutableSandboxedEnvironment):
    def __init__(self) -> None:
        super().__init__(
            undefined=runtime.Missing,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=_finalize,
            cache_size=0,
            auto_reload=False,
        )
        self.globals.clear()  # no Jinja range/dict/cycler/joiner/lipsum/namespace
        self.tests.clear()
        self.filters = {name: _block_filter(name) for name in FILTERS}
        self._lexer = lexer.PebbleLexer(self)
        self._cache: OrderedDict[tuple[str, bool], Template | None] = OrderedDict()
        self._lock = threading.Lock()

    # -- Jinja hooks

    @property
    def lexer(self) -> lexer.PebbleLexer:  # type: ignore[override]
        return self._lexer

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return PebbleParser(self, source, name, filename).parse()

    def getattr(self, obj: Any, attribute: str) -> Any:
        return runtime.get_attribute(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return runtime.get_attribute(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(__obj, "pb_helper", False):  # our own helpers: skip the generic checks
            kwargs.pop("_loop_vars", None)  # Jinja's bookkeeping, as Context.call drops it
            kwargs.pop("_block_vars", None)
            return __obj(*args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    # -- compiling

    def template(self, source: str, typed: bool = False) -> Template | None:
        """The compiled template (typed: the single expression, or None if not one)."""
        key = (source, typed)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        compiled = self._compile_typed(source) if typed else self.from_string(source)
        with self._lock:
            self._cache[key] = compiled
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return compiled

    def _compile_typed(self, source: str) -> Template | None:
        tree = self._parse(source, None, None)
        body = tree.body
        if len(body) != 1 or not isinstance(body[0], nodes.Output):
            return None
        parts = [
            n
            for n in body[0].nodes
            if not (isinstance(n, nodes.TemplateData) and not n.data.strip())
        ]
        if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
            return None
        store = _helper("pb_set", _context(), _const(_TYPED_RESULT), parts[0], lineno=1)
        typed = nodes.Template([nodes.ExprStmt(store, lineno=1)], lineno=1)
        typed.set_environment(self)
        return self.template_class.from_code(self, self.compile(typed), self.globals, None)

    # -- running

    def run(self, template: Template, variables: Mapping[str, Any]) -> str:
        context = template.new_context(variables, shared=True)  # type: ignore[arg-type]
        parts: list[str] = []
        size = 0
        for chunk in template.root_render_func(context):
            size += len(chunk)
            if size > state.MAX_OUTPUT_CHARS:
                raise SecurityViolation(
                    f"the rendered text exceeds the {state.MAX_OUTPUT_CHARS // 1024} KiB limit"
                )
            parts.append(chunk)
        return "".join(parts)

    def run_typed(self, template: Template, variables: Mapping[str, Any]) -> Any:
        context = template.new_context(variables, shared=True)  # type: ignore[arg-type]
        for _ in template.root_render_func(context):
            pass
        return context.vars.get(_TYPED_RESULT)

    def render_once(self, source: str, variables: Mapping[str, Any]) -> str:
        protected, blocks = lexer.protect_raw(source)
        compiled = self.template(protected)
        assert compiled is not None
        return lexer.restore_raw(self.run(compiled, variables), blocks)

    def render_text(self, source: str, variables: Mapping[str, Any], recursive: bool) -> str:
        """Kestra's VariableRenderer.render(String): one pass, or until stable (max 100)."""
        if not has_tags(source):
            return source
        current = state.current()
        if current.depth >= state.MAX_RENDER_DEPTH:
            raise EvaluationError("Too many rendering attempts")
        current.depth += 1
        try:
            result = self.render_once(source, variables)
            passes = 0
            while recursive and result != source and has_tags(result):
                passes += 1
                if passes > state.MAX_RENDER_DEPTH:
                    raise EvaluationError("Too many rendering attempts")
                source, result = result, self.render_once(result, variables)
        finally:
            current.depth -= 1
        return lexer.strip_raw(result)

    def render_object(self, value: Any, variables: Mapping[str, Any], recursive: bool) -> Any:
        """Kestra's renderObject: strings rendered, maps (keys too) and lists walked."""
        if isinstance(value, str):
            return self.render_text(value, variables, recursive)
        if isinstance(value, dict):
            rendered: dict[Any, Any] = {}
            for key, item in value.items():
                new_key = (
                    self.render_text(key, variables, recursive) if isinstance(key, str) else key
                )
                rendered.setdefault(new_key, self.render_object(item, variables, recursive))
            return rendered
        if isinstance(value, list | tuple | set):
            return [self.render_object(item, variables, recursive) for item in value]
        return value


ENVIRONMENT = KestraEnvironment()
