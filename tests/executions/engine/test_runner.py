"""The in-process runner: decide, apply, run task runs, until the end."""

from datetime import timedelta

import pytest

from executions.engine.flowables import HANDLERS, FlowableHandler
from executions.engine.model import Label
from executions.engine.runner import EngineStuck, ManualClock, run_flow
from executions.engine.states import State
from tests.executions.engine.fakes import Counter, fake_renderer
from tests.executions.engine.helpers import START, flow, run


def test_it_runs_a_flow_to_its_end_and_unpacks_as_execution_and_logs():
    execution, logs = run(
        "tasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: Hello {{ inputs.name }}\n",
        {"name": "World"},
    )
    assert execution.current is State.SUCCESS
    assert [(line.level, line.message) for line in logs if line.task_id == "hello"] == [
        ("INFO", "Hello World")
    ]
    assert logs[0].message == "Flow started"
    assert logs[-1].message.startswith("Flow completed with state SUCCESS")


def test_it_accepts_yaml_text_and_labels():
    source = (
        "id: from-text\nnamespace: company.team\n"
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"
    )
    result = run_flow(
        source,
        clock=ManualClock(START),
        renderer=fake_renderer,
        ids=Counter(),
        labels=[Label("origin", "test")],
    )
    assert result.execution.flow_id == "from-text"
    assert result.execution.label_map()["origin"] == "test"


def test_it_waits_for_retries_through_the_clock():
    clock = ManualClock(START)
    result = run(
        "tasks:\n  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n"
        "    retry:\n      type: constant\n      interval: PT1H\n      maxAttempt: 3\n",
        clock=clock,
    )
    assert clock.now - START == timedelta(hours=2)
    assert len(result.task_run("boom").attempts) == 3


def test_it_sleeps_through_the_clock():
    clock = ManualClock(START)
    result = run(
        "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT10M\n",
        clock=clock,
    )
    assert result.execution.current is State.SUCCESS
    assert result.execution.state.end_date - START == timedelta(minutes=10)


def test_it_fails_a_flowable_type_the_engine_cannot_run_yet():
    result = run(
        "tasks:\n  - id: wait\n    type: io.kestra.plugin.core.flow.WorkingDirectory\n"
        "    tasks:\n      - id: inside\n        type: io.kestra.plugin.core.log.Log\n"
        "        message: x\n"
        "  - id: after\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"
    )
    assert result.execution.current is State.FAILED
    assert result.task_run("wait").current is State.FAILED
    assert len(result.execution.task_runs) == 1


def test_it_reports_an_execution_that_cannot_progress(monkeypatch):
    class Stuck(FlowableHandler):
        def state_of(self, ctx):
            return None

        def children_to_create(self, ctx):
            return []

    monkeypatch.setitem(HANDLERS, "io.kestra.plugin.core.flow.Sequential", Stuck())
    spec = flow(
        "tasks:\n  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
        "      - id: t\n        type: io.kestra.plugin.core.log.Log\n        message: x\n"
    )
    with pytest.raises(EngineStuck, match="RUNNING and stuck"):
        run(spec)


def test_a_task_that_ends_after_its_execution_has_its_result_recorded():
    """A Switch without a match fails its Parallel and the execution at once (correction 3:
    no waiting for siblings); the sibling sent in the same step still ends, its late result
    recorded as the executor records a late report."""
    result = run(
        """
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: say
                type: io.kestra.plugin.core.log.Log
                message: hello
              - id: choose
                type: io.kestra.plugin.core.flow.Switch
                value: nowhere
                cases:
                  somewhere:
                    - id: never
                      type: io.kestra.plugin.core.log.Log
                      message: never
        """
    )
    assert result.execution.current is State.FAILED
    say = next(run for run in result.execution.task_runs if run.task_id == "say")
    assert say.current is State.SUCCESS
    assert say.last_attempt.state.current is State.SUCCESS
