"""Restart, replay and a task run's change of state, as pure functions over a snapshot
(Kestra 0.20's `ExecutionService.restart`, `replay` and `markAs`).

Each returns the execution to store: the same one (restart, change of state) or a new one
(replay, restart on another revision), in state RESTARTED with the task runs to run again
reset to RESTARTED. The decision function does the rest on its next pass: RESTARTED becomes
RUNNING ("Flow restarted"), a restarted runnable task run goes back to a worker as a new
attempt of the same task run, a restarted flowable resumes RUNNING with the outputs it had
(or starts again if it never started) and creates the children it lacks.

Which task runs are dropped (the caller deletes them, or does not copy them):
- restart: every task run of an `errors` branch (Kestra's rule: they run again if the
  restarted tasks fail again);
- replay from a task run: its descendants and every task run that ran *after* it, level by
  level up to the flow. "After" follows the structure rather than Kestra's topology graph:
  a later task of a sequence (the flow, Sequential, If, Switch, one ForEach iteration), a
  later iteration of a one-at-a-time ForEach, a Dag task depending on it, and the `errors`
  branch; the other branches of a Parallel, a concurrent ForEach or a Dag keep their runs;
- change of state: the `errors` task runs of the levels above it, so that a failure forced
  to SUCCESS lets the flow continue where it stopped (they run again if a failure remains).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from executions.engine.flow import FlowSpec, TaskSpec
from executions.engine.flowables import handler_for
from executions.engine.flowables.loops import EachParallel, EachSequential, ForEach
from executions.engine.flowables.sequence import Dag, Parallel
from executions.engine.flowables.waits import ON_EXPIRY, RESUME_AT
from executions.engine.model import Attempt, Execution, IdFactory, TaskRun, new_id
from executions.engine.states import (
    EXECUTION_TRANSITIONS,
    TASK_RUN_TRANSITIONS,
    State,
)
from tenants.errors import Conflict, Unprocessable, Violation

# The states a task run may be forced to (Kestra's "change status" dialog).
MARKABLE_STATES = (State.SUCCESS, State.WARNING, State.FAILED)
# The ends an ended execution's status may be changed to (Kestra's `change-status`).
STATUS_STATES = (State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.CANCELLED)
# The task run states a restart runs again from.
_RESTARTED_FROM = frozenset({State.FAILED, State.PAUSED})
# The task run states that may change (an end that is not SKIPPED nor RETRIED).
_CHANGEABLE = frozenset({State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.CANCELLED})


# --- checks -------------------------------------------------------------------------------


def _require_ended(execution: Execution, doing: str) -> None:
    state = execution.current
    if state.terminated:
        return
    if state is State.PAUSED:
        raise Conflict(
            f"Execution {execution.id} is PAUSED: resume or kill it; {doing} applies to "
            "executions that have ended"
        )
    raise Conflict(
        f"Execution {execution.id} is {state}: {doing} applies to executions that have ended; "
        "wait for its end or kill it"
    )


def require_one_of(state: State, allowed: tuple[State, ...], field: str, message: str) -> None:
    """Unprocessable (422) naming `field` unless `state` is one of `allowed`; `message` may
    use `{allowed}` and `{state}`."""
    if state in allowed:
        return
    names = ", ".join(item.value for item in allowed)
    raise Unprocessable(
        message.format(allowed=names, state=state),
        field=field,
        violations=[Violation(field, f"expected one of {names}, got '{state}'")],
    )


def _task_run(execution: Execution, task_run_id: str) -> TaskRun:
    for task_run in execution.task_runs:
        if task_run.id == task_run_id:
            return task_run
    raise Unprocessable(
        f"Execution {execution.id} has no task run '{task_run_id}'",
        field="taskRunId",
        violations=[Violation("taskRunId", f"no task run '{task_run_id}' in this execution")],
    )


def require_tasks_of(flow: FlowSpec, task_runs: Iterable[TaskRun]) -> None:
    """Every task run must name a task of `flow` (a restart or replay on another revision
    cannot run a task that revision removed)."""
    missing = sorted({run.task_id for run in task_runs if flow.find(run.task_id) is None})
    if missing:
        names = ", ".join(f"'{task_id}'" for task_id in missing)
        raise Unprocessable(
            f"Revision {flow.revision} of flow {flow.namespace}.{flow.id} has no task {names}, "
            "which the execution ran: choose a revision that keeps these tasks",
            field="revision",
            violations=[Violation("revision", f"revision {flow.revision} lacks task {names}")],
        )


# --- the structure of the task runs --------------------------------------------------------


class _Runs:
    """The execution's task runs indexed by id and by parent."""

    def __init__(self, execution: Execution) -> None:
        self.ordered = execution.task_runs
        self.by_id = {run.id: run for run in execution.task_runs}
        self.children: dict[str | None, list[TaskRun]] = {}
        for run in execution.task_runs:
            self.children.setdefault(run.parent_task_run_id, []).append(run)

    def parent(self, run: TaskRun) -> TaskRun | None:
        if run.parent_task_run_id is None:
            return None
        return self.by_id.get(run.parent_task_run_id)

    def lineage(self, run: TaskRun) -> list[TaskRun]:
        """`run`, its parent, its grand-parent... up to a top-level task run."""
        chain = [run]
        parent = self.parent(run)
        while parent is not None:
            chain.append(parent)
            parent = self.parent(parent)
        return chain

    def with_descendants(self, roots: Iterable[TaskRun]) -> set[str]:
        found: set[str] = set()
        pending = list(roots)
        while pending:
            run = pending.pop()
            if run.id in found:
                continue
            found.add(run.id)
            pending.extend(self.children.get(run.id, ()))
        return found

    def siblings(self, run: TaskRun) -> list[TaskRun]:
        return [s for s in self.children.get(run.parent_task_run_id, ()) if s.id != run.id]


def _branches(flow: FlowSpec, owner: TaskSpec | None) -> tuple[list[str], list[str]]:
    """The task ids of a level in declared order: its main children, then `errors`."""
    if owner is None:
        return [t.id for t in flow.tasks], [t.id for t in flow.errors]
    errors = [t.id for t in owner.errors]
    error_set = set(errors)
    return [t.id for t in owner.children() if t.id not in error_set], errors


def _error_task_ids(flow: FlowSpec) -> set[str]:
    """The tasks written directly in an `errors` list, the flow's or any flowable's."""
    ids = {task.id for task in flow.errors}
    for task in flow.all_tasks():
        ids.update(child.id for child in task.errors)
    return ids


def _in_error_branch(runs: _Runs, error_ids: set[str]) -> set[str]:
    """Task runs of an errors task, with everything below them."""
    return runs.with_descendants(run for run in runs.ordered if run.task_id in error_ids)


def _dependents(owner: TaskSpec, task_id: str) -> set[str]:
    """The tasks of a Dag that depend on `task_id`, directly or not."""
    found: set[str] = set()
    pending = [task_id]
    while pending:
        current = pending.pop()
        for other, needs in owner.depends_on.items():
            if current in needs and other not in found:
                found.add(other)
                pending.append(other)
    return found


def _ran_after(flow: FlowSpec, runs: _Runs, node: TaskRun, sibling: TaskRun) -> bool:
    """Did `sibling` (same parent as `node`) run after `node`, per the level's structure?"""
    parent = runs.parent(node)
    owner = flow.find(parent.task_id) if parent is not None else None
    main, errors = _branches(flow, owner)
    if node.task_id in errors or sibling.task_id in errors:
        if node.task_id in errors and sibling.task_id in errors:
            return errors.index(sibling.task_id) > errors.index(node.task_id)
        return sibling.task_id in errors  # the errors branch comes after the main one
    if sibling.task_id not in main or node.task_id not in main:
        return False
    later_task = main.index(sibling.task_id) > main.index(node.task_id)
    if owner is None or parent is None:
        return later_task
    handler = handler_for(owner.type)
    if isinstance(handler, Parallel | EachParallel):
        return False
    if isinstance(handler, Dag):
        return sibling.task_id in _dependents(owner, node.task_id)
    if isinstance(handler, ForEach):
        return _later_iteration(owner, handler, parent, node, sibling, later_task)
    return later_task


def _later_iteration(
    owner: TaskSpec,
    handler: ForEach,
    parent: TaskRun,
    node: TaskRun,
    sibling: TaskRun,
    later_task: bool,
) -> bool:
    """In a ForEach: a later task of the same iteration, or any task of a later iteration
    when the values run one at a time; concurrent iterations are independent."""
    if sibling.value == node.value:
        return later_task
    one_at_a_time = isinstance(handler, EachSequential) or (
        owner.properties.get("concurrencyLimit", 1) == 1
    )
    values = list(parent.engine_state.get("values") or [])
    if not one_at_a_time or sibling.value not in values or node.value not in values:
        return False
    return values.index(sibling.value) > values.index(node.value)


# --- building the result ------------------------------------------------------------------


def _restarted(run: TaskRun, now: datetime) -> TaskRun:
    moved = run.state.moved_to(State.RESTARTED, now, TASK_RUN_TRANSITIONS, "task run")
    engine_state = run.engine_state
    if run.current is State.PAUSED:  # its wait ends with the restart
        engine_state = {k: v for k, v in engine_state.items() if k not in (RESUME_AT, ON_EXPIRY)}
    return replace(run, state=moved, wake_at=None, engine_state=engine_state)


def _copy(
    execution: Execution,
    kept: list[TaskRun],
    *,
    execution_id: str | None,
    ids: IdFactory | None,
) -> tuple[str, tuple[TaskRun, ...]]:
    """The kept task runs, under new ids (parents remapped) when the result is a new
    execution."""
    if execution_id is None:
        return execution.id, tuple(kept)
    make = ids or new_id
    mapping = {run.id: make() for run in kept}
    copied = tuple(
        replace(
            run,
            id=mapping[run.id],
            parent_task_run_id=mapping.get(run.parent_task_run_id)
            if run.parent_task_run_id is not None
            else None,
        )
        for run in kept
    )
    return execution_id, copied


def _result(
    execution: Execution,
    task_runs: tuple[TaskRun, ...],
    now: datetime,
    *,
    execution_id: str,
    revision: int | None,
    next_attempt: bool,
) -> Execution:
    state = execution.state.moved_to(State.RESTARTED, now, EXECUTION_TRANSITIONS, "execution")
    changes: dict[str, object] = {
        "state": state,
        "task_runs": task_runs,
        "attempt_number": execution.attempt_number + (1 if next_attempt else 0),
    }
    if execution_id != execution.id:
        changes.update(
            id=execution_id,
            parent_id=execution.id,
            original_id=execution.original_id or execution.id,
            original_created_date=execution.original_created_date or execution.state.start_date,
        )
    if revision is not None:
        changes["flow_revision"] = revision
    return replace(execution, **changes)  # type: ignore[arg-type]


# --- the three commands -------------------------------------------------------------------


def restart(
    flow: FlowSpec,
    execution: Execution,
    now: datetime,
    *,
    new_execution_id: str | None = None,
    ids: IdFactory | None = None,
) -> Execution:
    """Restart an ended execution from its FAILED task runs, or a PAUSED one from its paused
    task runs (Kestra 0.20 allows both): they and their ancestors become RESTARTED, the
    errors branches go, the execution is RESTARTED with attempt number + 1. A restarted
    Pause goes on as if resumed, with no `onResume` values.

    `flow` is the revision to run; with `new_execution_id` (a restart on another revision,
    as Kestra does it) the result is a new execution whose parent is this one, its task runs
    under new ids."""
    if execution.current is not State.PAUSED:
        _require_ended(execution, "restart")
    runs = _Runs(execution)
    failed = [run for run in execution.task_runs if run.current in _RESTARTED_FROM]
    if not failed:
        raise Unprocessable(
            f"No task found to restart execution {execution.id} from: it has no FAILED or "
            "PAUSED task run (replay it to run it again)"
        )
    dropped = _in_error_branch(runs, _error_task_ids(flow))
    targets = {ancestor.id for run in failed for ancestor in runs.lineage(run)} - dropped
    if not targets:
        raise Unprocessable(
            f"No task found to restart execution {execution.id} from: only tasks of an errors "
            "branch failed (replay it to run it again)"
        )
    kept = [
        _restarted(run, now)
        if run.id in targets and (run.current.terminated or run.current is State.PAUSED)
        else run
        for run in execution.task_runs
        if run.id not in dropped
    ]
    if new_execution_id is not None:
        require_tasks_of(flow, kept)
    execution_id, task_runs = _copy(execution, kept, execution_id=new_execution_id, ids=ids)
    revision = flow.revision if new_execution_id is not None else None
    return _result(
        execution, task_runs, now, execution_id=execution_id, revision=revision, next_attempt=True
    )


def replay(
    flow: FlowSpec,
    execution: Execution,
    task_run_id: str,
    now: datetime,
    *,
    new_execution_id: str | None = None,
    ids: IdFactory | None = None,
) -> Execution:
    """A new execution that runs again from one task run of an ended execution: the task
    runs before it are copied as they ended (new ids), it and its ancestors are RESTARTED,
    and what ran after it is left out (see the module's docstring). `flow` is the revision
    to run; the new execution keeps the inputs, labels (so `system.correlationId`) and
    trigger, and links to this one (`parentId`, `originalId`)."""
    _require_ended(execution, "a replay from a task run")
    runs = _Runs(execution)
    chosen = _task_run(execution, task_run_id)
    if not chosen.current.terminated:
        raise Conflict(
            f"Task run {chosen.id} ({chosen.task_id}) is {chosen.current}: replay from a task "
            "run that has ended"
        )
    lineage = runs.lineage(chosen)
    dropping = list(runs.children.get(chosen.id, ()))
    for node in lineage:
        dropping += [s for s in runs.siblings(node) if _ran_after(flow, runs, node, s)]
    dropped = runs.with_descendants(dropping)
    targets = {run.id for run in lineage}
    kept = [
        _restarted(run, now) if run.id in targets else run
        for run in execution.task_runs
        if run.id not in dropped
    ]
    require_tasks_of(flow, kept)
    execution_id, task_runs = _copy(
        execution, kept, execution_id=new_execution_id or (ids or new_id)(), ids=ids
    )
    return _result(
        execution,
        task_runs,
        now,
        execution_id=execution_id,
        revision=flow.revision,
        next_attempt=True,
    )


def mark_task_run(
    flow: FlowSpec, execution: Execution, task_run_id: str, state: State, now: datetime
) -> Execution:
    """Force an ended task run of an ended execution to SUCCESS, WARNING or FAILED (its last
    attempt too): its ancestors are RESTARTED, the errors task runs of their levels go, and
    the execution is RESTARTED, so that the next decision takes the new state into account
    (the flow continues after a failure forced to SUCCESS, fails after a forced FAILED)."""
    require_one_of(
        state, MARKABLE_STATES, "state", "A task run can be set to {allowed}, not {state}"
    )
    _require_ended(execution, "changing a task run's state")
    runs = _Runs(execution)
    chosen = _task_run(execution, task_run_id)
    if chosen.current is state:
        raise Conflict(f"Task run {chosen.id} ({chosen.task_id}) is already {state}")
    if chosen.current not in _CHANGEABLE:
        raise Conflict(
            f"Task run {chosen.id} ({chosen.task_id}) is {chosen.current}: only a task run that "
            "ended SUCCESS, WARNING, FAILED, KILLED or CANCELLED can change state"
        )
    lineage = runs.lineage(chosen)
    dropping: list[TaskRun] = []
    for node in lineage:
        parent = runs.parent(node)
        owner = flow.find(parent.task_id) if parent is not None else None
        _, errors = _branches(flow, owner)
        if node.task_id not in errors:
            dropping += [s for s in runs.siblings(node) if s.task_id in errors]
    dropped = runs.with_descendants(dropping)
    ancestors = {run.id for run in lineage[1:]}
    kept = []
    for run in execution.task_runs:
        if run.id in dropped:
            continue
        if run.id == chosen.id:
            run = _marked(run, state, now)
        elif run.id in ancestors and run.current.terminated:
            run = _restarted(run, now)
        kept.append(run)
    return _result(
        execution,
        tuple(kept),
        now,
        execution_id=execution.id,
        revision=None,
        next_attempt=False,
    )


def _marked(run: TaskRun, state: State, now: datetime) -> TaskRun:
    history = run.state.moved_to(state, now, TASK_RUN_TRANSITIONS, "task run")
    attempts = run.attempts
    last = run.last_attempt
    if last is not None and last.state.current.terminated and last.state.current is not state:
        ended = Attempt(last.state.moved_to(state, now, TASK_RUN_TRANSITIONS, "attempt"))
        attempts = (*attempts[:-1], ended)
    return replace(run, state=history, attempts=attempts, wake_at=None)


def change_status(execution: Execution, status: State, now: datetime) -> Execution:
    """Kestra's `change-status`: an ended execution is given another end (its task runs stay
    as they are, nothing runs again). The same end changes nothing."""
    require_one_of(
        status,
        STATUS_STATES,
        "status",
        "You can only change the status of an execution to a terminal state ({allowed}), "
        "not {state}",
    )
    if not execution.current.terminated:
        raise Conflict(
            f"Execution {execution.id} is {execution.current}: you can only change the status "
            "of a terminated execution"
        )
    state = execution.state.moved_to(status, now, EXECUTION_TRANSITIONS, "execution")
    return replace(execution, state=state)
