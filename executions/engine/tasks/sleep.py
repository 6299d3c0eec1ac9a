"""`flow.Sleep`: wait for `duration` (ISO-8601, not templated), stopping if killed."""

from __future__ import annotations

from executions.engine.tasks.base import RunnableTask, TaskContext, TaskFailed, TaskResult
from flows.spec.formats import duration_value


class Sleep(RunnableTask):
    type = "io.kestra.plugin.core.flow.Sleep"

    def run(self, ctx: TaskContext) -> TaskResult:
        raw = ctx.prop("duration")
        duration = duration_value(raw)
        if duration is None:
            raise TaskFailed(
                f"Invalid duration '{raw}': expected an ISO-8601 duration such as PT5S"
            )
        ctx.logger.info(f"Waiting for {raw}")
        ctx.sleep(duration.total_seconds())
        return TaskResult()
