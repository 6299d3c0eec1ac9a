"""What every flowable handler builds on: Kestra's `FlowableTask` contract and the helpers
of `FlowableUtils`, over one flowable task run's children.

A handler says, for one RUNNING flowable task run:
- `start`: what it computes once when it starts (If's condition, Switch's value, ForEach's
  values), kept in the task run's outputs or `engine_state`, so the branch never changes
  afterwards (correction 12, applied to every flowable);
- `tasks`: its main children as `Child(task, value)` (None: no branch matches);
- `nexts`: which children of the main branch to create now;
- `state_of`: its state once its children say so (None: not yet).

The branch rule is shared (Kestra's `findTaskDependingFlowState`): once a main child has
FAILED (a failure that will be retried is RETRYING, not FAILED) or an `errors` task has
started, the current branch is `errors`, run one after the other, and no further main child
is created. The state comes from the main children only, so errors never change it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from executions.engine.apply import Draft
from executions.engine.flow import TaskSpec
from executions.engine.model import TaskRun
from executions.engine.rendering import Templates
from executions.engine.states import TERMINATED, State, final_state


class FlowableError(Exception):
    """A flowable cannot start or go on; the message is logged and the task run FAILS."""


@dataclass(frozen=True, slots=True)
class Child:
    """A child to run (Kestra's `ResolvedTask`): a task, with its loop value if any, and the
    loop count of a WaitFor's children (their task run's `iteration`)."""

    task: TaskSpec
    value: str | None = None
    iteration: int | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.task.id, self.value)


@dataclass(frozen=True, slots=True)
class Started:
    outputs: Mapping[str, Any] | None = None
    engine_state: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A flowable task run's next state with what it keeps: `state_of` answers it when a
    state alone does not say enough (a Pause that starts waiting records until when, a
    WaitFor its next loop count), `resumed` when a paused one goes on."""

    state: State
    outputs: Mapping[str, Any] | None = None
    engine_state: Mapping[str, Any] | None = None


class ChildRuns:
    """The task runs of one flowable task run's children, by (task id, value), in creation
    order; `failed` holds the keys of those that FAILED (usually none)."""

    def __init__(self, runs: Iterable[TaskRun]) -> None:
        by_key: dict[tuple[str, str | None], TaskRun] = {}
        failed: set[tuple[str, str | None]] = set()
        for run in runs:
            key = (run.task_id, run.value)
            by_key[key] = run
            if run.state.current is State.FAILED:
                failed.add(key)
            else:
                failed.discard(key)
        self.by_key = by_key
        self.failed = failed

    def get(self, child: Child) -> TaskRun | None:
        return self.by_key.get((child.task.id, child.value))

    def done(self, child: Child) -> bool:
        run = self.by_key.get((child.task.id, child.value))
        return run is not None and run.state.current in TERMINATED

    def of_task(self, task_id: str) -> list[TaskRun]:
        return [run for (tid, _), run in self.by_key.items() if tid == task_id]


@dataclass
class FlowableContext:
    """One RUNNING (or starting) flowable task run, as a handler sees it."""

    task: TaskSpec
    task_run: TaskRun
    draft: Draft
    make_templates: Callable[[], Templates]
    # Templates as if this task run's outputs were the given ones (a WaitFor renders its
    # condition with the loop count it is about to record).
    make_templates_with: Callable[[Mapping[str, Any]], Templates] | None = None
    _runs: ChildRuns | None = field(default=None, repr=False)
    _templates: Templates | None = field(default=None, repr=False)

    @property
    def runs(self) -> ChildRuns:
        if self._runs is None:
            self._runs = ChildRuns(self.draft.children_of(self.task_run.id))
        return self._runs

    @property
    def templates(self) -> Templates:
        if self._templates is None:
            self._templates = self.make_templates()
        return self._templates

    @property
    def outputs(self) -> Mapping[str, Any]:
        return self.task_run.outputs or {}

    @property
    def engine_state(self) -> Mapping[str, Any]:
        return self.task_run.engine_state

    def prop(self, name: str, default: Any = None) -> Any:
        value = self.task.properties.get(name)
        return default if value is None else value

    def templates_with(self, outputs: Mapping[str, Any]) -> Templates:
        if self.make_templates_with is None:
            return self.templates
        return self.make_templates_with(outputs)


def enabled(children: Iterable[Child]) -> list[Child]:
    return [child for child in children if not child.task.disabled]


def plain(tasks: Iterable[TaskSpec]) -> list[Child]:
    return [Child(task) for task in tasks]


def in_errors_branch(main: list[Child], errors: list[Child], runs: ChildRuns) -> bool:
    """True once a main child FAILED or an errors task has a task run. Only the (few)
    failed runs are looked at: a failed run that is not an errors task is a main one."""
    error_keys = {child.key for child in errors}
    if any(key not in error_keys for key in runs.failed):
        return True
    return any(key in runs.by_key for key in error_keys)


def sequential_nexts(current: list[Child], runs: ChildRuns) -> list[Child]:
    """The first child without a task run, once every child before it has ended. Children
    are created in order, so the scan starts from the end: the last child with a task run
    says where the sequence is."""
    by_key = runs.by_key
    for index in range(len(current) - 1, -1, -1):
        run = by_key.get(current[index].key)
        if run is None:
            continue
        if run.state.current not in TERMINATED or index + 1 == len(current):
            return []
        return [current[index + 1]]
    return current[:1]


def parallel_nexts(current: list[Child], runs: ChildRuns, concurrent: int) -> list[Child]:
    """Every child without a task run, at most `concurrent` unfinished at once (0: no
    limit). A created child waiting for a worker counts as unfinished."""
    missing = []
    unfinished = 0
    for child in current:
        run = runs.get(child)
        if run is None:
            missing.append(child)
        elif not run.current.terminated:
            unfinished += 1
    if concurrent > 0:
        return missing[: max(concurrent - unfinished, 0)]
    return missing


def grouped_nexts(current: list[Child], runs: ChildRuns, limit: int) -> list[Child]:
    """ForEach: the children of one value run one after the other; at most `limit` values
    are under way at once (0: no limit)."""
    # One pass with plain lookups: a loop of n values decides on every step, so this runs
    # n times per step (the bench's ForEach over 1,000 values spends its time here).
    by_key = runs.by_key
    groups: dict[str | None, list[Child]] = {}
    for child in current:
        groups.setdefault(child.value, []).append(child)
    result: list[Child] = []
    waiting: list[Child] = []
    active = 0
    for group in groups.values():
        # the last child with a task run says where the group is (`sequential_nexts`)
        last_index, last_run, ended = -1, None, True
        for index, child in enumerate(group):
            run = by_key.get((child.task.id, child.value))
            if run is None:
                ended = False
            else:
                last_index, last_run = index, run
                if run.state.current not in TERMINATED:
                    ended = False
        if last_run is None:
            waiting.append(group[0])
        elif not ended:
            active += 1
            if last_run.state.current in TERMINATED and last_index + 1 < len(group):
                result.append(group[last_index + 1])
    free = len(waiting) if limit <= 0 else max(limit - active, 0)
    return result + waiting[:free]


def resolve_state(
    main: list[Child] | None,
    errors: list[Child],
    runs: ChildRuns,
    *,
    allow_failure: bool,
    allow_warning: bool,
) -> State | None:
    """Kestra's `FlowableUtils.resolveState` with corrections 3 and 4: no branch at all →
    FAILED (or its allowFailure form); a failure with no errors branch ends the flowable
    at once; an empty main branch (every child disabled, an If without `else`, a ForEach
    over nothing) ends SUCCESS."""
    if main is None:
        return final_state(
            (State.FAILED,), allow_failure=allow_failure, allow_warning=allow_warning
        )
    main, errors = enabled(main), enabled(errors)
    failed = in_errors_branch(main, [], runs)
    current = errors if in_errors_branch(main, errors, runs) else main
    if current and not all(runs.done(child) for child in reversed(current)):
        return None
    if current or failed or not main:
        states = [run.current for child in main if (run := runs.get(child)) is not None]
        return final_state(states, allow_failure=allow_failure, allow_warning=allow_warning)
    return None


class FlowableHandler:
    """Base handler: a Sequential. Subclasses override `tasks`, `nexts` or `start`."""

    #: The property holding the main children.
    branch = "tasks"

    def start(self, ctx: FlowableContext) -> Started:
        return Started()

    def tasks(self, ctx: FlowableContext) -> list[Child] | None:
        return plain(ctx.task.branch(self.branch))

    def nexts(self, ctx: FlowableContext, main: list[Child]) -> list[Child]:
        return sequential_nexts(main, ctx.runs)

    def allow_failure(self, task: TaskSpec) -> bool:
        return task.allow_failure

    def children_to_create(self, ctx: FlowableContext) -> list[Child]:
        tasks = self.tasks(ctx)
        if tasks is None:
            return []
        main, errors = enabled(tasks), enabled(plain(ctx.task.errors))
        if in_errors_branch(main, errors, ctx.runs):
            return sequential_nexts(errors, ctx.runs)
        return self.nexts(ctx, main)

    #: What a PAUSED execution becomes once its last paused task run of this type goes on
    #: (Kestra: a resumed Pause restarts the execution, a WaitFor's next loop runs it).
    execution_resumes_as = State.RUNNING

    def resumed(
        self, task: TaskSpec, task_run: TaskRun, *, expired: bool, inputs: Mapping[str, Any] | None
    ) -> Outcome:
        """The state of a PAUSED task run of this flowable that goes on: resumed by a user
        (`inputs`: the typed `onResume` values, if any) or because its wait is over."""
        return Outcome(State.RUNNING)

    def state_of(self, ctx: FlowableContext) -> State | Outcome | None:
        return resolve_state(
            self.tasks(ctx),
            plain(ctx.task.errors),
            ctx.runs,
            allow_failure=self.allow_failure(ctx.task),
            allow_warning=ctx.task.allow_warning,
        )
