"""Shared helpers of the engine tests: flows from YAML, a deterministic run."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import Any

from executions.engine.actions import Action, EmitLog, FinishAttempt, RunTaskRun, StartAttempt
from executions.engine.apply import apply_actions
from executions.engine.decide import decide
from executions.engine.flow import FlowSpec, load_flow
from executions.engine.model import TaskRun, new_execution
from executions.engine.runner import ManualClock, RunResult, run_flow
from executions.engine.states import State
from tests.executions.engine.fakes import Counter, fake_renderer

START = datetime(2024, 12, 20, 10, 0, tzinfo=UTC)


def flow(body: str, flow_id: str = "test", namespace: str = "company.team") -> FlowSpec:
    """A flow from the YAML of its body (everything but id and namespace)."""
    source = f"id: {flow_id}\nnamespace: {namespace}\n" + textwrap.dedent(body)
    return load_flow(source)


def run(spec: FlowSpec | str, inputs: dict[str, Any] | None = None, **options: Any) -> RunResult:
    """Run with a manual clock starting at START, the fake renderer and ids tr-1, tr-2..."""
    if isinstance(spec, str):
        spec = flow(spec)
    options.setdefault("clock", ManualClock(START))
    options.setdefault("renderer", fake_renderer)
    options.setdefault("ids", Counter())
    return run_flow(spec, inputs or {}, **options)


def states(result: RunResult) -> dict[str, str]:
    """Task id (with its value, if any) -> final state."""
    return {
        (f"{r.task_id}[{r.value}]" if r.value is not None else r.task_id): r.current.value
        for r in result.execution.task_runs
    }


class Stepper:
    """Drive the decision function by hand: decide, then play the worker for a task."""

    def __init__(self, spec: FlowSpec | str, inputs: dict[str, Any] | None = None) -> None:
        self.spec = flow(spec) if isinstance(spec, str) else spec
        self.clock = ManualClock(START)
        self.ids = Counter()
        self.execution = new_execution(
            execution_id="exec",
            namespace=self.spec.namespace,
            flow_id=self.spec.id,
            flow_revision=self.spec.revision,
            now=self.clock(),
            inputs=inputs,
            flow_labels=self.spec.labels,
        )
        self.actions: list[Action] = []

    def decide(self) -> list[Action]:
        now = self.clock()
        self.actions = decide(self.spec, self.execution, now, renderer=fake_renderer, ids=self.ids)
        self.execution = apply_actions(self.execution, self.actions, now)
        return self.actions

    def apply(self, *actions: Action) -> None:
        self.execution = apply_actions(self.execution, actions, self.clock())

    def run_of(self, task_id: str, value: str | None = None) -> TaskRun:
        found = [
            r
            for r in self.execution.task_runs
            if r.task_id == task_id and (value is None or r.value == value)
        ]
        assert found, f"no task run of {task_id}"
        return found[-1]

    def state(self, task_id: str, value: str | None = None) -> State:
        return self.run_of(task_id, value).current

    def start(self, task_id: str, value: str | None = None) -> None:
        self.apply(StartAttempt(self.run_of(task_id, value).id))

    def finish(
        self,
        task_id: str,
        state: State = State.SUCCESS,
        outputs: dict[str, Any] | None = None,
        value: str | None = None,
    ) -> None:
        """The worker ran the task: claim it if needed, then report its attempt."""
        if self.state(task_id, value) is State.CREATED:
            self.start(task_id, value)
        self.apply(FinishAttempt(self.run_of(task_id, value).id, state, outputs or {}))

    def sent(self) -> list[str]:
        """Task ids of the task runs the last decision sent to a worker."""
        by_id = {r.id: r.task_id for r in self.execution.task_runs}
        return [by_id[a.task_run_id] for a in self.actions if isinstance(a, RunTaskRun)]

    def kinds(self) -> list[str]:
        return [type(a).__name__ for a in self.actions if not isinstance(a, EmitLog)]
