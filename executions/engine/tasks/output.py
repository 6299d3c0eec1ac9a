"""`output.OutputValues`: the `values` map, rendered recursively, as the output `values`."""

from __future__ import annotations

from executions.engine.tasks.base import RunnableTask, TaskContext, TaskResult


class OutputValues(RunnableTask):
    type = "io.kestra.plugin.core.output.OutputValues"

    def run(self, ctx: TaskContext) -> TaskResult:
        return TaskResult(outputs={"values": ctx.rendered("values", {})})
