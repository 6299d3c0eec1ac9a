"""Flow SLAs in the engine: reading them, EXECUTION_ASSERTION on every pass, what a violation
does (correction 9: only unfinished task runs change), MAX_DURATION on the runner's clock."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from executions.engine.actions import (
    Action,
    AddLabels,
    EmitLog,
    FinishAttempt,
    SetExecutionState,
    SetTaskRunState,
    SlaViolated,
    StartAttempt,
)
from executions.engine.apply import apply_actions
from executions.engine.commands import kill
from executions.engine.decide import decide
from executions.engine.local import EXIT_FAILED, run_flow_file
from executions.engine.model import Label
from executions.engine.rendering import expressions_renderer
from executions.engine.sla import (
    Sla,
    Violation,
    deadlines,
    max_duration_violation,
    slas_of,
    violation_actions,
)
from executions.engine.states import EXECUTION_TRANSITIONS, State
from tests.executions.engine.helpers import START, Stepper, flow, run

LOG = "io.kestra.plugin.core.log.Log"
SLEEP = "io.kestra.plugin.core.flow.Sleep"


def _run(body: str, inputs: dict | None = None, **options):
    options.setdefault("renderer", expressions_renderer)
    return run(flow(body), inputs, **options)


def _sla_lines(result) -> list[tuple[str, str]]:
    return [(line.level, line.message) for line in result.logs if "SLA" in line.message]


def test_it_reads_each_sla_with_its_position_labels_and_kind():
    slas = slas_of(
        [
            {"id": "a", "type": "MAX_DURATION", "behavior": "FAIL", "duration": "PT1M"},
            {
                "id": "a",
                "type": "EXECUTION_ASSERTION",
                "behavior": "NONE",
                "assert": "{{ true }}",
                "labels": {"sla": "late", "on": True},
            },
            {
                "id": "b",
                "type": "EXECUTION_ASSERTION",
                "behavior": "CANCEL",
                "assert": "{{ true }}",
                "labels": [{"key": "k", "value": "v"}],
            },
        ]
    )
    assert [(s.position, s.id, s.type, s.behavior) for s in slas] == [
        (0, "a", "MAX_DURATION", "FAIL"),
        (1, "a", "EXECUTION_ASSERTION", "NONE"),
        (2, "b", "EXECUTION_ASSERTION", "CANCEL"),
    ]
    assert slas[0].duration == timedelta(minutes=1)
    assert slas[0].assertion is None
    assert slas[1].labels == (Label("sla", "late"), Label("on", "true"))
    assert slas[2].labels == (Label("k", "v"),)
    assert [s.ends_as for s in slas] == [State.FAILED, None, State.CANCELLED]


def test_a_flow_without_sla_has_none():
    assert flow(f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n").sla == ()


def test_a_false_assertion_with_fail_ends_only_the_unfinished_task_runs():
    # given a flow whose first task ends SUCCESS, then starts two parallel sleeps
    spec = flow(
        f"""\
        sla:
          - id: stop
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{{{ outputs.first is not defined or outputs.parallel is not defined }}}}"
            labels:
              sla: failed
        tasks:
          - id: first
            type: io.kestra.plugin.core.debug.Return
            format: done
          - id: parallel
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: slow
                type: {SLEEP}
                duration: PT1M
              - id: waiting
                type: {SLEEP}
                duration: PT1M
        """
    )
    stepper = Stepper(spec)
    _decide(stepper)
    first = stepper.run_of("first")
    stepper.apply(*_attempt(first.id, State.SUCCESS, {"value": "done"}))
    _decide(stepper)  # `first` SUCCESS, the Parallel and its two sleeps start
    slow = stepper.run_of("slow")
    stepper.apply(StartAttempt(slow.id))  # a worker runs `slow`; `waiting` is still CREATED
    # when the executor decides again, `outputs.parallel` exists: the assertion is false
    actions = _decide(stepper)
    execution = stepper.execution
    # then the execution FAILED with its unfinished task runs only; `first` stays SUCCESS
    assert execution.current is State.FAILED
    assert {r.task_id: r.current for r in execution.task_runs} == {
        "first": State.SUCCESS,
        "parallel": State.FAILED,
        "slow": State.FAILED,
        "waiting": State.FAILED,
    }
    assert first.id in {r.id for r in execution.task_runs}
    assert execution.task_run(first.id).state.count(State.FAILED) == 0
    # the running attempt ended KILLED: its worker sees the task run is not RUNNING and stops
    assert [a.state.current for a in stepper.run_of("slow").attempts] == [State.KILLED]
    assert Label("sla", "failed") in execution.labels
    reason = (
        "assertion is false: {{ outputs.first is not defined or outputs.parallel is not defined }}."
    )
    assert [(a.level, a.message) for a in actions if isinstance(a, EmitLog)] == [
        ("WARN", f"SLA 'stop' violated: {reason}"),
        ("ERROR", f"Execution failed due to SLA 'stop' violated: {reason}"),
    ]


def test_cancel_ends_as_cancelled_without_the_failure_line():
    result = _run(
        f"""\
        sla:
          - id: never
            type: EXECUTION_ASSERTION
            behavior: CANCEL
            assert: "{{{{ false }}}}"
        tasks:
          - id: a
            type: {LOG}
            message: x
        """
    )
    assert result.execution.current is State.CANCELLED
    assert result.execution.task_runs == ()
    assert _sla_lines(result) == [
        ("WARN", "SLA 'never' violated: assertion is false: {{ false }}.")
    ]


def test_none_adds_its_labels_once_and_the_execution_goes_on():
    # given an assertion false from the second task on, through several later changes
    result = _run(
        f"""\
        sla:
          - id: watch
            type: EXECUTION_ASSERTION
            behavior: NONE
            assert: "{{{{ outputs.one is not defined }}}}"
            labels:
              - key: sla
                value: missed
        tasks:
          - id: one
            type: {LOG}
            message: x
          - id: two
            type: {LOG}
            message: x
          - id: three
            type: {LOG}
            message: x
        """
    )
    assert result.execution.current is State.SUCCESS
    assert [r.current for r in result.execution.task_runs] == [State.SUCCESS] * 3
    assert result.execution.labels.count(Label("sla", "missed")) == 1
    assert _sla_lines(result) == [
        ("WARN", "SLA 'watch' violated: assertion is false: {{ outputs.one is not defined }}.")
    ]
    assert result.execution.sla_violated == frozenset({0})


def test_of_several_violated_at_once_only_the_first_acts_and_all_are_logged():
    result = _run(
        f"""\
        sla:
          - id: first
            type: EXECUTION_ASSERTION
            behavior: NONE
            assert: "{{{{ false }}}}"
            labels:
              which: first
          - id: holds
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{{{ true }}}}"
          - id: second
            type: EXECUTION_ASSERTION
            behavior: CANCEL
            assert: "0"
            labels:
              which: second
        tasks:
          - id: a
            type: {LOG}
            message: x
        """
    )
    # the CANCEL one is violated too, but only logged: the NONE one came first
    assert result.execution.current is State.SUCCESS
    assert Label("which", "first") in result.execution.labels
    assert all(label.key != "which" or label.value == "first" for label in result.execution.labels)
    assert _sla_lines(result) == [
        ("WARN", "SLA 'first' violated: assertion is false: {{ false }}."),
        ("WARN", "SLA 'second' violated: assertion is false: 0."),
    ]


def test_an_assertion_that_cannot_render_is_ignored_until_it_can():
    # `outputs.one.value` does not exist until `one` has run: the SLA is ignored meanwhile
    result = _run(
        f"""\
        sla:
          - id: early
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{{{ outputs.one.value != 'stop' }}}}"
        tasks:
          - id: one
            type: io.kestra.plugin.core.debug.Return
            format: stop
          - id: two
            type: {LOG}
            message: never runs
        """
    )
    assert result.execution.current is State.FAILED
    assert [r.task_id for r in result.execution.task_runs] == ["one"]
    assert result.task_run("one").current is State.SUCCESS
    lines = _sla_lines(result)
    ignored = [m for level, m in lines if level == "ERROR" and m.startswith("Ignoring SLA")]
    assert ignored
    assert all(m.startswith("Ignoring SLA 'early' because of the error: ") for m in ignored)
    assert lines[-2:] == [
        ("WARN", "SLA 'early' violated: assertion is false: {{ outputs.one.value != 'stop' }}."),
        (
            "ERROR",
            "Execution failed due to SLA 'early' violated: assertion is false: "
            "{{ outputs.one.value != 'stop' }}.",
        ),
    ]


def test_a_paused_execution_is_still_checked_and_its_pause_fails():
    spec = flow(
        f"""\
        inputs:
          - id: stop
            type: BOOLEAN
            defaults: false
        sla:
          - id: stopped
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{{{ labels.stop is not defined }}}}"
        tasks:
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
          - id: after
            type: {LOG}
            message: x
        """
    )
    stepper = Stepper(spec)
    _decide(stepper)
    assert stepper.execution.current is State.PAUSED
    # a label set meanwhile (a user's), then the executor looks again
    stepper.apply(AddLabels((Label("stop", "now"),)))
    _decide(stepper)
    assert stepper.execution.current is State.FAILED
    assert [r.current for r in stepper.execution.task_runs] == [State.FAILED]


def test_a_retrying_task_run_fails_with_its_execution():
    spec = flow(
        f"""\
        sla:
          - id: no-retry
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{{{ labels.stop is not defined }}}}"
        tasks:
          - id: flaky
            type: {LOG}
            message: x
            retry:
              type: constant
              interval: PT1M
              maxAttempt: 3
        """
    )
    stepper = Stepper(spec)
    _decide(stepper)
    flaky = stepper.run_of("flaky")
    stepper.apply(*_attempt(flaky.id, State.FAILED))
    _decide(stepper)  # the retry is scheduled: RETRYING
    assert stepper.execution.current is State.RETRYING
    stepper.apply(AddLabels((Label("stop", "now"),)))  # a user's label, meanwhile
    _decide(stepper)
    assert stepper.execution.current is State.FAILED
    assert stepper.run_of("flaky").current is State.FAILED


def test_a_killing_execution_is_not_checked():
    spec = flow(
        f"""\
        sla:
          - id: never
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{{{ false }}}}"
        tasks:
          - id: a
            type: {SLEEP}
            duration: PT1M
        """
    )
    stepper = Stepper(spec)
    stepper.apply(SetExecutionState(State.RUNNING), *kill(stepper.execution))
    _decide(stepper)
    assert stepper.execution.current is State.KILLED
    assert stepper.execution.sla_violated == frozenset()


def test_violation_actions_leave_ended_and_killing_task_runs_alone():
    spec = flow(f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n")
    stepper = Stepper(spec)
    stepper.decide()
    run_id = stepper.run_of("a").id
    stepper.apply(*_attempt(run_id, State.SUCCESS))
    stepper.apply(SetTaskRunState(run_id, State.SUCCESS))
    sla = Sla(0, "x", "EXECUTION_ASSERTION", "FAIL", assertion="0")
    actions = violation_actions(
        [Violation(sla, "r")], stepper.execution.current, stepper.execution.task_runs
    )
    assert [type(a) for a in actions] == [EmitLog, SlaViolated, EmitLog, SetExecutionState]
    ended = violation_actions([Violation(sla, "r")], State.SUCCESS, ())
    assert [type(a) for a in ended] == [EmitLog, SlaViolated]  # logged, nothing else


# --- MAX_DURATION -------------------------------------------------------------------------


def _max_duration(behavior: str, duration: str = "PT10S", sleep: str = "PT1M") -> str:
    return f"""\
        sla:
          - id: slow
            type: MAX_DURATION
            behavior: {behavior}
            duration: {duration}
            labels:
              sla: slow
        tasks:
          - id: sleep
            type: {SLEEP}
            duration: {sleep}
          - id: after
            type: {LOG}
            message: x
        """


def test_max_duration_stops_the_running_task_and_fails_the_execution():
    result = _run(_max_duration("FAIL"))
    assert result.execution.current is State.FAILED
    sleep = result.task_run("sleep")
    assert sleep.current is State.FAILED
    assert [a.state.current for a in sleep.attempts] == [State.KILLED]
    # stopped at its first check past the deadline (Sleep checks every second)
    assert sleep.state.end_date == START + timedelta(seconds=10)
    assert [r.task_id for r in result.execution.task_runs] == ["sleep"]
    assert Label("sla", "slow") in result.execution.labels
    reason = "execution duration of PT10S exceed the maximum duration of PT10S."
    assert _sla_lines(result) == [
        ("WARN", f"SLA 'slow' violated: {reason}"),
        ("ERROR", f"Execution failed due to SLA 'slow' violated: {reason}"),
    ]


def test_max_duration_none_labels_the_execution_and_lets_it_finish():
    result = _run(_max_duration("NONE", sleep="PT30S"))
    assert result.execution.current is State.SUCCESS
    assert [r.current for r in result.execution.task_runs] == [State.SUCCESS, State.SUCCESS]
    assert Label("sla", "slow") in result.execution.labels
    assert [level for level, _ in _sla_lines(result)] == ["WARN"]


def test_max_duration_ends_an_execution_paused_until_a_user_resumes_it():
    result = _run(
        """\
        sla:
          - id: approval
            type: MAX_DURATION
            behavior: CANCEL
            duration: PT1H
        tasks:
          - id: approve
            type: io.kestra.plugin.core.flow.Pause
        """
    )
    assert result.execution.current is State.CANCELLED
    assert result.task_run("approve").current is State.CANCELLED
    assert result.execution.state.end_date == START + timedelta(hours=1)


def test_max_duration_within_its_limit_changes_nothing():
    result = _run(_max_duration("FAIL", duration="PT2M"))
    assert result.execution.current is State.SUCCESS
    assert _sla_lines(result) == []


def test_deadlines_start_at_a_later_scheduled_date_and_skip_restarted_executions():
    spec = flow(_max_duration("FAIL", duration="PT1M"))
    stepper = Stepper(spec)
    created = stepper.execution
    [(sla, at)] = deadlines(spec.sla, created)
    assert (sla.id, at) == ("slow", START + timedelta(minutes=1))
    later = START + timedelta(hours=2)
    scheduled = replace(created, schedule_date=later)
    assert deadlines(spec.sla, scheduled)[0][1] == later + timedelta(minutes=1)
    ended = created.state.moved_to(State.KILLED, START, EXECUTION_TRANSITIONS)
    restarted = replace(
        created, state=ended.moved_to(State.RESTARTED, START, EXECUTION_TRANSITIONS)
    )
    assert deadlines(spec.sla, restarted) == []


def test_the_reason_gives_the_time_since_the_start_to_the_millisecond():
    spec = flow(_max_duration("FAIL", duration="P1D"))
    execution = Stepper(spec).execution
    now = START + timedelta(days=1, seconds=3, microseconds=123_456)
    violation = max_duration_violation(spec.sla[0], execution, now)
    assert violation.reason == (
        "execution duration of PT24H3.123S exceed the maximum duration of PT24H."
    )


def test_flow_test_stops_a_run_past_its_max_duration_on_the_real_clock():
    source = (
        "id: slow\nnamespace: company.team\nsla:\n  - id: quick\n    type: MAX_DURATION\n"
        "    behavior: FAIL\n    duration: PT0.2S\ntasks:\n  - id: nap\n"
        f"    type: {SLEEP}\n    duration: PT30S\n"
    )
    began = time.monotonic()
    local = run_flow_file(source, {})
    assert time.monotonic() - began < 5  # the 30 s sleep was stopped
    assert local.exit_code == EXIT_FAILED
    assert local.document is not None
    assert local.document["state"]["current"] == "FAILED"
    assert [r["state"]["current"] for r in local.document["taskRunList"]] == ["FAILED"]
    messages = [line["message"] for line in local.document["logs"]]
    assert any(m.startswith("Execution failed due to SLA 'quick' violated: ") for m in messages)


# --- helpers ------------------------------------------------------------------------------


def _decide(stepper: Stepper) -> list[Action]:
    """A decision with the real expression language."""
    now = stepper.clock()
    stepper.actions = decide(
        stepper.spec, stepper.execution, now, renderer=expressions_renderer, ids=stepper.ids
    )
    stepper.execution = apply_actions(stepper.execution, stepper.actions, now)
    return stepper.actions


def _attempt(task_run_id: str, state: State, outputs: dict | None = None) -> list[Action]:
    return [StartAttempt(task_run_id), FinishAttempt(task_run_id, state, outputs or {})]
