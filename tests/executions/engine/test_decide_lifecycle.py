"""The decision function over an execution's life: timeouts, scheduling, kill, pause,
restart, flow outputs."""

from dataclasses import replace
from datetime import timedelta

from executions.engine.actions import (
    EmitLog,
    EndExecution,
    KillTaskRun,
    RunTaskRun,
    SetExecutionState,
    SetTaskRunState,
    WakeUp,
)
from executions.engine.commands import kill
from executions.engine.states import State
from tests.executions.engine.helpers import START, Stepper

LOG = "io.kestra.plugin.core.log.Log"
FAIL = "io.kestra.plugin.core.execution.Fail"

TWO_TASKS = f"""
tasks:
  - id: first
    type: {LOG}
    message: one
  - id: second
    type: {LOG}
    message: two
"""


def _logs(actions):
    return [a.message for a in actions if isinstance(a, EmitLog)]


def test_it_fails_an_attempt_past_its_timeout_and_asks_the_worker_to_stop():
    stepper = Stepper(f"tasks:\n  - id: slow\n    type: {LOG}\n    message: x\n    timeout: PT1S\n")
    stepper.decide()
    stepper.start("slow")
    actions = stepper.decide()
    assert actions == [WakeUp(START + timedelta(seconds=1), "task timeout")]
    stepper.clock.sleep(2)
    actions = stepper.decide()
    run_id = stepper.run_of("slow").id
    assert KillTaskRun(run_id) in actions
    assert "Timeout after 0:00:01.000" in _logs(actions)
    assert stepper.state("slow") is State.FAILED
    assert stepper.execution.current is State.FAILED


def test_it_waits_for_a_scheduled_start():
    stepper = Stepper(TWO_TASKS)
    later = START + timedelta(hours=1)
    stepper.execution = replace(stepper.execution, schedule_date=later)
    assert stepper.decide() == [WakeUp(later, "scheduled start")]
    stepper.clock.advance_to(later)
    stepper.decide()
    assert stepper.sent() == ["first"]


def test_it_kills_created_task_runs_and_the_execution_in_one_pass():
    stepper = Stepper(
        f"""
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: running
                type: {LOG}
                message: x
              - id: waiting
                type: {LOG}
                message: y
        """
    )
    stepper.decide()
    stepper.start("running")
    stepper.apply(*kill(stepper.execution))
    actions = stepper.decide()
    assert stepper.execution.current is State.KILLED  # correction 8: same pass
    assert stepper.state("waiting") is State.KILLED
    assert stepper.state("par") is State.KILLING
    assert KillTaskRun(stepper.run_of("running").id) in actions
    stepper.finish("running", State.KILLED)
    stepper.decide()
    assert stepper.state("running") is State.KILLED
    assert stepper.state("par") is State.KILLED


def test_it_renders_flow_outputs_at_the_end():
    stepper = Stepper(
        """
        tasks:
          - id: ret
            type: io.kestra.plugin.core.debug.Return
            format: x
        outputs:
          - id: out
            type: STRING
            value: "{{ outputs.ret.value }}"
        """
    )
    stepper.decide()
    stepper.finish("ret", outputs={"value": "hello"})
    actions = stepper.decide()
    assert EndExecution(State.SUCCESS, {"out": "hello"}) in actions
    assert stepper.execution.outputs == {"out": "hello"}


def test_it_fails_the_execution_when_flow_outputs_cannot_render():
    stepper = Stepper(
        f"""
        tasks:
          - id: t
            type: {LOG}
            message: x
        outputs:
          - id: out
            type: STRING
            value: "{{{{ invalid }}}}"
        """
    )
    stepper.decide()
    stepper.finish("t")
    actions = stepper.decide()
    assert EndExecution(State.FAILED, None) in actions
    assert any(m.startswith("Failed to render output values") for m in _logs(actions))


def test_it_sends_nothing_more_once_the_execution_ended():
    stepper = Stepper(f"tasks:\n  - id: t\n    type: {LOG}\n    message: x\n")
    stepper.decide()
    stepper.finish("t")
    stepper.decide()
    assert stepper.decide() == []
    assert not any(isinstance(a, RunTaskRun) for a in stepper.actions)


def test_it_runs_restarted_task_runs_again_as_new_attempts():
    stepper = Stepper(f"tasks:\n  - id: boom\n    type: {FAIL}\n")
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.execution.current is State.FAILED
    # a restart (outside the engine core) resets the failed task run and the execution
    stepper.apply(
        SetTaskRunState(stepper.run_of("boom").id, State.RESTARTED),
        SetExecutionState(State.RESTARTED),
    )
    actions = stepper.decide()
    assert "Flow restarted" in _logs(actions)
    assert stepper.sent() == ["boom"]
    stepper.finish("boom")
    stepper.decide()
    assert len(stepper.run_of("boom").attempts) == 2
    assert stepper.execution.current is State.SUCCESS
