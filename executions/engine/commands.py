"""Commands from outside the decision function, as actions to apply: the user's (kill,
manual pause and resume) and the worker's (claim a task run, report its result).

Each checks the execution's state and raises the API's error when the command does not
apply; the decision function then does the rest on its next pass (a KILLING execution is
KILLED, its created task runs too, its running tasks are asked to stop).
"""

from __future__ import annotations

from collections.abc import Callable

from executions.engine.actions import (
    Action,
    FinishAttempt,
    RunTaskRun,
    SetExecutionState,
    StartAttempt,
)
from executions.engine.model import Execution
from executions.engine.states import State
from tenants.errors import Conflict, Unprocessable


def kill(execution: Execution) -> list[Action]:
    """Kill: any unfinished execution becomes KILLING (a PAUSED one is resumed so)."""
    if execution.current.terminated:
        raise Conflict(f"Execution {execution.id} is already terminated")
    return [SetExecutionState(State.KILLING)]


def pause(execution: Execution) -> list[Action]:
    """Manual pause: tasks already sent keep running, nothing new starts until resume."""
    if execution.current is not State.RUNNING:
        raise Unprocessable("The execution is not running")
    return [SetExecutionState(State.PAUSED)]


def resume(execution: Execution) -> list[Action]:
    """Resume a manually paused execution (one with no paused task run)."""
    if execution.current is not State.PAUSED:
        raise Conflict(f"Execution {execution.id} is not paused")
    if any(task_run.current is State.PAUSED for task_run in execution.task_runs):
        raise Conflict("Resuming a paused task is not supported by this engine yet")
    return [SetExecutionState(State.RUNNING)]


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
