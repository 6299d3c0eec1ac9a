"""Commands from users and workers: idempotent claims and results, kill, pause, resume."""

import pytest

from executions.engine.actions import FinishAttempt, RunTaskRun, SetExecutionState, StartAttempt
from executions.engine.commands import accept_result, claim, kill, pause, redispatch, resume
from executions.engine.states import InvalidTransition, State
from tenants.errors import Conflict, Unprocessable
from tests.executions.engine.helpers import Stepper

LOG = "io.kestra.plugin.core.log.Log"
ONE = f"tasks:\n  - id: t\n    type: {LOG}\n    message: x\n"


def test_it_lets_a_worker_claim_a_created_task_run_once():
    stepper = Stepper(ONE)
    stepper.decide()
    run_id = stepper.run_of("t").id
    assert claim(stepper.execution, run_id) == [StartAttempt(run_id)]
    stepper.apply(*claim(stepper.execution, run_id))
    assert claim(stepper.execution, run_id) == []  # a duplicate delivery does nothing
    assert stepper.state("t") is State.RUNNING
    assert len(stepper.run_of("t").attempts) == 1


def test_it_accepts_a_worker_result_once_for_the_running_attempt():
    stepper = Stepper(ONE)
    stepper.decide()
    stepper.start("t")
    result = FinishAttempt(stepper.run_of("t").id, State.SUCCESS, {"a": 1})
    assert accept_result(stepper.execution, result, attempt_number=2) == []  # stale
    assert accept_result(stepper.execution, result, attempt_number=1) == [result]
    stepper.apply(result)
    assert accept_result(stepper.execution, result, attempt_number=1) == []  # duplicate
    assert stepper.run_of("t").outputs == {"a": 1}


def test_it_refuses_to_finish_an_attempt_that_is_not_running():
    stepper = Stepper(ONE)
    stepper.decide()
    with pytest.raises(InvalidTransition, match="no running attempt"):
        stepper.apply(FinishAttempt(stepper.run_of("t").id, State.SUCCESS))


def test_it_sends_created_task_runs_again_for_a_sweeper():
    stepper = Stepper(ONE)
    stepper.decide()
    run_id = stepper.run_of("t").id
    assert redispatch(stepper.execution, lambda task_id: True) == [RunTaskRun(run_id)]
    stepper.start("t")
    assert redispatch(stepper.execution, lambda task_id: True) == []


def test_it_kills_any_unfinished_execution_but_not_a_finished_one():
    stepper = Stepper(ONE)
    assert kill(stepper.execution) == [SetExecutionState(State.KILLING)]
    stepper.decide()
    stepper.finish("t")
    stepper.decide()
    with pytest.raises(Conflict):
        kill(stepper.execution)


def test_it_pauses_only_a_running_execution_and_resumes_only_a_paused_one():
    stepper = Stepper(ONE)
    with pytest.raises(Unprocessable, match="The execution is not running"):
        pause(stepper.execution)
    with pytest.raises(Conflict):
        resume(stepper.execution)
    stepper.decide()
    stepper.apply(*pause(stepper.execution))
    assert stepper.execution.current is State.PAUSED
    stepper.apply(*resume(stepper.execution))
    assert stepper.execution.current is State.RUNNING
