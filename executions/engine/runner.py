"""An in-process runner, for `flow test` and the tests: the same decisions as the Celery
executor, applied in memory, with task runs executed synchronously.

Loop: decide → apply → run every task run sent to a worker (claim, run, record) → decide
again, until the execution ends. A Subflow's child execution is made from the flow `flows`
finds and run to its end on the spot, by a runner of its own (one level deeper); its result
goes back to the parent task run at once (`RunResult.children` keeps the child runs). An
execution PAUSED until someone resumes it is handed to
`on_pause`, which answers with the commands to apply (a resume), or nothing: the run then
returns it paused. Waiting (a retry's delay, a Sleep task) goes through the
injected clock and sleeper: with a `ManualClock`, a flow that retries for minutes runs in
milliseconds and its dates are exact. MAX_DURATION SLAs are watched on that clock too: once
one is due, a running task is told to stop (as a kill tells it) and the violation is applied
before the next decision, as the scheduler applies it to a Celery-run execution.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from executions.engine.actions import (
    Action,
    EmitLog,
    RetryExecution,
    RunTaskRun,
    StartAttempt,
    StartSubflow,
)
from executions.engine.apply import apply_actions
from executions.engine.decide import decide
from executions.engine.flow import FlowSpec, load_flow
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import (
    Execution,
    IdFactory,
    Label,
    TaskRun,
    new_execution,
    new_id,
    replay_execution,
)
from executions.engine.ports import KVStore, Storage
from executions.engine.progress import next_wake, progressed, task_id_of
from executions.engine.rendering import RendererFactory, expressions_renderer
from executions.engine.services import EngineServices, error_log_entries
from executions.engine.sla import Sla, deadlines, max_duration_violation, violation_actions
from executions.engine.states import State
from executions.engine.subflows import (
    MAX_DEPTH,
    FlowLookup,
    SubflowError,
    accept_subflow_result,
    child_execution,
    launchable,
    subflow_result,
    subflow_started,
)
from executions.engine.tasks.base import LogLine
from executions.engine.tasks.registry import TaskRegistry
from executions.engine.variables import RunEnvironment
from executions.engine.worker import run_attempt


class ManualClock:
    """A clock that only moves when told to (or when something sleeps on it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 12, 20, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(seconds, 0))

    def advance_to(self, at: datetime) -> None:
        self.now = max(self.now, at)


OnPause = Callable[[Execution], Sequence[Action] | None]
"""Given an execution paused until someone resumes it: the commands to apply, or None."""


def _system_clock() -> datetime:
    return datetime.now(UTC)


class EngineStuck(RuntimeError):
    """The execution is not over, yet nothing can make it progress (an engine bug)."""


@dataclass
class RunResult:
    """The final execution and every log line; unpacks as `execution, logs`. `retried`
    holds the executions ended RETRIED before it (retries creating a new execution)."""

    execution: Execution
    logs: list[LogLine]
    retried: list[Execution] = field(default_factory=list)
    children: list[RunResult] = field(default_factory=list)  # subflow runs, in start order

    def __iter__(self) -> Iterator[Any]:
        return iter((self.execution, self.logs))

    @property
    def executions(self) -> list[Execution]:
        return [*self.retried, self.execution]

    def task_run(self, task_id: str, value: str | None = None) -> TaskRun:
        for task_run in self.execution.task_runs:
            if task_run.task_id == task_id and (value is None or task_run.value == value):
                return task_run
        raise KeyError(f"No task run of {task_id!r}")

    def logs_of(self, task_id: str) -> list[LogLine]:
        return [line for line in self.logs if line.task_id == task_id]


@dataclass
class _Runner:
    flow: FlowSpec
    clock: Callable[[], datetime]
    sleeper: Callable[[float], None]
    renderer: RendererFactory | None
    ids: IdFactory | None
    services: Any
    storage: Storage | None
    kv: KVStore | None
    environment: RunEnvironment | None
    registry: TaskRegistry | None
    on_pause: OnPause | None = None
    flows: FlowLookup | None = None
    depth: int = 0  # levels of subflows above this execution
    max_depth: int = MAX_DEPTH
    logs: list[LogLine] = field(default_factory=list)
    children: list[RunResult] = field(default_factory=list)
    current: Execution | None = None
    first_log: int = 0  # where the current execution's log lines start
    own_services: bool = False
    deadlines: list[tuple[Sla, datetime]] = field(default_factory=list)  # MAX_DURATION SLAs

    def __post_init__(self) -> None:
        if self.services is None:
            self.own_services = True
            self.services = EngineServices(self.kv, self.storage, errors=self.error_logs)

    def error_logs(self) -> list[dict[str, Any]]:
        if self.current is None:
            return []
        return error_log_entries(self.current, self.logs[self.first_log :])

    def wait_until(self, at: datetime) -> None:
        seconds = (at - self.clock()).total_seconds()
        if seconds > 0:
            self.sleeper(seconds)

    def decide(self, execution: Execution) -> tuple[Execution, list[Action]]:
        now = self.clock()
        self.current = execution
        actions = decide(
            self.flow,
            execution,
            now,
            renderer=self.renderer,
            ids=self.ids,
            environment=self.environment,
            services=self.services,
        )
        self.record_logs(execution, actions, now)
        return apply_actions(execution, actions, now), actions

    def record_logs(self, execution: Execution, actions: list[Action], now: datetime) -> None:
        for action in actions:
            if isinstance(action, EmitLog):
                task_id = task_id_of(execution, action.task_run_id)
                self.logs.append(
                    LogLine(action.level, action.message, now, action.task_run_id, task_id)
                )

    def apply(self, execution: Execution, actions: list[Action]) -> Execution:
        now = self.clock()
        self.record_logs(execution, actions, now)
        return apply_actions(execution, actions, now)

    def start_subflow(self, parent: Execution, request: StartSubflow, max_steps: int) -> Execution:
        """Make the child, run it to its end, give its result to the parent task run."""
        if not launchable(parent, request):
            return parent
        child_id = self.ids() if self.ids else new_id()
        try:
            if self.flows is None:
                raise SubflowError(
                    f"Cannot start flow '{request.namespace}.{request.flow_id}': "
                    "no flows to start subflows from in this run"
                )
            child_flow = self.flows(request.namespace, request.flow_id, request.revision)
            files = (
                ExecutionInputFiles(self.storage, child_flow.namespace, child_flow.id, child_id)
                if self.storage is not None
                else None
            )
            child = child_execution(
                request,
                parent,
                child_flow,
                now=self.clock(),
                execution_id=child_id,
                depth=self.depth,
                max_depth=self.max_depth,
                files=files,
                render=self.render_default,
            )
        except SubflowError as error:
            return self.apply(parent, subflow_started(parent, request, None, str(error)))
        parent = self.apply(parent, subflow_started(parent, request, child.id))
        runner = _Runner(
            child_flow,
            self.clock,
            self.sleeper,
            self.renderer,
            self.ids,
            None if self.own_services else self.services,
            self.storage,
            self.kv,
            self.environment,
            self.registry,
            flows=self.flows,
            depth=self.depth + 1,
            max_depth=self.max_depth,
        )
        ended = runner.run(child, max_steps)
        self.children.append(ended)
        self.current = parent
        result = subflow_result(
            self.flow,
            parent,
            child_flow,
            ended.execution,
            renderer=self.renderer or expressions_renderer,
            services=self.services,
            storage=self.storage,
        )
        if result is None:
            return parent
        return self.apply(parent, accept_subflow_result(parent, result))

    def render_default(self, template: str, variables: Mapping[str, Any]) -> Any:
        """A templated input default of a child flow."""
        return (self.renderer or expressions_renderer)(variables, self.services).render_typed(
            template
        )

    def watch(self, execution: Execution) -> None:
        """The MAX_DURATION deadlines of `execution`, which has just been made."""
        self.deadlines = deadlines(self.flow.sla, execution)

    def check_deadlines(self, execution: Execution) -> Execution:
        """Apply the MAX_DURATION SLAs whose deadline has passed, as the scheduler does for
        the Celery executor (before the next decision, so that a task the SLA interrupted
        ends the way the SLA says, not KILLED)."""
        now = self.clock()
        due = [sla for sla, at in self.deadlines if at <= now]
        for sla in due:
            self.deadlines = [(s, at) for s, at in self.deadlines if s is not sla]
            if execution.current.terminated or execution.current is State.KILLING:
                continue
            violation = max_duration_violation(sla, execution, now)
            execution = self.apply(
                execution, violation_actions([violation], execution.current, execution.task_runs)
            )
        return execution

    def sla_stops_tasks(self) -> bool:
        """A running task stops once an SLA that ends the execution is due."""
        now = self.clock()
        return any(at <= now and sla.ends_as is not None for sla, at in self.deadlines)

    def run_task(self, execution: Execution, task_run_id: str) -> Execution:
        execution = apply_actions(execution, [StartAttempt(task_run_id)], self.clock())
        self.current = execution
        outcome = run_attempt(
            self.flow,
            execution,
            task_run_id,
            clock=self.clock,
            sleeper=self.sleeper,
            renderer=self.renderer,
            services=self.services,
            storage=self.storage,
            kv=self.kv,
            environment=self.environment,
            cancelled=self.sla_stops_tasks,
            registry=self.registry,
        )
        self.logs.extend(outcome.logs)
        return apply_actions(execution, [outcome.action], self.clock())

    def run(self, execution: Execution, max_steps: int) -> RunResult:
        retried: list[Execution] = []
        self.watch(execution)
        for _ in range(max_steps):
            execution = self.check_deadlines(execution)
            execution, actions = self.decide(execution)
            for action in actions:
                if isinstance(action, RunTaskRun):
                    execution = self.check_deadlines(execution)
                    if execution.task_run(action.task_run_id).current is not State.CREATED:
                        continue  # ended by an SLA meanwhile
                    execution = self.run_task(execution, action.task_run_id)
                elif isinstance(action, StartSubflow):
                    execution = self.start_subflow(execution, action, max_steps)
            again = next((a for a in actions if isinstance(a, RetryExecution)), None)
            if again is not None:
                retried.append(execution)
                self.wait_until(again.at)
                execution = replay_execution(
                    execution, now=self.clock(), execution_id=self.ids() if self.ids else None
                )
                self.watch(execution)
                self.first_log = len(self.logs)
                continue
            if execution.current.terminated:
                if any(isinstance(a, RunTaskRun) for a in actions):
                    # tasks that ended after the execution did: their results are recorded
                    # as the executor records a late report (no retry, nothing new)
                    execution, _ = self.decide(execution)
                return RunResult(execution, self.logs, retried, self.children)
            if any(isinstance(a, RunTaskRun) for a in actions) or progressed(actions):
                continue
            wake = next_wake(execution, actions)
            if wake is None and execution.current is State.PAUSED:
                resume = self.on_pause(execution) if self.on_pause is not None else None
                if resume:
                    execution = apply_actions(execution, resume, self.clock())
                    continue
                if not self.deadlines:
                    return RunResult(execution, self.logs, retried, self.children)
            sla_wake = min((at for _, at in self.deadlines), default=None)
            if sla_wake is not None and (wake is None or sla_wake < wake):
                wake = sla_wake
            if wake is None:
                raise EngineStuck(f"Execution {execution.id} is {execution.current} and stuck")
            self.wait_until(wake)
        raise EngineStuck(f"Execution {execution.id} did not end within {max_steps} steps")


def run_flow(
    flow: FlowSpec | str,
    inputs: Mapping[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    sleeper: Callable[[float], None] | None = None,
    labels: Iterable[Label] = (),
    renderer: RendererFactory | None = None,
    ids: IdFactory | None = None,
    services: Any = None,
    storage: Storage | None = None,
    kv: KVStore | None = None,
    environment: RunEnvironment | None = None,
    registry: TaskRegistry | None = None,
    execution_id: str | None = None,
    max_steps: int = 100_000,
    on_pause: OnPause | None = None,
    flows: FlowLookup | None = None,
    max_depth: int = MAX_DEPTH,
) -> RunResult:
    """Run `flow` (a `FlowSpec` or YAML text) to its end with already-typed `inputs`.
    With a `ManualClock` and no `sleeper`, waiting advances that clock. `services` are what
    `kv()`, `secret()`, `read()` and `errorLogs()` reach; by default an `EngineServices`
    over `kv` and `storage` whose `errorLogs()` returns this run's ERROR lines. An execution
    paused until someone resumes it goes to `on_pause` (see `OnPause`); without it, or when
    it answers nothing, the result is the PAUSED execution. `flows` finds the flows Subflow
    and ForEachItem tasks start (`SubflowError` when it cannot); without it they fail.
    `max_depth` bounds nested subflows."""
    spec = load_flow(flow) if isinstance(flow, str) else flow
    if clock is None:
        clock, default_sleeper = _system_clock, time.sleep
    else:
        default_sleeper = clock.sleep if isinstance(clock, ManualClock) else time.sleep
    runner = _Runner(
        spec,
        clock,
        sleeper or default_sleeper,
        renderer,
        ids,
        services,
        storage,
        kv,
        environment,
        registry,
        on_pause,
        flows=flows,
        max_depth=max_depth,
    )
    execution = new_execution(
        execution_id=execution_id or (ids() if ids else None),
        namespace=spec.namespace,
        flow_id=spec.id,
        flow_revision=spec.revision,
        now=clock(),
        inputs=inputs,
        flow_labels=spec.labels,
        labels=labels,
        tenant_id=spec.tenant_id,
    )
    return runner.run(execution, max_steps)
