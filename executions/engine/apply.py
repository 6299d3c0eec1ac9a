"""Applying actions to an execution in memory, through an indexed working copy.

`Draft` is the decision function's scratchpad as well: it applies each action the moment
it is decided, so later rules of the same pass see its effect, and it keeps the indexes
that make a pass linear (task runs by id, by parent, and the not-yet-terminated ones).
`apply_actions` is the in-memory counterpart of what the Django side does in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from executions.engine.actions import (
    Action,
    AddLabels,
    CreateTaskRuns,
    EndExecution,
    FinishAttempt,
    RetryExecution,
    ScheduleRetry,
    SetExecutionState,
    SetTaskRunState,
    SlaViolated,
    StartAttempt,
)
from executions.engine.model import Attempt, Execution, TaskRun, merge_labels
from executions.engine.states import (
    EXECUTION_TRANSITIONS,
    TASK_RUN_TRANSITIONS,
    TERMINATED,
    InvalidTransition,
    State,
    StateHistory,
)


class Draft:
    """A mutable, indexed copy of an execution; `freeze()` gives the new snapshot."""

    def __init__(self, execution: Execution, now: datetime) -> None:
        self.base = execution
        self.now = now
        self.state = execution.state
        self.labels = execution.labels
        self.outputs = execution.outputs
        self.runs: dict[str, TaskRun] = {}
        self.children: dict[str | None, list[str]] = {}
        self.open: dict[str, None] = {}
        self.version = 0  # bumped whenever outputs, states or labels change
        runs, children, open_ids = self.runs, self.children, self.open
        for task_run in execution.task_runs:  # `_index`, inlined: this loop is the hot one
            runs[task_run.id] = task_run
            siblings = children.get(task_run.parent_task_run_id)
            if siblings is None:
                children[task_run.parent_task_run_id] = [task_run.id]
            else:
                siblings.append(task_run.id)
            if task_run.state.current not in TERMINATED:
                open_ids[task_run.id] = None

    # --- reading -------------------------------------------------------------------
    @property
    def current(self) -> State:
        return self.state.current

    def run(self, task_run_id: str) -> TaskRun:
        return self.runs[task_run_id]

    def children_of(self, parent_id: str | None) -> list[TaskRun]:
        return [self.runs[child_id] for child_id in self.children.get(parent_id, ())]

    def open_runs(self) -> list[TaskRun]:
        return [self.runs[task_run_id] for task_run_id in self.open]

    def all_runs(self) -> Iterator[TaskRun]:
        return iter(self.runs.values())

    def execution_view(self) -> Execution:
        """The execution's metadata with the draft's state, labels and outputs (task runs
        are left out: read them from the draft)."""
        return replace(
            self.base, state=self.state, labels=self.labels, outputs=self.outputs, task_runs=()
        )

    def freeze(self) -> Execution:
        return replace(
            self.base,
            state=self.state,
            labels=self.labels,
            outputs=self.outputs,
            task_runs=tuple(self.runs.values()),
        )

    # --- writing -------------------------------------------------------------------
    def _index(self, task_run: TaskRun) -> None:
        self.runs[task_run.id] = task_run
        self.children.setdefault(task_run.parent_task_run_id, []).append(task_run.id)
        if not task_run.current.terminated:
            self.open[task_run.id] = None

    def _replace(self, task_run: TaskRun) -> None:
        self.runs[task_run.id] = task_run
        if task_run.current.terminated:
            self.open.pop(task_run.id, None)
        else:
            self.open[task_run.id] = None
        self.version += 1

    def _move_run(self, task_run: TaskRun, state: State) -> TaskRun:
        moved = task_run.state.moved_to(state, self.now, TASK_RUN_TRANSITIONS, "task run")
        return replace(task_run, state=moved)

    def _move_execution(self, state: State) -> None:
        self.state = self.state.moved_to(state, self.now, EXECUTION_TRANSITIONS, "execution")
        self.version += 1

    def apply(self, action: Action) -> None:
        handler = _HANDLERS.get(type(action))
        if handler is not None:
            handler(self, action)

    def _set_execution_state(self, action: SetExecutionState) -> None:
        self._move_execution(action.state)

    def _create(self, action: CreateTaskRuns) -> None:
        for task_run in action.task_runs:
            if task_run.id in self.runs:
                raise InvalidTransition(f"Task run {task_run.id} already exists")
            self._index(task_run)
        self.version += 1

    def _set_task_run_state(self, action: SetTaskRunState) -> None:
        task_run = self._move_run(self.runs[action.task_run_id], action.state)
        changes: dict[str, object] = {}
        if action.outputs is not None:
            changes["outputs"] = dict(action.outputs)
        if action.engine_state is not None:
            changes["engine_state"] = dict(action.engine_state)
        if action.state is not State.RETRYING:
            changes["wake_at"] = None
        self._replace(replace(task_run, **changes))  # type: ignore[arg-type]

    def _start_attempt(self, action: StartAttempt) -> None:
        task_run = self.runs[action.task_run_id]
        moved = self._move_run(task_run, State.RUNNING)
        attempt = Attempt(StateHistory.start(self.now, State.RUNNING))
        self._replace(replace(moved, attempts=(*task_run.attempts, attempt)))

    def _finish_attempt(self, action: FinishAttempt) -> None:
        task_run = self.runs[action.task_run_id]
        last = task_run.last_attempt
        if last is None or last.state.current is not State.RUNNING:
            raise InvalidTransition(f"Task run {task_run.id} has no running attempt to finish")
        ended = Attempt(last.state.moved_to(action.state, self.now, TASK_RUN_TRANSITIONS))
        outputs = dict(action.outputs) if action.outputs is not None else {}
        self._replace(replace(task_run, attempts=(*task_run.attempts[:-1], ended), outputs=outputs))
        if action.labels:
            self.labels = merge_labels(self.labels, action.labels)

    def _schedule_retry(self, action: ScheduleRetry) -> None:
        task_run = self._move_run(self.runs[action.task_run_id], State.RETRYING)
        self._replace(replace(task_run, wake_at=action.at))
        if self.current is State.RUNNING:
            self._move_execution(State.RETRYING)

    def _retry_execution(self, action: RetryExecution) -> None:
        task_run: TaskRun | None = self.runs[action.task_run_id]
        while task_run is not None:
            self._replace(self._move_run(task_run, State.RETRIED))
            parent_id = task_run.parent_task_run_id
            task_run = self.runs.get(parent_id) if parent_id is not None else None
        self._move_execution(State.RETRIED)

    def _end(self, action: EndExecution) -> None:
        self._move_execution(action.state)
        if action.outputs is not None:
            self.outputs = dict(action.outputs)

    def _add_labels(self, action: AddLabels) -> None:
        self.labels = merge_labels(self.labels, action.labels)
        self.version += 1

    def _sla_violated(self, action: SlaViolated) -> None:
        violated = self.base.sla_violated | {action.position}
        self.base = replace(self.base, sla_violated=violated)


_HANDLERS = {
    SetExecutionState: Draft._set_execution_state,
    CreateTaskRuns: Draft._create,
    SetTaskRunState: Draft._set_task_run_state,
    StartAttempt: Draft._start_attempt,
    FinishAttempt: Draft._finish_attempt,
    ScheduleRetry: Draft._schedule_retry,
    RetryExecution: Draft._retry_execution,
    EndExecution: Draft._end,
    AddLabels: Draft._add_labels,
    SlaViolated: Draft._sla_violated,
}


def apply_actions(execution: Execution, actions: Iterable[Action], now: datetime) -> Execution:
    """The execution after `actions`, every state change dated `now`."""
    draft = Draft(execution, now)
    for action in actions:
        draft.apply(action)
    return draft.freeze()
