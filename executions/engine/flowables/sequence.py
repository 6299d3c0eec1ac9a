"""Sequential, AllowFailure, Parallel and Dag (§4.2), and ForEachItem's sequence (§4.7)."""

from __future__ import annotations

from executions.engine.flow import TaskSpec
from executions.engine.flowables.base import (
    Child,
    FlowableContext,
    FlowableHandler,
    parallel_nexts,
)


class Sequential(FlowableHandler):
    """Children one after the other, in the order written."""


class ForEachItem(FlowableHandler):
    """Its three internal tasks (`flow.FlowSpec` adds them) one after the other: split the
    file, start one execution per batch, merge the outputs of those executions."""


class AllowFailure(FlowableHandler):
    """A Sequential whose failure ends WARNING (deprecated in 0.20 for `allowFailure`)."""

    def allow_failure(self, task: TaskSpec) -> bool:
        return True


def _concurrent(ctx: FlowableContext, name: str = "concurrent") -> int:
    value = ctx.prop(name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class Parallel(FlowableHandler):
    """Every child at once, at most `concurrent` unfinished (0: no limit)."""

    def nexts(self, ctx: FlowableContext, main: list[Child]) -> list[Child]:
        return parallel_nexts(main, ctx.runs, _concurrent(ctx))


class Dag(FlowableHandler):
    """Children whose `dependsOn` tasks have all ended, at most `concurrent` at once."""

    def nexts(self, ctx: FlowableContext, main: list[Child]) -> list[Child]:
        runs = ctx.runs
        ended = {child.task.id for child in main if runs.done(child)}
        # a dependency on a disabled task counts as met: it never gets a task run
        disabled = {task.id for task in ctx.task.branch("tasks") if task.disabled}
        ready = [
            child
            for child in main
            if all(
                dep in ended or dep in disabled
                for dep in ctx.task.depends_on.get(child.task.id, ())
            )
        ]
        return parallel_nexts(ready, runs, _concurrent(ctx))
