"""Pause and WaitFor in the decision function: what pauses the execution, what wakes it,
what a resume does, and the life cycle around them (kill, manual pause)."""

from datetime import timedelta

import pytest

from executions.engine.actions import (
    EmitLog,
    KillTaskRun,
    SetExecutionState,
    SetTaskRunState,
    WakeUp,
)
from executions.engine.commands import first_paused, kill, pause, resume
from executions.engine.states import State
from tenants.errors import Conflict
from tests.executions.engine.helpers import START, Stepper, run, states

LOG = "io.kestra.plugin.core.log.Log"
PAUSE = "io.kestra.plugin.core.flow.Pause"
WAIT_FOR = "io.kestra.plugin.core.flow.WaitFor"
OUTPUT = "io.kestra.plugin.core.output.OutputValues"
FAIL = "io.kestra.plugin.core.execution.Fail"


def _histories(stepper: Stepper, task_id: str) -> list[str]:
    return [entry.state.value for entry in stepper.run_of(task_id).state.histories]


def _execution_histories(stepper: Stepper) -> list[str]:
    return [entry.state.value for entry in stepper.execution.state.histories]


def _logs(actions) -> list[str]:
    return [action.message for action in actions if isinstance(action, EmitLog)]


def _pause_then(pause_props: str = "", after: str = "last") -> str:
    return f"""
    tasks:
      - id: pause
        type: {PAUSE}
        {pause_props}
      - id: {after}
        type: {LOG}
        message: after
    """


# --- Pause ------------------------------------------------------------------------------


def test_it_pauses_the_task_run_and_the_execution_until_someone_resumes_it():
    stepper = Stepper(_pause_then())
    stepper.decide()
    assert stepper.state("pause") is State.PAUSED
    assert stepper.execution.current is State.PAUSED
    assert [r.task_id for r in stepper.execution.task_runs] == ["pause"]
    assert stepper.decide() == []  # no wake-up: only a user goes on


def test_it_runs_on_after_a_resume_without_children_the_pause_succeeds_at_once():
    stepper = Stepper(_pause_then())
    stepper.decide()
    stepper.apply(*resume(stepper.execution, stepper.spec))
    assert stepper.state("pause") is State.SUCCESS
    assert stepper.execution.current is State.RESTARTED
    actions = stepper.decide()
    assert "Flow restarted" in _logs(actions)
    assert stepper.sent() == ["last"]
    assert _execution_histories(stepper) == ["CREATED", "RUNNING", "PAUSED", "RESTARTED", "RUNNING"]


def test_it_runs_the_deprecated_children_of_a_pause_once_resumed():
    stepper = Stepper(
        f"""
        tasks:
          - id: pause
            type: {PAUSE}
            tasks:
              - id: sub
                type: {LOG}
                message: sub
          - id: last
            type: {LOG}
            message: last
        """
    )
    stepper.decide()
    assert [r.task_id for r in stepper.execution.task_runs] == ["pause"]
    stepper.apply(*resume(stepper.execution, stepper.spec))
    assert stepper.state("pause") is State.RUNNING
    stepper.decide()
    assert stepper.sent() == ["sub"]
    stepper.finish("sub")
    stepper.decide()
    assert stepper.state("pause") is State.SUCCESS
    assert stepper.sent() == ["last"]
    assert _histories(stepper, "pause") == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]


@pytest.mark.parametrize("name", ["delay", "pauseDuration"])
def test_it_resumes_by_itself_once_the_delay_is_over(name):
    stepper = Stepper(_pause_then(f"{name}: PT30S"))
    actions = stepper.decide()
    assert WakeUp(START + timedelta(seconds=30), "end of a pause") in actions
    stepper.clock.sleep(29)
    assert stepper.decide() == [WakeUp(START + timedelta(seconds=30), "end of a pause")]
    stepper.clock.sleep(1)
    stepper.decide()
    assert stepper.state("pause") is State.SUCCESS
    assert stepper.sent() == ["last"]


def test_it_renders_a_delay_given_as_an_expression():
    stepper = Stepper(_pause_then("delay: '{{ inputs.wait }}'"), inputs={"wait": "PT2M"})
    actions = stepper.decide()
    assert WakeUp(START + timedelta(minutes=2), "end of a pause") in actions


def test_it_fails_a_pause_whose_delay_is_not_a_duration():
    stepper = Stepper(_pause_then("delay: '{{ inputs.wait }}'"), inputs={"wait": "soon"})
    actions = stepper.decide()
    assert stepper.state("pause") is State.FAILED
    assert stepper.execution.current is State.FAILED
    assert "Invalid `delay` 'soon': expected an ISO-8601 duration" in _logs(actions)


def test_it_fails_the_pause_when_nobody_resumed_it_within_its_timeout():
    result = run(_pause_then("timeout: PT1S"))
    assert result.execution.current is State.FAILED
    pause_run = result.task_run("pause")
    assert [h.state.value for h in pause_run.state.histories] == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "FAILED",
    ]
    assert [r.task_id for r in result.execution.task_runs] == ["pause"]
    assert "Not resumed within its timeout (1s)" in [line.message for line in result.logs]


def test_it_lets_a_user_resume_a_pause_before_its_timeout():
    stepper = Stepper(_pause_then("timeout: PT1H"))
    stepper.decide()
    stepper.apply(*resume(stepper.execution, stepper.spec))
    stepper.decide()
    assert stepper.state("pause") is State.SUCCESS
    assert stepper.sent() == ["last"]


def test_it_prefers_the_delay_to_the_timeout():
    result = run(_pause_then("delay: PT1S\n        timeout: PT1S"))
    assert result.execution.current is State.SUCCESS


def test_it_gives_the_on_resume_values_as_the_pause_output():
    stepper = Stepper(
        f"""
        tasks:
          - id: pause
            type: {PAUSE}
            onResume:
              - id: asked
                type: STRING
          - id: last
            type: {OUTPUT}
            values:
              asked: "{{{{ outputs.pause.onResume.asked }}}}"
        """
    )
    stepper.decide()
    stepper.apply(*resume(stepper.execution, stepper.spec, {"asked": "yes"}))
    assert stepper.run_of("pause").outputs == {"onResume": {"asked": "yes"}}
    stepper.decide()
    assert stepper.sent() == ["last"]


def test_it_keeps_the_execution_paused_while_another_pause_waits():
    stepper = Stepper(
        f"""
        tasks:
          - id: both
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: first
                type: {PAUSE}
              - id: second
                type: {PAUSE}
          - id: last
            type: {LOG}
            message: last
        """
    )
    stepper.decide()
    assert stepper.state("first") is State.PAUSED
    assert stepper.state("second") is State.PAUSED
    assert first_paused(stepper.execution).task_id == "first"
    stepper.apply(*resume(stepper.execution, stepper.spec))
    assert stepper.execution.current is State.PAUSED
    assert stepper.decide() == []
    stepper.apply(*resume(stepper.execution, stepper.spec))
    stepper.decide()
    assert stepper.state("both") is State.SUCCESS
    assert stepper.sent() == ["last"]


def test_it_records_a_running_siblings_result_while_paused_and_starts_nothing():
    stepper = Stepper(
        f"""
        tasks:
          - id: both
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: wait
                type: {PAUSE}
                delay: PT1M
              - id: work
                type: {LOG}
                message: work
          - id: last
            type: {LOG}
            message: last
        """
    )
    stepper.decide()
    assert stepper.execution.current is State.PAUSED
    stepper.finish("work")
    actions = stepper.decide()
    assert stepper.state("work") is State.SUCCESS
    # the wake-up is asked again on every pass, so no later write loses it
    assert WakeUp(START + timedelta(minutes=1), "end of a pause") in actions
    assert stepper.sent() == []


def test_it_kills_a_paused_execution_and_its_pause():
    stepper = Stepper(_pause_then())
    stepper.decide()
    stepper.apply(*kill(stepper.execution))
    stepper.decide()
    assert stepper.state("pause") is State.KILLED
    assert stepper.execution.current is State.KILLED


def test_it_refuses_to_resume_an_execution_that_is_not_paused():
    stepper = Stepper(_pause_then())
    with pytest.raises(Conflict, match="is not paused, it is CREATED"):
        resume(stepper.execution, stepper.spec)


# --- manual pause ------------------------------------------------------------------------


TWO_TASKS = f"""
tasks:
  - id: first
    type: {LOG}
    message: one
  - id: second
    type: {LOG}
    message: two
"""


def test_it_records_results_but_starts_nothing_while_manually_paused():
    stepper = Stepper(TWO_TASKS)
    stepper.decide()
    stepper.apply(*pause(stepper.execution))
    stepper.finish("first")
    actions = stepper.decide()
    assert actions == [SetTaskRunState(stepper.run_of("first").id, State.SUCCESS)]
    assert [r.task_id for r in stepper.execution.task_runs] == ["first"]
    assert resume(stepper.execution, stepper.spec) == [SetExecutionState(State.RUNNING)]
    stepper.apply(*resume(stepper.execution, stepper.spec))
    stepper.decide()
    assert stepper.sent() == ["second"]


def test_it_leaves_a_retryable_failure_for_the_resume():
    stepper = Stepper(
        f"""
        tasks:
          - id: first
            type: {LOG}
            message: one
            retry:
              type: constant
              interval: PT1S
              maxAttempt: 2
          - id: second
            type: {LOG}
            message: two
        """
    )
    stepper.decide()
    stepper.apply(*pause(stepper.execution))
    stepper.finish("first", State.FAILED)
    assert stepper.decide() == []
    assert stepper.state("first") is State.RUNNING
    stepper.apply(*resume(stepper.execution, stepper.spec))
    stepper.decide()
    assert stepper.state("first") is State.RETRYING


# --- WaitFor -----------------------------------------------------------------------------


def _wait_for(condition: str, frequency: str = "", extra: str = "") -> str:
    return f"""
    tasks:
      - id: loop
        type: {WAIT_FOR}
        condition: "{condition}"
        {frequency}
        {extra}
        tasks:
          - id: step
            type: {OUTPUT}
            values:
              count: "{{{{ outputs.loop.iterationCount }}}}"
    """


def test_it_loops_until_the_condition_is_true_waiting_between_loops():
    stepper = Stepper(
        _wait_for(
            "{{ outputs.step.values.count == '3' }}", "checkFrequency:\n          interval: PT10S"
        )
    )
    stepper.decide()
    assert stepper.run_of("loop").outputs == {"iterationCount": 1}
    stepper.finish("step", outputs={"values": {"count": "1"}})
    actions = stepper.decide()
    assert stepper.state("loop") is State.PAUSED
    assert stepper.execution.current is State.PAUSED
    assert stepper.run_of("loop").outputs == {"iterationCount": 2}
    assert WakeUp(START + timedelta(seconds=10), "end of a pause") in actions
    stepper.clock.sleep(10)
    stepper.decide()
    assert stepper.execution.current is State.RUNNING
    assert stepper.sent() == ["step"]
    assert stepper.run_of("step").iteration == 2
    stepper.finish("step", outputs={"values": {"count": "2"}})
    stepper.decide()
    stepper.clock.sleep(10)
    stepper.decide()
    stepper.finish("step", outputs={"values": {"count": "3"}})
    stepper.decide()
    assert stepper.state("loop") is State.SUCCESS
    assert stepper.execution.current is State.SUCCESS
    assert [r.iteration for r in stepper.execution.task_runs] == [None, 1, 2, 3]
    assert stepper.run_of("loop").outputs == {"iterationCount": 3}


def test_it_renders_the_condition_with_the_loop_count_about_to_be_recorded():
    result = run(_wait_for("{{ outputs.loop.iterationCount == 3 }}"))
    assert result.execution.current is State.SUCCESS
    assert [r.iteration for r in result.execution.task_runs if r.task_id == "step"] == [1, 2]


@pytest.mark.parametrize(
    ("fail_on_max", "state"), [("true", State.FAILED), ("false", State.SUCCESS)]
)
def test_it_stops_at_max_iterations(fail_on_max, state):
    result = run(
        _wait_for(
            "{{ outputs.step.values.count == 'never' }}",
            "checkFrequency:\n          maxIterations: 3\n          interval: PT1S",
            f"failOnMaxReached: {fail_on_max}",
        )
    )
    assert result.execution.current is state
    assert len([r for r in result.execution.task_runs if r.task_id == "step"]) == 3
    if state is State.FAILED:
        assert "Max iterations reached (3)" in [line.message for line in result.logs]


def test_it_stops_at_max_duration():
    result = run(
        _wait_for(
            "{{ outputs.step.values.count == 'never' }}",
            "checkFrequency:\n          maxDuration: PT30S\n          interval: PT10S",
            "failOnMaxReached: true",
        )
    )
    assert result.execution.current is State.FAILED
    # loops start at 0, 10, 20, 30 and 40 s: after the one at 40 s, 30 s have passed
    assert len([r for r in result.execution.task_runs if r.task_id == "step"]) == 5
    assert any("Max duration reached" in line.message for line in result.logs)


def test_it_ends_the_loop_on_a_failing_child_and_runs_its_errors():
    result = run(
        f"""
        tasks:
          - id: loop
            type: {WAIT_FOR}
            condition: "{{{{ false }}}}"
            tasks:
              - id: boom
                type: {FAIL}
            errors:
              - id: handler
                type: {LOG}
                message: handled
        """
    )
    assert result.execution.current is State.FAILED
    assert states(result) == {"loop": "FAILED", "boom": "FAILED", "handler": "SUCCESS"}


def test_it_fails_the_wait_for_when_the_condition_cannot_render():
    result = run(_wait_for("{{ outputs.nothing.here }}"))
    assert result.execution.current is State.FAILED
    assert result.task_run("loop").current is State.FAILED
    assert any(line.message.startswith("Unable to render the condition") for line in result.logs)


def test_it_starts_the_next_loop_at_once_when_a_user_resumes_a_waiting_wait_for():
    stepper = Stepper(_wait_for("{{ false }}", "checkFrequency:\n          interval: PT1H"))
    stepper.decide()
    stepper.finish("step", outputs={"values": {"count": "1"}})
    stepper.decide()
    assert stepper.execution.current is State.PAUSED
    stepper.apply(*resume(stepper.execution, stepper.spec))
    assert stepper.execution.current is State.RUNNING
    stepper.decide()
    assert stepper.sent() == ["step"]
    assert stepper.run_of("step").iteration == 2


def test_it_kills_a_wait_for_between_loops():
    stepper = Stepper(_wait_for("{{ false }}"))
    stepper.decide()
    stepper.finish("step")
    stepper.decide()
    stepper.apply(*kill(stepper.execution))
    actions = stepper.decide()
    assert stepper.state("loop") is State.KILLED
    assert stepper.execution.current is State.KILLED
    assert not any(isinstance(action, KillTaskRun) for action in actions)


# --- the in-process runner -----------------------------------------------------------------


def test_the_runner_hands_a_paused_execution_to_on_pause_and_goes_on_with_its_answer():
    seen = []

    def on_pause(execution):
        seen.append(execution.current)
        return resume(execution, spec_holder[0]) if len(seen) == 1 else None

    spec_holder = []
    stepper = Stepper(_pause_then())
    spec_holder.append(stepper.spec)
    result = run(stepper.spec, on_pause=on_pause)
    assert seen == [State.PAUSED]
    assert result.execution.current is State.SUCCESS


def test_the_runner_returns_the_paused_execution_without_on_pause():
    result = run(_pause_then())
    assert result.execution.current is State.PAUSED
    assert states(result) == {"pause": "PAUSED"}


def test_the_legacy_pause_type_pauses_each_iteration_of_a_for_each():
    result = run(
        f"""
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: [1, 2, 3]
            concurrencyLimit: 0
            tasks:
              - id: wait
                type: io.kestra.core.tasks.flows.Pause
                delay: PT1S
              - id: log
                type: {LOG}
                message: hi
        """
    )
    assert result.execution.current is State.SUCCESS
    assert len(result.execution.task_runs) == 7  # Kestra's each-parallel-pause count
    assert [h.state.value for h in result.execution.state.histories] == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RESTARTED",
        "RUNNING",
        "SUCCESS",
    ]
