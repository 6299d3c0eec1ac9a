"""`debug.Return` (render `format` into the output `value`) and the deprecated `debug.Echo`."""

from __future__ import annotations

from executions.engine.tasks.base import RunnableTask, TaskContext, TaskResult
from executions.engine.tasks.log import log_messages


class Return(RunnableTask):
    type = "io.kestra.plugin.core.debug.Return"

    def run(self, ctx: TaskContext) -> TaskResult:
        template = ctx.prop("format")
        value = ctx.templates.render(str(template)) if template is not None else None
        ctx.logger.debug(value)
        return TaskResult(outputs={"value": value})


class Echo(RunnableTask):
    type = "io.kestra.plugin.core.debug.Echo"

    def run(self, ctx: TaskContext) -> TaskResult:
        log_messages(ctx, ctx.prop("format", ""), ctx.prop("level", "INFO"))
        return TaskResult()
