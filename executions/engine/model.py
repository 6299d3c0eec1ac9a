"""The execution snapshot the engine decides on: frozen dataclasses, Kestra's JSON shape.

Nothing here reads the clock: every date comes from the caller (`now`). Mappings held by
these dataclasses are never mutated by the engine; a change is a new instance.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from executions.engine.states import State, StateHistory

SYSTEM_PREFIX = "system."
CORRELATION_ID = "system.correlationId"

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

IdFactory = Callable[[], str]


def new_id() -> str:
    """A random 22-character base62 id, the shape of Kestra's `IdUtils.create()`."""
    number = int.from_bytes(secrets.token_bytes(16), "big")
    chars = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(reversed(chars))


def iso(date: datetime | None) -> str | None:
    """Kestra's Instant text: UTC with a `Z`."""
    if date is None:
        return None
    if date.tzinfo is not None:
        date = date.astimezone(UTC).replace(tzinfo=None)
    return date.isoformat() + "Z"


def _state_json(state: StateHistory) -> dict[str, Any]:
    return {
        "current": state.current.value,
        "histories": [{"state": h.state.value, "date": iso(h.date)} for h in state.histories],
        "startDate": iso(state.start_date),
        "endDate": iso(state.end_date),
    }


@dataclass(frozen=True, slots=True)
class Label:
    key: str
    value: str

    def to_kestra_json(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a runnable task run: RUNNING when a worker takes it, then its end."""

    state: StateHistory

    def to_kestra_json(self) -> dict[str, Any]:
        return {"state": _state_json(self.state)}


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One run of one task. `value` is the iteration value under ForEach (a string; other
    values JSON-encoded), `iteration` the loop count of WaitFor-like flowables.

    Two fields are engine bookkeeping, absent from Kestra's JSON: `wake_at` (when the
    executor must look at this task run again: a RETRYING run's retry date) and
    `engine_state` (what a flowable computed once when it started, e.g. ForEach values)."""

    id: str
    task_id: str
    state: StateHistory
    parent_task_run_id: str | None = None
    value: str | None = None
    iteration: int | None = None
    attempts: tuple[Attempt, ...] = ()
    outputs: Mapping[str, Any] | None = None
    wake_at: datetime | None = None
    engine_state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def current(self) -> State:
        return self.state.current

    @property
    def last_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def finished_attempts(self) -> int:
        """Attempts that ended (Kestra's `taskrun.attemptsCount` while one runs)."""
        return sum(1 for attempt in self.attempts if attempt.state.current.terminated)

    def to_kestra_json(self, execution: Execution | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "taskId": self.task_id,
            "parentTaskRunId": self.parent_task_run_id,
            "value": self.value,
            "iteration": self.iteration,
            "state": _state_json(self.state),
            "outputs": dict(self.outputs) if self.outputs is not None else None,
            "attempts": [attempt.to_kestra_json() for attempt in self.attempts] or None,
        }
        if execution is not None:
            data.update(
                executionId=execution.id,
                namespace=execution.namespace,
                flowId=execution.flow_id,
                tenantId=execution.tenant_id,
            )
        return data


@dataclass(frozen=True, slots=True)
class Execution:
    """Kestra's execution document. `attempt_number` and `original_created_date` are
    Kestra's `metadata` (retries with `behavior: CREATE_NEW_EXECUTION` count them).
    `sla_violated` is engine bookkeeping, absent from Kestra's JSON: the positions in the
    flow's `sla` list of the SLAs already violated, which are not evaluated again."""

    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: StateHistory
    task_runs: tuple[TaskRun, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] | None = None
    labels: tuple[Label, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    tenant_id: str | None = None
    parent_id: str | None = None
    original_id: str | None = None
    trigger: Mapping[str, Any] | None = None
    attempt_number: int = 1
    original_created_date: datetime | None = None
    schedule_date: datetime | None = None
    sla_violated: frozenset[int] = frozenset()

    @property
    def current(self) -> State:
        return self.state.current

    def task_run(self, task_run_id: str) -> TaskRun:
        for task_run in self.task_runs:
            if task_run.id == task_run_id:
                return task_run
        raise KeyError(f"No task run {task_run_id!r} in execution {self.id!r}")

    def task_runs_of(self, task_id: str) -> list[TaskRun]:
        return [task_run for task_run in self.task_runs if task_run.task_id == task_id]

    def label_map(self) -> dict[str, str]:
        return {label.key: label.value for label in self.labels}

    def to_kestra_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenantId": self.tenant_id,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "flowRevision": self.flow_revision,
            "parentId": self.parent_id,
            "originalId": self.original_id or self.id,
            "state": _state_json(self.state),
            "taskRunList": [task_run.to_kestra_json(self) for task_run in self.task_runs] or None,
            "inputs": dict(self.inputs),
            "outputs": dict(self.outputs) if self.outputs is not None else None,
            "labels": [label.to_kestra_json() for label in self.labels],
            "variables": dict(self.variables) or None,
            "trigger": dict(self.trigger) if self.trigger is not None else None,
            "metadata": {
                "attemptNumber": self.attempt_number,
                "originalCreatedDate": iso(self.original_created_date or self.state.start_date),
            },
            "scheduleDate": iso(self.schedule_date),
            "deleted": False,
        }


def merge_labels(current: Iterable[Label], added: Iterable[Label]) -> tuple[Label, ...]:
    """`current` with `added` on top: a key already present keeps its place, new value."""
    merged: dict[str, str] = {label.key: label.value for label in current}
    for label in added:
        merged[label.key] = label.value
    return tuple(Label(key, value) for key, value in merged.items())


def new_execution(
    *,
    namespace: str,
    flow_id: str,
    flow_revision: int,
    now: datetime,
    execution_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    flow_labels: Iterable[Label] = (),
    labels: Iterable[Label] = (),
    variables: Mapping[str, Any] | None = None,
    tenant_id: str | None = None,
    trigger: Mapping[str, Any] | None = None,
    schedule_date: datetime | None = None,
) -> Execution:
    """Kestra's `Execution.newExecution`: state CREATED; labels are the flow's labels
    without `system.*` plus the caller's, and `system.correlationId` is the execution's
    own id unless the caller passed one."""
    execution_id = execution_id or new_id()
    own = [label for label in flow_labels if not label.key.startswith(SYSTEM_PREFIX)]
    merged = merge_labels(own, labels)
    if not any(label.key == CORRELATION_ID for label in merged):
        merged = (*merged, Label(CORRELATION_ID, execution_id))
    return Execution(
        id=execution_id,
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=flow_revision,
        state=StateHistory.start(now),
        inputs=dict(inputs or {}),
        labels=merged,
        variables=dict(variables or {}),
        tenant_id=tenant_id,
        trigger=trigger,
        original_created_date=now,
        schedule_date=schedule_date,
    )


def replay_execution(
    execution: Execution,
    *,
    now: datetime,
    execution_id: str | None = None,
    schedule_date: datetime | None = None,
) -> Execution:
    """A new execution re-running the whole flow (`ExecutionService.replay` without a task
    run): new id, `parent_id` = the old id, `attempt_number` + 1, `original_created_date`
    kept, state CREATED, no task runs, same inputs and labels (correction 1)."""
    return replace(
        execution,
        id=execution_id or new_id(),
        parent_id=execution.id,
        original_id=execution.original_id or execution.id,
        state=StateHistory.start(now),
        task_runs=(),
        outputs=None,
        attempt_number=execution.attempt_number + 1,
        original_created_date=execution.original_created_date or execution.state.start_date,
        schedule_date=schedule_date,
        sla_violated=frozenset(),
    )
