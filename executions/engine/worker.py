"""One attempt of one runnable task run, as a worker performs it (pure logic, ports injected).

`run_attempt` renders what the task needs, enforces its `timeout` (rendered when it is an
expression), turns every way a task can end into an attempt state (an exception's message
is logged at ERROR, as Kestra's worker does; outputs over `sizes.MAX_OUTPUTS` fail the
attempt, whatever the task type) and returns the `FinishAttempt` action to
apply under the execution's lock, with the collected log lines. The caller has claimed the
task run first (`StartAttempt`): `execution` holds the task run RUNNING with its attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from executions.engine.actions import FinishAttempt
from executions.engine.flow import FlowSpec
from executions.engine.model import Execution, Label
from executions.engine.rendering import (
    RendererFactory,
    RenderError,
    Templates,
    expressions_renderer,
)
from executions.engine.sealed_inputs import (
    resumed_secret_texts,
    secret_input_ids,
    secret_texts,
    unsealer,
)
from executions.engine.sizes import check_outputs
from executions.engine.states import State
from executions.engine.tasks import tasks as default_tasks
from executions.engine.tasks.base import (
    Clock,
    KVStore,
    LogLine,
    Storage,
    TaskContext,
    TaskFailed,
    TaskInterrupted,
    TaskLogger,
    TaskResult,
    mask_secrets,
)
from executions.engine.tasks.registry import TaskRegistry
from executions.engine.variables import RunEnvironment, run_variables
from flows.spec.formats import duration_value

_ATTEMPT_ENDS = (State.SUCCESS, State.WARNING, State.FAILED, State.KILLED)


@dataclass(frozen=True)
class AttemptOutcome:
    """`action` to apply (see `commands.accept_result`), for attempt `attempt_number`."""

    action: FinishAttempt
    logs: tuple[LogLine, ...]
    attempt_number: int


def _masker(secrets: Callable[[], set[str]]) -> Callable[[str], str]:
    return lambda text: mask_secrets(text, secrets())


def run_attempt(
    flow: FlowSpec,
    execution: Execution,
    task_run_id: str,
    *,
    clock: Clock,
    sleeper: Callable[[float], None] = time.sleep,
    renderer: RendererFactory | None = None,
    services: Any = None,
    storage: Storage | None = None,
    kv: KVStore | None = None,
    environment: RunEnvironment | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    registry: TaskRegistry | None = None,
    shared_base: Mapping[str, Any] | None = None,
) -> AttemptOutcome:
    """Run the task of `task_run_id` once and say how the attempt ended. `shared_base`:
    the execution's base variables when the caller runs several task runs of `execution`
    (see `run_variables`)."""
    task_run = execution.task_run(task_run_id)
    task = flow.task(task_run.task_id)
    try:
        variables = run_variables(
            flow,
            execution,
            task_run,
            environment,
            unseal=unsealer(services),
            shared_base=shared_base,
        )
    except RenderError as error:  # a SECRET input that cannot be decrypted
        logger = TaskLogger(clock, task_run_id=task_run.id, task_id=task.id)
        logger.error(str(error))
        action = FinishAttempt(task_run.id, State.FAILED, {}, ())
        return AttemptOutcome(action, tuple(logger.lines), len(task_run.attempts))
    templates = (renderer or expressions_renderer)(variables, services)
    input_secrets = secret_texts(variables.get("inputs") or {}, secret_input_ids(flow.inputs))
    if flow.secret_resumes:
        outputs = variables.get("outputs") or {}
        input_secrets |= resumed_secret_texts(outputs, flow.secret_resumes)
    logger = TaskLogger(
        clock,
        _masker(lambda: templates.secrets_seen | input_secrets),
        task_run_id=task_run.id,
        task_id=task.id,
    )
    implementation = (registry or default_tasks).get(task.type)
    outputs: dict[str, Any] = {}
    labels: tuple[Label, ...] = ()
    try:
        if implementation is None:
            raise TaskFailed(f"Task type '{task.type}' cannot run in this engine yet")
        timeout = _timeout(task.timeout, templates)
        ctx = TaskContext(
            task=task,
            task_run=task_run,
            variables=variables,
            templates=templates,
            logger=logger,
            clock=clock,
            sleeper=sleeper,
            storage=storage,
            kv=kv,
            deadline=clock() + timeout if timeout is not None else None,
            timeout=timeout,
            cancelled=cancelled,
        )
        result = implementation.run(ctx)
        ctx.check_interrupted()
        too_large = check_outputs(dict(result.outputs))
        if too_large is not None:
            raise TaskFailed(too_large)
        state = result.state if result.state in _ATTEMPT_ENDS else State.SUCCESS
        outputs, labels = dict(result.outputs), result.labels
    except TaskInterrupted as stop:
        logger.error(str(stop))
        state = stop.state
    except (TaskFailed, RenderError) as error:
        logger.error(str(error))
        state = State.FAILED
    except Exception as error:  # a task's bug fails its attempt, never the worker
        logger.error(f"{type(error).__name__}: {error}")
        state = State.FAILED
    action = FinishAttempt(task_run.id, state, outputs, labels)
    return AttemptOutcome(action, tuple(logger.lines), len(task_run.attempts))


def _timeout(raw: Any, templates: Templates) -> timedelta | None:
    if raw is None:
        return None
    value = templates.render(raw) if isinstance(raw, str) and "{" in raw else raw
    duration = duration_value(value)
    if duration is None:
        raise TaskFailed(f"Invalid timeout '{value}': expected an ISO-8601 duration")
    return duration


__all__ = ["AttemptOutcome", "TaskResult", "run_attempt"]
