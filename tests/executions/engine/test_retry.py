"""Retries: delays, limits, warningOnRetry, allowFailure after retries, new executions."""

from datetime import timedelta

import pytest

from executions.engine.actions import RetryExecution, RunTaskRun, ScheduleRetry
from executions.engine.flow import RetryPolicy
from executions.engine.retry import retry_delay
from executions.engine.states import State
from tests.executions.engine.helpers import START, Stepper, run

FAIL = "io.kestra.plugin.core.execution.Fail"
LOG = "io.kestra.plugin.core.log.Log"


def _fail_with(retry: str, extra: str = "") -> str:
    return f"tasks:\n  - id: boom\n    type: {FAIL}\n{extra}    retry:\n{retry}"


CONSTANT = "      type: constant\n      interval: PT10S\n      maxAttempt: 3\n"


def test_it_schedules_a_retry_on_the_same_task_run():
    stepper = Stepper(_fail_with(CONSTANT))
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    actions = stepper.decide()
    run_id = stepper.run_of("boom").id
    assert ScheduleRetry(run_id, START + timedelta(seconds=10)) in actions
    assert stepper.state("boom") is State.RETRYING
    assert stepper.execution.current is State.RETRYING
    assert stepper.decide() == []  # not due yet
    stepper.clock.sleep(10)
    actions = stepper.decide()
    assert RunTaskRun(run_id) in actions
    assert stepper.state("boom") is State.CREATED
    assert stepper.execution.current is State.RUNNING
    assert len(stepper.execution.task_runs) == 1


def test_it_stops_retrying_after_max_attempt_counting_the_first():
    result = run(_fail_with(CONSTANT))
    [boom] = result.execution.task_runs
    assert len(boom.attempts) == 3
    assert [a.state.current for a in boom.attempts] == [State.FAILED] * 3
    assert [a.state.start_date - START for a in boom.attempts] == [
        timedelta(0),
        timedelta(seconds=10),
        timedelta(seconds=20),
    ]
    assert result.execution.current is State.FAILED


def test_it_stops_retrying_past_max_duration():
    retry = "      type: constant\n      interval: PT10S\n      maxDuration: PT25S\n"
    result = run(_fail_with(retry))
    assert len(result.execution.task_runs[0].attempts) == 3  # at 0s, 10s, 20s; 30s > 25s


@pytest.mark.parametrize(
    ("_case", "policy", "delays"),
    [
        ("constant", RetryPolicy("constant", interval=timedelta(seconds=2)), [2, 2, 2]),
        (
            "exponential, correction 14",
            RetryPolicy(
                "exponential",
                interval=timedelta(seconds=1),
                max_interval=timedelta(seconds=6),
                delay_factor=2,
            ),
            [1, 2, 4, 6],
        ),
        (
            "fractional factor is kept",
            RetryPolicy(
                "exponential",
                interval=timedelta(seconds=10),
                max_interval=timedelta(minutes=5),
                delay_factor=1.5,
            ),
            [10, 15, 22.5],
        ),
    ],
)
def test_it_computes_retry_delays(_case, policy, delays):
    got = [retry_delay(policy, n).total_seconds() for n in range(1, len(delays) + 1)]
    assert got == delays


def test_it_draws_random_delays_within_bounds_and_reproducibly():
    policy = RetryPolicy(
        "random", min_interval=timedelta(seconds=1), max_interval=timedelta(seconds=5)
    )
    delays = [retry_delay(policy, n, "tr-1") for n in range(1, 20)]
    assert all(timedelta(seconds=1) <= d < timedelta(seconds=5) for d in delays)
    assert len(set(delays)) > 1
    assert delays == [retry_delay(policy, n, "tr-1") for n in range(1, 20)]


def test_it_turns_a_success_after_a_retry_into_a_warning_with_warning_on_retry():
    retry = CONSTANT + "      warningOnRetry: true\n"
    stepper = Stepper(_fail_with(retry))
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    stepper.clock.sleep(10)
    stepper.decide()
    stepper.finish("boom", State.SUCCESS)  # attempt 2 (correction 5: not only from 3)
    stepper.decide()
    assert stepper.state("boom") is State.WARNING
    assert stepper.execution.current is State.WARNING


def test_it_keeps_a_first_attempt_success_a_success_with_warning_on_retry():
    stepper = Stepper(_fail_with(CONSTANT + "      warningOnRetry: true\n"))
    stepper.decide()
    stepper.finish("boom", State.SUCCESS)
    stepper.decide()
    assert stepper.execution.current is State.SUCCESS


def test_it_applies_allow_failure_only_once_retries_are_exhausted():
    result = run(_fail_with(CONSTANT, "    allowFailure: true\n"))
    [boom] = result.execution.task_runs
    assert len(boom.attempts) == 3
    assert boom.current is State.WARNING
    assert result.execution.current is State.WARNING


def test_it_retries_an_allowed_failure_with_the_flow_level_retry():
    result = run(
        f"""
        retry:
          type: constant
          interval: PT1S
          maxAttempt: 4
        tasks:
          - id: boom
            type: {FAIL}
            allowFailure: true
        """
    )
    [boom] = result.execution.task_runs
    assert len(boom.attempts) == 4  # correction 7: 0.20.7 would turn it WARNING at once
    assert boom.current is State.WARNING


def test_it_retries_a_child_with_the_retry_of_its_flowable():
    result = run(
        f"""
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            retry:
              type: constant
              interval: PT1S
              maxAttempt: 3
            tasks:
              - id: boom
                type: {FAIL}
        """
    )
    assert len(result.task_run("boom").attempts) == 3
    assert result.task_run("seq").attempts == ()


def test_it_does_not_let_a_flowable_conclude_while_a_child_is_retrying():
    stepper = Stepper(
        f"""
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: boom
                type: {FAIL}
                retry:
                  type: constant
                  interval: PT5S
                  maxAttempt: 2
              - id: fine
                type: {LOG}
                message: ok
        """
    )
    stepper.decide()
    stepper.finish("fine")
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.state("boom") is State.RETRYING
    assert stepper.state("par") is State.RUNNING
    stepper.clock.sleep(5)
    stepper.decide()
    stepper.finish("boom", State.SUCCESS)
    stepper.decide()
    assert stepper.state("par") is State.SUCCESS
    assert stepper.execution.current is State.SUCCESS


def test_it_retries_in_a_new_execution_with_create_new_execution():
    retry = CONSTANT + "      behavior: CREATE_NEW_EXECUTION\n"
    stepper = Stepper(_fail_with(retry))
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    actions = stepper.decide()
    run_id = stepper.run_of("boom").id
    assert RetryExecution(run_id, START + timedelta(seconds=10)) in actions
    assert stepper.state("boom") is State.RETRIED
    assert stepper.execution.current is State.RETRIED
    assert stepper.execution.current.terminated


def test_it_ends_retried_retried_failed_with_create_new_execution():
    retry = CONSTANT + "      behavior: CREATE_NEW_EXECUTION\n"
    result = run(_fail_with(retry))
    assert [e.current for e in result.executions] == [State.RETRIED, State.RETRIED, State.FAILED]
    assert [e.attempt_number for e in result.executions] == [1, 2, 3]
    first, second, third = result.executions
    assert second.parent_id == first.id
    assert third.parent_id == second.id
    assert third.original_created_date == first.original_created_date
    assert [len(e.task_runs) for e in result.executions] == [1, 1, 1]
