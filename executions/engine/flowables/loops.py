"""ForEach and the deprecated EachSequential / EachParallel (§4.4).

The values are rendered and checked once, when the task run starts, and kept in its
`engine_state`; each child task run carries its value as a string (other values
JSON-encoded, as Jackson writes them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from executions.engine.flowables.base import (
    Child,
    FlowableContext,
    FlowableError,
    FlowableHandler,
    Started,
    grouped_nexts,
    parallel_nexts,
)
from executions.engine.rendering import RenderError


def java_text(value: Any) -> str:
    """How Java's `toString` prints a parsed JSON value (for Kestra's error messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_text(v) for v in value) + "]"
    return str(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render_values(ctx: FlowableContext, raw: Any) -> list[str]:
    """Kestra's `FlowableUtils.resolveEachTasks`: a string is rendered then parsed as a JSON
    array; a YAML list has its strings and maps rendered (integers, and per correction 13
    booleans and floats, become their text). Values are de-duplicated; a null fails."""
    if isinstance(raw, str):
        rendered = ctx.templates.render(raw)
        try:
            values = json.loads(rendered)
        except ValueError as error:
            raise FlowableError(f"Unable to parse the values as a JSON array: {error}") from error
        if not isinstance(values, list):
            raise FlowableError(f"The values must be a JSON array, got: {rendered}")
    elif isinstance(raw, list):
        values = [_render_item(ctx, item) for item in raw]
    else:
        raise FlowableError(f"Unknown value type: {type(raw).__name__}")
    distinct: dict[str, Any] = {}
    for value in values:
        distinct.setdefault(_json_text(value), value)
    nulls = sum(1 for value in distinct.values() if value is None)
    if nulls:
        raise FlowableError(f"Found '{nulls}' null values on Each, with values={java_text(values)}")
    return [value if isinstance(value, str) else _json_text(value) for value in distinct.values()]


def _render_item(ctx: FlowableContext, item: Any) -> Any:
    if isinstance(item, str):
        return ctx.templates.render(item)
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return ctx.templates.render(str(item))
    if isinstance(item, Mapping):
        return ctx.templates.render_value(dict(item))
    if item is None:
        return None
    raise FlowableError(f"Unknown value element type: {type(item).__name__}")


# A loop decides on every step of its execution: its children (one per value and task, a
# thousand and more) are listed once per loop task run and reused while its values and
# task (the same spec object: specs are cached per revision) are the same.
_CHILDREN: dict[tuple[str, str], tuple[list[Any], Any, tuple[Child, ...]]] = {}
_CHILDREN_KEPT = 64


class ForEach(FlowableHandler):
    """Each child once per value; `concurrencyLimit` values at once (default 1, 0 = all)."""

    values_property = "values"

    def start(self, ctx: FlowableContext) -> Started:
        try:
            values = render_values(ctx, ctx.prop(self.values_property))
        except RenderError as error:
            raise FlowableError(str(error)) from error
        return Started(engine_state={"values": values})

    def tasks(self, ctx: FlowableContext) -> list[Child] | None:
        values = ctx.engine_state.get("values") or []
        tasks = ctx.task.branch("tasks")
        key = (ctx.task_run.id, ctx.task.id)
        known = _CHILDREN.get(key)
        if known is not None and known[1] is ctx.task and known[0] == values:
            return list(known[2])
        children = [Child(task, value) for value in values for task in tasks]
        if len(_CHILDREN) >= _CHILDREN_KEPT:
            _CHILDREN.pop(next(iter(_CHILDREN)))
        _CHILDREN[key] = (list(values), ctx.task, tuple(children))
        return children

    def limit(self, ctx: FlowableContext) -> int:
        value = ctx.prop("concurrencyLimit", 1)
        return value if isinstance(value, int) and not isinstance(value, bool) else 1

    def nexts(self, ctx: FlowableContext, main: list[Child]) -> list[Child]:
        return grouped_nexts(main, ctx.runs, self.limit(ctx))


class EachSequential(ForEach):
    """Deprecated: a ForEach over `value`, one value at a time."""

    values_property = "value"

    def limit(self, ctx: FlowableContext) -> int:
        return 1


class EachParallel(ForEach):
    """Deprecated: every value, and every child of a value, at once (`concurrent`)."""

    values_property = "value"

    def nexts(self, ctx: FlowableContext, main: list[Child]) -> list[Child]:
        concurrent = ctx.prop("concurrent", 0)
        return parallel_nexts(main, ctx.runs, concurrent if isinstance(concurrent, int) else 0)
