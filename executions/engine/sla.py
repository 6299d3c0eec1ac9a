"""Flow-level SLAs (Kestra 0.20, beta: a flow's `sla` list): what each asks, when it is
violated, and what a violation does to the execution. Pure: the decision function
evaluates EXECUTION_ASSERTION SLAs on every pass; MAX_DURATION deadlines are kept outside
the execution (rows checked by the scheduler process, executions/sla.py, or the in-process
runner's clock), because a busy or dead worker must not delay them.

A violation (Kestra's `ExecutorService#processViolation`) logs "SLA '<id>' violated:
<reason>" at WARN. With `behavior: FAIL` or `CANCEL` the execution and its unfinished task
runs, and only those (correction 9: Kestra 0.20.7 overwrites the last task run whatever its
state), end FAILED or CANCELLED: a running attempt ends KILLED, its worker sees its task run
no longer RUNNING and stops (executions/kill_watch.py). Subflow executions it started go
on: Kestra sends the kill without cascade. Whatever the behavior, the SLA's `labels` are
added. Of several SLAs violated at once only the first acts; all are logged. An SLA is
violated at most once per execution (`Execution.sla_violated`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from executions.engine.actions import (
    Action,
    AddLabels,
    EmitLog,
    FinishAttempt,
    SetExecutionState,
    SetTaskRunState,
    SlaViolated,
)
from executions.engine.inputs.temporal import format_duration
from executions.engine.model import Execution, Label, TaskRun
from executions.engine.rendering import RenderError, truthy
from executions.engine.states import State
from flows.spec import flow_labels
from flows.spec.formats import duration_value

MAX_DURATION = "MAX_DURATION"
EXECUTION_ASSERTION = "EXECUTION_ASSERTION"
_ENDS = {"FAIL": State.FAILED, "CANCEL": State.CANCELLED}


@dataclass(frozen=True, slots=True)
class Sla:
    """One entry of the flow's `sla` list; `position` is its index there (ids need not be
    unique: Kestra's own test flow repeats one)."""

    position: int
    id: str
    type: str
    behavior: str  # FAIL, CANCEL or NONE
    labels: tuple[Label, ...] = ()
    duration: timedelta | None = None  # MAX_DURATION
    assertion: str | None = None  # EXECUTION_ASSERTION

    @property
    def ends_as(self) -> State | None:
        """The state a violation gives the execution (None: it goes on)."""
        return _ENDS.get(self.behavior)


@dataclass(frozen=True, slots=True)
class Violation:
    sla: Sla
    reason: str


def slas_of(data: Any) -> tuple[Sla, ...]:
    """The SLAs of a validated flow's `sla` value (flows/spec/validation.py refuses what
    does not fit; what is left unreadable is skipped rather than guessed)."""
    slas = []
    for position, entry in enumerate(data if isinstance(data, list) else []):
        if not isinstance(entry, Mapping):
            continue
        kind, assertion = entry.get("type"), entry.get("assert")
        duration = duration_value(entry.get("duration")) if kind == MAX_DURATION else None
        if (kind == MAX_DURATION and duration is None) or (
            kind == EXECUTION_ASSERTION and not isinstance(assertion, str)
        ):
            continue
        labels = flow_labels({"labels": entry.get("labels")})
        slas.append(
            Sla(
                position=position,
                id=str(entry.get("id")),
                type=str(kind),
                behavior=str(entry.get("behavior")),
                labels=tuple(Label(item["key"], item["value"]) for item in labels),
                duration=duration,
                assertion=assertion if kind == EXECUTION_ASSERTION else None,
            )
        )
    return tuple(slas)


# --- MAX_DURATION -------------------------------------------------------------------------


def deadlines(slas: Iterable[Sla], execution: Execution) -> list[tuple[Sla, datetime]]:
    """The MAX_DURATION deadlines to watch for a new execution: its start plus the
    duration, the start being its scheduled date when that is later (Kestra watches no
    execution created with a later `scheduleDate`). None for an execution made from another
    one's history (a restart or a replay from a task run): Kestra watches only executions
    that start CREATED."""
    if State.RESTARTED in (entry.state for entry in execution.state.histories):
        return []
    start = execution.state.start_date
    if execution.schedule_date is not None and execution.schedule_date > start:
        start = execution.schedule_date
    return [
        (sla, start + sla.duration)
        for sla in slas
        if sla.type == MAX_DURATION and sla.duration is not None
    ]


def max_duration_violation(sla: Sla, execution: Execution, now: datetime) -> Violation:
    """Kestra's reason, with the time since the execution's start (to the millisecond)."""
    elapsed = now - execution.state.start_date
    elapsed -= timedelta(microseconds=elapsed.microseconds % 1000)
    duration = format_duration(sla.duration or timedelta(0))
    return Violation(
        sla,
        f"execution duration of {format_duration(elapsed)} exceed the maximum duration of "
        f"{duration}.",
    )


# --- EXECUTION_ASSERTION ------------------------------------------------------------------


def assertions_due(slas: Iterable[Sla], execution: Execution) -> list[Sla]:
    """The EXECUTION_ASSERTION SLAs to evaluate on this change of `execution`."""
    return [
        sla
        for sla in slas
        if sla.assertion is not None and sla.position not in execution.sla_violated
    ]


def assertion_violations(
    slas: Iterable[Sla], render: Callable[[str], str]
) -> tuple[list[Violation], list[str]]:
    """Render each assertion: not truthy (Kestra's TruthUtils) is a violation. One that
    cannot render is ignored this time, with Kestra's error line (the second list)."""
    violations, errors = [], []
    for sla in slas:
        try:
            rendered = render(str(sla.assertion))
        except RenderError as error:
            errors.append(f"Ignoring SLA '{sla.id}' because of the error: {error}")
            continue
        if not truthy(rendered):
            violations.append(Violation(sla, f"assertion is false: {sla.assertion}."))
    return violations, errors


# --- what a violation does ----------------------------------------------------------------


def violation_actions(
    violations: list[Violation], execution_state: State, task_runs: Iterable[TaskRun]
) -> list[Action]:
    """What the violations do to an execution in `execution_state` with these task runs:
    every one is logged and remembered, the first acts (its behavior, its labels)."""
    if not violations:
        return []
    actions: list[Action] = []
    for violation in violations:
        message = f"SLA '{violation.sla.id}' violated: {violation.reason}"
        actions += [EmitLog("WARN", message), SlaViolated(violation.sla.position)]
    first = violations[0]
    end = first.sla.ends_as
    if end is not None and not execution_state.terminated and execution_state is not State.KILLING:
        if end is State.FAILED:
            message = f"Execution failed due to SLA '{first.sla.id}' violated: {first.reason}"
            actions.append(EmitLog("ERROR", message))
        actions += _end_unfinished(task_runs, end)
        actions.append(SetExecutionState(end))
    if first.sla.labels:
        actions.append(AddLabels(first.sla.labels))
    return actions


def _end_unfinished(task_runs: Iterable[TaskRun], end: State) -> list[Action]:
    actions: list[Action] = []
    for task_run in list(task_runs):
        if task_run.current.terminated or task_run.current is State.KILLING:
            continue
        last = task_run.last_attempt
        if last is not None and last.state.current is State.RUNNING:
            actions.append(FinishAttempt(task_run.id, State.KILLED, task_run.outputs or {}))
        actions.append(SetTaskRunState(task_run.id, end))
    return actions
