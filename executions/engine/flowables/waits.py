"""Pause and WaitFor: the flowables that wait (§4.5, §4.8).

Both wait in the PAUSED state, which also pauses the execution (Kestra's `handlePausedDelay`
and `pauseFlowable`): nothing else starts until the task run goes on. A wait with an end
keeps it in the task run's `engine_state` (`resumeAt`, and `onExpiry`, the state the task
run then takes); the decision function wakes it at that date, a user resumes it earlier.

- Pause: RUNNING → PAUSED as soon as it starts. `delay` (0.20's name; `pauseDuration` is
  read as well) resumes it by itself, `timeout` (without a delay) fails it; neither means it
  waits for a user. Resumed, a Pause without `tasks` is SUCCESS at once, one with `tasks`
  (deprecated in 0.20) runs them as a Sequential; the `onResume` values a user gave become
  its output `onResume`.
- WaitFor: a do-until loop. Its children run one after the other; once all of one loop
  ended SUCCESS (or SKIPPED), the loop count goes up and, unless `checkFrequency`'s
  `maxIterations` or `maxDuration` is reached, the `condition` is rendered with that count:
  not truthy, the WaitFor pauses for `interval` and runs its children again. A maximum
  reached ends it FAILED with `failOnMaxReached`, SUCCESS without; any other end of a loop
  (a failure, a WARNING) ends it as a Sequential would. The children of every loop are
  kept, each with its loop count as `iteration`: only the current loop's decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from executions.engine.flow import PAUSE, TaskSpec
from executions.engine.flowables.base import (
    Child,
    ChildRuns,
    FlowableContext,
    FlowableError,
    FlowableHandler,
    Outcome,
    Started,
    enabled,
    in_errors_branch,
    plain,
    resolve_state,
    sequential_nexts,
)
from executions.engine.model import TaskRun, iso
from executions.engine.rendering import RenderError, truthy
from executions.engine.states import State
from flows.spec.formats import duration_value, is_expression

RESUME_AT = "resumeAt"
ON_EXPIRY = "onExpiry"


def resume_date(task_run: TaskRun) -> datetime | None:
    """When a PAUSED task run goes on by itself; None when only a user resumes it."""
    raw = task_run.engine_state.get(RESUME_AT)
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def on_resume_definitions(task: TaskSpec | None) -> list[Mapping[str, Any]]:
    """The `onResume` input definitions of a Pause (none for any other task)."""
    raw = task.data.get("onResume") if task is not None and task.type == PAUSE else None
    return [item for item in raw if isinstance(item, Mapping)] if isinstance(raw, list) else []


def _waiting(engine_state: Mapping[str, Any], until: datetime, on_expiry: State) -> dict:
    return {**engine_state, RESUME_AT: iso(until), ON_EXPIRY: on_expiry.value}


def _was_paused(task_run: TaskRun) -> bool:
    return task_run.state.count(State.PAUSED) > 0


def _duration(ctx: FlowableContext, raw: Any, name: str) -> timedelta | None:
    """A duration property, rendered when it is an expression (Kestra's `Property`)."""
    if raw is None:
        return None
    value = raw
    if is_expression(raw):
        try:
            value = ctx.templates.render(raw)
        except RenderError as error:
            raise FlowableError(f"Unable to render `{name}`: {error}") from error
        if value == "":
            return None  # rendered to nothing: as if absent (Kestra re-checks for null)
    duration = duration_value(value)
    if duration is None:
        raise FlowableError(f"Invalid `{name}` '{value}': expected an ISO-8601 duration")
    return duration


class Pause(FlowableHandler):
    """Wait for a user, for `delay`, or until `timeout` fails it."""

    execution_resumes_as = State.RESTARTED

    def start(self, ctx: FlowableContext) -> Started:
        delay_name = "pauseDuration" if ctx.prop("pauseDuration") is not None else "delay"
        delay = _duration(ctx, ctx.prop(delay_name), delay_name)
        timeout = _duration(ctx, ctx.task.timeout, "timeout")
        if delay is not None:
            return Started(engine_state={"wait": delay.total_seconds(), ON_EXPIRY: "RUNNING"})
        if timeout is not None:
            return Started(engine_state={"wait": timeout.total_seconds(), ON_EXPIRY: "FAILED"})
        return Started()

    def children_to_create(self, ctx: FlowableContext) -> list[Child]:
        if not _was_paused(ctx.task_run):
            return []
        return super().children_to_create(ctx)

    def state_of(self, ctx: FlowableContext) -> State | Outcome | None:
        if not _was_paused(ctx.task_run):
            if ctx.draft.current is not State.RUNNING:
                return None  # an execution that is ending does not start waiting
            engine_state = dict(ctx.engine_state)
            wait = engine_state.pop("wait", None)
            if isinstance(wait, int | float):
                until = ctx.draft.now + timedelta(seconds=wait)
                expiry = State(engine_state.pop(ON_EXPIRY, "RUNNING"))
                engine_state = _waiting(engine_state, until, expiry)
            return Outcome(State.PAUSED, engine_state=engine_state)
        if not ctx.task.branch("tasks"):
            return State.SUCCESS
        return super().state_of(ctx)

    def resumed(
        self, task: TaskSpec, task_run: TaskRun, *, expired: bool, inputs: Mapping[str, Any] | None
    ) -> Outcome:
        engine_state = {
            k: v for k, v in task_run.engine_state.items() if k not in (RESUME_AT, ON_EXPIRY)
        }
        if expired and task_run.engine_state.get(ON_EXPIRY) == State.FAILED.value:
            return Outcome(State.FAILED, engine_state=engine_state)
        outputs = None
        if task.data.get("onResume") is not None and inputs is not None:
            outputs = {**(task_run.outputs or {}), "onResume": dict(inputs)}
        state = State.RUNNING if task.branch("tasks") else State.SUCCESS
        return Outcome(state, outputs=outputs, engine_state=engine_state)


DEFAULT_MAX_ITERATIONS = 100
DEFAULT_MAX_DURATION = timedelta(hours=1)
DEFAULT_INTERVAL = timedelta(seconds=1)
_LOOP_DONE = (State.SUCCESS, State.SKIPPED)


class WaitFor(FlowableHandler):
    """Run the children again and again until the condition renders truthy."""

    def start(self, ctx: FlowableContext) -> Started:
        return Started(outputs={"iterationCount": 1})

    def iteration(self, ctx: FlowableContext) -> int:
        count = ctx.outputs.get("iterationCount")
        return count if isinstance(count, int) and not isinstance(count, bool) else 1

    def loop_runs(self, ctx: FlowableContext, iteration: int) -> ChildRuns:
        """The task runs of loop `iteration` (earlier loops' are kept, and ignored)."""
        runs = ctx.draft.children_of(ctx.task_run.id)
        return ChildRuns(run for run in runs if (run.iteration or 1) == iteration)

    def tasks(self, ctx: FlowableContext) -> list[Child] | None:
        iteration = self.iteration(ctx)
        return [Child(task, None, iteration) for task in ctx.task.branch("tasks")]

    def errors(self, ctx: FlowableContext) -> list[Child]:
        iteration = self.iteration(ctx)
        return [Child(child.task, None, iteration) for child in enabled(plain(ctx.task.errors))]

    def children_to_create(self, ctx: FlowableContext) -> list[Child]:
        runs = self.loop_runs(ctx, self.iteration(ctx))
        main, errors = enabled(self.tasks(ctx) or []), self.errors(ctx)
        if in_errors_branch(main, errors, runs):
            return sequential_nexts(errors, runs)
        return sequential_nexts(main, runs)

    def state_of(self, ctx: FlowableContext) -> State | Outcome | None:
        iteration = self.iteration(ctx)
        runs = self.loop_runs(ctx, iteration)
        main = enabled(self.tasks(ctx) or [])
        loop_done = bool(main) and all(
            (run := runs.get(child)) is not None and run.current in _LOOP_DONE for child in main
        )
        if loop_done:
            return self.after_loop(ctx, iteration + 1)
        return resolve_state(
            main,
            self.errors(ctx),
            runs,
            allow_failure=ctx.task.allow_failure,
            allow_warning=ctx.task.allow_warning,
        )

    def after_loop(self, ctx: FlowableContext, count: int) -> State | Outcome:
        """Every child of the loop succeeded: stop, or pause before loop `count`."""
        outputs = {**ctx.outputs, "iterationCount": count}
        frequency = self.frequency(ctx)
        reached = self.reached(ctx, count, frequency)
        if reached is None:
            try:
                done = truthy(ctx.templates_with(outputs).render(str(ctx.prop("condition", ""))))
            except RenderError as error:
                raise FlowableError(f"Unable to render the condition: {error}") from error
            if not done and ctx.draft.current is State.RUNNING:
                until = ctx.draft.now + frequency["interval"]
                engine_state = _waiting(ctx.engine_state, until, State.RUNNING)
                return Outcome(State.PAUSED, outputs=outputs, engine_state=engine_state)
            return State.SUCCESS
        if ctx.prop("failOnMaxReached", False) is True:
            raise FlowableError(reached)
        return State.SUCCESS

    def frequency(self, ctx: FlowableContext) -> dict[str, Any]:
        raw = ctx.prop("checkFrequency", {})
        raw = raw if isinstance(raw, Mapping) else {}
        iterations = raw.get("maxIterations")
        return {
            "maxIterations": iterations if isinstance(iterations, int) else DEFAULT_MAX_ITERATIONS,
            "maxDuration": duration_value(raw.get("maxDuration")) or DEFAULT_MAX_DURATION,
            "interval": duration_value(raw.get("interval")) or DEFAULT_INTERVAL,
        }

    def reached(self, ctx: FlowableContext, count: int, frequency: Mapping[str, Any]) -> str | None:
        """Which maximum loop `count` would pass, as the message to log; None if none."""
        if count > frequency["maxIterations"]:
            return f"Max iterations reached ({frequency['maxIterations']})"
        started = ctx.task_run.state.start_date
        if started + frequency["maxDuration"] < ctx.draft.now:
            return f"Max duration reached ({frequency['maxDuration']})"
        return None
