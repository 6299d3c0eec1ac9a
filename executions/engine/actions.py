"""What the decision function asks for: plain frozen dataclasses, applied in order.

The Django side applies a list of actions inside one transaction holding the execution's
row lock and sends the Celery messages they imply after commit (`RunTaskRun` → worker
queue; `ScheduleRetry`, `WakeUp`, `RetryExecution` → a delayed executor message;
`StartSubflow` creates the child execution in that same transaction);
`executions.engine.apply.apply_actions` applies them in memory with the same meaning, for
the in-process runner and the tests. Actions carry no timestamps: the applier stamps every
state change with the `now` the decision was made with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from executions.engine.model import Label, TaskRun
from executions.engine.states import State


@dataclass(frozen=True, slots=True)
class SetExecutionState:
    """Move the execution to `state` (e.g. CREATED → RUNNING, RESTARTED → RUNNING)."""

    state: State


@dataclass(frozen=True, slots=True)
class CreateTaskRuns:
    """Append these new task runs (state CREATED, parent/value/iteration set)."""

    task_runs: tuple[TaskRun, ...]


@dataclass(frozen=True, slots=True)
class SetTaskRunState:
    """Move a task run to `state`; `outputs`/`engine_state`, when given, replace its own."""

    task_run_id: str
    state: State
    outputs: Mapping[str, Any] | None = None
    engine_state: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RunTaskRun:
    """Send the (CREATED) task run to a worker, after commit. The state does not change:
    the worker claims it (CREATED → RUNNING, compare-and-set) with `StartAttempt`."""

    task_run_id: str


@dataclass(frozen=True, slots=True)
class StartAttempt:
    """A worker took the task run: it becomes RUNNING with a new RUNNING attempt."""

    task_run_id: str


@dataclass(frozen=True, slots=True)
class FinishAttempt:
    """A worker's result: the running attempt ends in `state` (SUCCESS, WARNING, FAILED or
    KILLED), the task run's outputs become `outputs` and `labels` are merged into the
    execution's. The task run stays RUNNING: the decision function turns the attempt into
    the task run's state (retry, `allowFailure`, `allowWarning`, `warningOnRetry`)."""

    task_run_id: str
    state: State
    outputs: Mapping[str, Any] | None = None
    labels: tuple[Label, ...] = ()


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    """Retry a FAILED task run at `at` (behavior RETRY_FAILED_TASK): the task run and the
    execution become RETRYING; at `at` the next decision puts the task run back to CREATED
    and sends it again, as a new attempt of the same task run."""

    task_run_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RetryExecution:
    """Behavior CREATE_NEW_EXECUTION (correction 1): the failed task run, its ancestors and
    the execution become RETRIED (terminal); the caller creates, for `at`, the execution
    `model.replay_execution` describes (new id, attempt number + 1), which re-runs the
    whole flow."""

    task_run_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EndExecution:
    """The execution ends in `state`; `outputs` are the rendered flow outputs (or None)."""

    state: State
    outputs: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EmitLog:
    """A log line written by the executor (not by a task), attached to a task run or not."""

    level: str
    message: str
    task_run_id: str | None = None


@dataclass(frozen=True, slots=True)
class WakeUp:
    """Decide again at `at` (a task timeout to enforce, a scheduled start)."""

    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class KillTaskRun:
    """Ask the worker running this task run to stop it (timeout, kill)."""

    task_run_id: str


@dataclass(frozen=True, slots=True)
class AddLabels:
    """Merge `labels` into the execution's (a violated SLA's `labels`)."""

    labels: tuple[Label, ...]


@dataclass(frozen=True, slots=True)
class SlaViolated:
    """The SLA at `position` in the flow's `sla` list was violated: it is not evaluated
    again for this execution (engine bookkeeping, see `engine/sla.py`)."""

    position: int


@dataclass(frozen=True, slots=True)
class StartSubflow:
    """Start a child execution for an executable task run (a Subflow, one batch of a
    ForEachItem), in the transaction that applies this decision. The task run is already
    RUNNING with a running attempt; the platform answers with `subflow_started`
    and, once the child has ended, with `accept_subflow_result`.

    `inputs` and `labels` are rendered in the parent; `labels` are every label the child
    gets from the parent's side (the parent's own, all or only `system.*` ones, then the
    task's); the child flow's labels are added when the child is made. `trigger` is the
    child's Kestra `trigger` (`{id, type, variables: {executionId, namespace, flowId,
    flowRevision}}`), `iteration` the batch number of a ForEachItem (1-based)."""

    task_run_id: str
    namespace: str
    flow_id: str
    revision: int | None
    inputs: Mapping[str, Any]
    labels: tuple[Label, ...]
    trigger: Mapping[str, Any]
    wait: bool = True
    iteration: int | None = None
    schedule_date: datetime | None = None


Action = (
    SetExecutionState
    | CreateTaskRuns
    | SetTaskRunState
    | RunTaskRun
    | StartAttempt
    | FinishAttempt
    | ScheduleRetry
    | RetryExecution
    | EndExecution
    | EmitLog
    | WakeUp
    | KillTaskRun
    | StartSubflow
    | AddLabels
    | SlaViolated
)
