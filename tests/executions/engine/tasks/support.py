"""Helpers of the task tests: one attempt of a flow's first task through the worker."""

from __future__ import annotations

from typing import Any

import yaml

from executions.engine.worker import AttemptOutcome, run_attempt
from tests.executions.engine.fakes import fake_renderer
from tests.executions.engine.helpers import Stepper


def body(task_type: str, **properties: Any) -> str:
    """A flow body with one task `t` of `task_type` and these properties."""
    return yaml.safe_dump(
        {"tasks": [{"id": "t", "type": task_type, **properties}]}, sort_keys=False
    )


def attempt(flow_body: str, inputs: dict[str, Any] | None = None, **options: Any) -> AttemptOutcome:
    """Run the flow's first task once (manual clock, fake renderer unless told)."""
    stepper = Stepper(flow_body, inputs=inputs)
    stepper.decide()
    task_run = stepper.execution.task_runs[-1]
    stepper.start(task_run.task_id)
    options.setdefault("renderer", fake_renderer)
    options.setdefault("clock", stepper.clock)
    options.setdefault("sleeper", stepper.clock.sleep)
    return run_attempt(stepper.spec, stepper.execution, task_run.id, **options)


def run_task(task_type: str, **properties: Any) -> AttemptOutcome:
    """One attempt of a task `t` of `task_type`; `storage=`, `kv=`... go to the worker."""
    options = {k: properties.pop(k) for k in list(properties) if k in OPTIONS}
    return attempt(body(task_type, **properties), **options)


OPTIONS = {"storage", "kv", "renderer", "cancelled", "clock", "sleeper", "inputs", "environment"}


def messages(outcome: AttemptOutcome) -> list[tuple[str, str]]:
    return [(line.level, line.message) for line in outcome.logs]


def outputs_of(result: Any, task_id: str) -> Any:
    """The outputs of the last task run of `task_id` in a `RunResult`."""
    runs = [r for r in result.execution.task_runs if r.task_id == task_id]
    assert runs, f"no task run of {task_id}"
    return runs[-1].outputs
