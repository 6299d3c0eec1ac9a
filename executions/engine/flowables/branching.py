"""If and Switch (§4.3): the branch is chosen once, when the task run starts, and kept in
its outputs (`evaluationResult`; `value`, `defaults`), so it never changes afterwards."""

from __future__ import annotations

from executions.engine.flowables.base import Child, FlowableContext, FlowableHandler, Started, plain
from executions.engine.rendering import truthy


class If(FlowableHandler):
    """`then` when the rendered `condition` is truthy, else `else` (maybe nothing)."""

    def start(self, ctx: FlowableContext) -> Started:
        condition = ctx.prop("condition")
        rendered = ctx.templates.render(str(condition)) if condition is not None else None
        return Started(outputs={"evaluationResult": truthy(rendered)})

    def tasks(self, ctx: FlowableContext) -> list[Child] | None:
        chosen = "then" if ctx.outputs.get("evaluationResult") else "else"
        return plain(ctx.task.branch(chosen))


class Switch(FlowableHandler):
    """The tasks of the case named like the rendered `value`, else `defaults`; no case and
    no `defaults` ends the Switch FAILED (observed in `switch-impossible`)."""

    def start(self, ctx: FlowableContext) -> Started:
        value = ctx.templates.render(str(ctx.prop("value", "")))
        return Started(outputs={"value": value, "defaults": value not in ctx.task.cases})

    def tasks(self, ctx: FlowableContext) -> list[Child] | None:
        value = ctx.outputs.get("value")
        if value in ctx.task.cases:
            return plain(ctx.task.cases[value])
        defaults = ctx.task.branch("defaults")
        return plain(defaults) if defaults else None
