"""`io.kestra.plugin.core.log.Log`: log a rendered message, or each message of a list."""

from __future__ import annotations

from executions.engine.tasks.base import LEVELS, RunnableTask, TaskContext, TaskFailed, TaskResult


def log_messages(ctx: TaskContext, message: object, level: object) -> None:
    level_name = str(level or "INFO").upper()
    if level_name not in LEVELS:
        raise TaskFailed(f"Invalid log level '{level}'")
    if isinstance(message, str):
        messages = [message]
    elif isinstance(message, list):
        messages = [str(item) for item in message]
    else:
        raise TaskFailed(f"Invalid message type '{type(message).__name__}'")
    for item in messages:
        ctx.logger.log(level_name, ctx.templates.render(item))


class Log(RunnableTask):
    type = "io.kestra.plugin.core.log.Log"

    def run(self, ctx: TaskContext) -> TaskResult:
        log_messages(ctx, ctx.prop("message"), ctx.prop("level", "INFO"))
        return TaskResult()
