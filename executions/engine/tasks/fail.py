"""`execution.Fail`: fail always, or only when `condition` renders truthy."""

from __future__ import annotations

from executions.engine.rendering import truthy
from executions.engine.tasks.base import RunnableTask, TaskContext, TaskFailed, TaskResult

DEFAULT_MESSAGE = "Task failure"


class Fail(RunnableTask):
    type = "io.kestra.plugin.core.execution.Fail"

    def run(self, ctx: TaskContext) -> TaskResult:
        message = ctx.templates.render(str(ctx.prop("errorMessage", DEFAULT_MESSAGE)))
        condition = ctx.prop("condition")
        if condition is None:
            raise TaskFailed(message)
        if truthy(ctx.templates.render(str(condition))):
            # Kestra logs the message, then fails with a fixed one
            ctx.logger.error(message)
            raise TaskFailed("Fail on a condition")
        return TaskResult()
