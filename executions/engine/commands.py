"""Commands from outside the decision function, as actions to apply: the user's (kill,
manual pause and resume) and the worker's (claim a task run, report its result).

Each checks the execution's state and raises the API's error when the command does not
apply; the decision function then does the rest on its next pass (a KILLING execution is
KILLED, its created task runs too, its running tasks are asked to stop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from executions.engine.actions import (
    Action,
    FinishAttempt,
    RunTaskRun,
    SetExecutionState,
    SetTaskRunState,
    StartAttempt,
)
from executions.engine.flow import FlowSpec
from executions.engine.flowables import handler_for
from executions.engine.model import Execution, TaskRun
from executions.engine.states import State
from tenants.errors import Conflict, Unprocessable


def kill(execution: Execution) -> list[Action]:
    """Kill: any unfinished execution becomes KILLING (a PAUSED one is resumed so)."""
    if execution.current.terminated:
        raise Conflict(
            f"Execution {execution.id} has already ended ({execution.current.value}): "
            "it cannot be killed"
        )
    return [SetExecutionState(State.KILLING)]


def pause(execution: Execution) -> list[Action]:
    """Manual pause: tasks already sent keep running, nothing new starts until resume."""
    if execution.current is not State.RUNNING:
        raise Unprocessable("The execution is not running")
    return [SetExecutionState(State.PAUSED)]


def first_paused(execution: Execution) -> TaskRun | None:
    """The task run a resume goes on with: the first PAUSED one (Kestra's order)."""
    return next((run for run in execution.task_runs if run.current is State.PAUSED), None)


def resume(
    execution: Execution, flow: FlowSpec | None = None, inputs: Mapping[str, Any] | None = None
) -> list[Action]:
    """Resume a PAUSED execution. A manual pause (no paused task run) just runs again. Else
    the first paused task run goes on as its flowable says (a Pause: RUNNING with its
    `tasks`, SUCCESS without; its `onResume` output holds `inputs`, already typed and
    validated); the execution goes on once no paused task run is left (Kestra's `markAs`:
    RESTARTED after a Pause, so the next pass logs "Flow restarted")."""
    if execution.current is not State.PAUSED:
        raise Conflict(f"Execution {execution.id} is not paused, it is {execution.current.value}")
    paused = first_paused(execution)
    if paused is None:
        return [SetExecutionState(State.RUNNING)]
    task = flow.find(paused.task_id) if flow is not None else None
    handler = handler_for(task.type) if task is not None and task.flowable else None
    if task is None or handler is None:
        raise Conflict(f"Task run {paused.id} ({paused.task_id}) is paused by an unknown task")
    outcome = handler.resumed(task, paused, expired=False, inputs=inputs)
    actions: list[Action] = [
        SetTaskRunState(paused.id, outcome.state, outcome.outputs, outcome.engine_state)
    ]
    if not any(r.current is State.PAUSED and r.id != paused.id for r in execution.task_runs):
        actions.append(SetExecutionState(handler.execution_resumes_as))
    return actions


def claim(execution: Execution, task_run_id: str) -> list[Action]:
    """A worker takes a task run: `StartAttempt` when it is still CREATED, else nothing (a
    duplicate delivery, or a task run killed meanwhile)."""
    task_run = execution.task_run(task_run_id)
    return [StartAttempt(task_run_id)] if task_run.current is State.CREATED else []


def accept_result(execution: Execution, result: FinishAttempt, attempt_number: int) -> list[Action]:
    """A worker's result for attempt `attempt_number` (1-based): applied once, only while
    that attempt is the task run's running one; a duplicate or stale result gives nothing."""
    task_run = execution.task_run(result.task_run_id)
    last = task_run.last_attempt
    if (
        task_run.current is not State.RUNNING
        or last is None
        or len(task_run.attempts) != attempt_number
        or last.state.current is not State.RUNNING
    ):
        return []
    return [result]


def redispatch(execution: Execution, runnable: Callable[[str], bool]) -> list[Action]:
    """`RunTaskRun` again for every CREATED task run whose task `runnable(task_id)` says runs
    on a worker: for a sweeper, when a message may have been lost. Harmless if it was not
    (the worker's claim finds the task run already RUNNING)."""
    return [
        RunTaskRun(task_run.id)
        for task_run in execution.task_runs
        if task_run.current is State.CREATED and runnable(task_run.task_id)
    ]
