"""Restart, replay and change of a task run's state (executions/engine/restart.py), then the
decision function taking over: Kestra 0.20's ExecutionService rules, without a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from executions.engine.actions import RunTaskRun, StartAttempt
from executions.engine.apply import apply_actions
from executions.engine.decide import decide
from executions.engine.flow import FlowSpec
from executions.engine.model import Execution, Label, new_execution
from executions.engine.progress import progressed
from executions.engine.restart import change_status, mark_task_run, replay, restart
from executions.engine.runner import ManualClock
from executions.engine.states import State
from executions.engine.worker import run_attempt
from tenants.errors import Conflict, Unprocessable
from tests.executions.engine.fakes import Counter
from tests.executions.engine.helpers import START, flow

LOG = "io.kestra.plugin.core.log.Log"
FAIL = "io.kestra.plugin.core.execution.Fail"
RETURN = "io.kestra.plugin.core.debug.Return"

# Kestra's restart_last_failed: `c` fails on its first attempt only (`ko` is undefined).
LAST_FAILED = f"""
tasks:
  - id: a
    type: {LOG}
    message: a
  - id: b
    type: {LOG}
    message: b
  - id: c
    type: {LOG}
    message: "{{{{ taskrun.attemptsCount == 1 ? 'ok' : ko }}}}"
  - id: d
    type: {LOG}
    message: d
"""


class Driver:
    """Runs an execution to its end with the real renderer: decide, run what is sent."""

    def __init__(self, spec: FlowSpec) -> None:
        self.spec = spec
        self.clock = ManualClock(START)
        self.ids = Counter()

    def new(self, labels: tuple[Label, ...] = ()) -> Execution:
        return new_execution(
            execution_id="exec",
            namespace=self.spec.namespace,
            flow_id=self.spec.id,
            flow_revision=self.spec.revision,
            now=self.clock(),
            flow_labels=self.spec.labels,
            labels=labels,
        )

    def run(self, execution: Execution) -> Execution:
        for _ in range(500):
            self.clock.sleep(1)
            now = self.clock()
            actions = decide(self.spec, execution, now, ids=self.ids)
            execution = apply_actions(execution, actions, now)
            for action in actions:
                if isinstance(action, RunTaskRun):
                    execution = self.attempt(execution, action.task_run_id)
            if execution.current.terminated:
                return execution
            if not progressed(actions) and not any(isinstance(a, RunTaskRun) for a in actions):
                raise AssertionError(f"stuck in {execution.current}")
        raise AssertionError("did not end")

    def attempt(self, execution: Execution, task_run_id: str) -> Execution:
        execution = apply_actions(execution, [StartAttempt(task_run_id)], self.clock())
        outcome = run_attempt(self.spec, execution, task_run_id, clock=self.clock)
        return apply_actions(execution, [outcome.action], self.clock())

    def now(self):
        self.clock.sleep(1)
        return self.clock()


def _states(execution: Execution) -> list[tuple[str, str | None, str]]:
    return [(r.task_id, r.value, r.current.value) for r in execution.task_runs]


def _history(states) -> list[str]:
    return [entry.state.value for entry in states.histories]


# --- restart --------------------------------------------------------------------------------


def test_it_restarts_the_failed_task_as_a_new_attempt_of_the_same_execution():
    driver = Driver(flow(LAST_FAILED))
    failed = driver.run(driver.new())
    assert failed.current is State.FAILED
    assert len(failed.task_runs) == 3

    restarted = restart(driver.spec, failed, driver.now())

    assert restarted.id == failed.id
    assert restarted.current is State.RESTARTED
    assert _history(restarted.state) == ["CREATED", "RUNNING", "FAILED", "RESTARTED"]
    assert restarted.attempt_number == 2
    assert [r.id for r in restarted.task_runs] == [r.id for r in failed.task_runs]
    third = restarted.task_runs[2]
    assert third.current is State.RESTARTED
    assert _history(third.state) == ["CREATED", "RUNNING", "FAILED", "RESTARTED"]
    assert len(third.attempts) == 1  # the new attempt is appended when it runs

    ended = driver.run(restarted)

    assert ended.current is State.SUCCESS
    assert [r.task_id for r in ended.task_runs] == ["a", "b", "c", "d"]
    assert len(ended.task_run(third.id).attempts) == 2
    assert [a.state.current for a in ended.task_run(third.id).attempts] == [
        State.FAILED,
        State.SUCCESS,
    ]
    assert _history(ended.state)[3:] == ["RESTARTED", "RUNNING", "SUCCESS"]


def test_a_restart_on_another_revision_is_a_new_execution_linked_to_this_one():
    driver = Driver(flow(LAST_FAILED))
    failed = driver.run(driver.new(labels=(Label("team", "data"),)))
    revision_two = flow(LAST_FAILED.replace("message: d", "message: dd"))
    revision_two = FlowSpec.from_data(revision_two.data, revision=2)

    restarted = restart(revision_two, failed, driver.now(), new_execution_id="exec2")

    assert restarted.id == "exec2"
    assert restarted.parent_id == failed.id
    assert restarted.original_id == failed.id
    assert restarted.flow_revision == 2
    assert restarted.current is State.RESTARTED
    assert not {r.id for r in restarted.task_runs} & {r.id for r in failed.task_runs}
    assert _states(restarted) == [
        ("a", None, "SUCCESS"),
        ("b", None, "SUCCESS"),
        ("c", None, "RESTARTED"),
    ]
    assert restarted.label_map() == failed.label_map()


def test_a_restart_on_a_revision_without_the_tasks_is_refused():
    driver = Driver(flow(LAST_FAILED))
    failed = driver.run(driver.new())
    other = FlowSpec.from_data(
        flow(f"tasks:\n  - id: z\n    type: {LOG}\n    message: z\n").data, revision=3
    )
    with pytest.raises(Unprocessable) as caught:
        restart(other, failed, driver.now(), new_execution_id="exec2")
    assert "'a', 'b', 'c'" in caught.value.message
    assert caught.value.violations[0].path == "revision"


@pytest.mark.parametrize(
    ("_case", "state", "error", "words"),
    [
        ("running", State.RUNNING, Conflict, "RUNNING"),
        ("created", State.CREATED, Conflict, "CREATED"),
    ],
)
def test_it_refuses_to_restart_an_execution_that_has_not_ended(_case, state, error, words):
    driver = Driver(flow(LAST_FAILED))
    execution = driver.new()
    if state is not State.CREATED:
        execution = apply_actions(
            execution, decide(driver.spec, execution, driver.now()), driver.now()
        )
    with pytest.raises(error) as caught:
        restart(driver.spec, execution, driver.now())
    assert caught.value.status == 409
    assert words in caught.value.message


def test_a_manually_paused_execution_has_nothing_to_restart_from():
    from executions.engine.actions import SetExecutionState

    driver = Driver(flow(LAST_FAILED))
    execution = driver.new()
    execution = apply_actions(execution, decide(driver.spec, execution, driver.now()), driver.now())
    execution = apply_actions(execution, [SetExecutionState(State.PAUSED)], driver.now())
    with pytest.raises(Unprocessable) as caught:
        restart(driver.spec, execution, driver.now())
    assert "no FAILED or PAUSED task run" in caught.value.message


PAUSING = f"""
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT1H
  - id: after
    type: {LOG}
    message: after
"""


def test_a_paused_execution_restarts_from_its_pause_which_goes_on_as_if_resumed():
    """Kestra 0.20 restarts PAUSED executions too: the paused task run is RESTARTED, its
    wait is over, and the flow goes on."""
    driver = Driver(flow(PAUSING))
    execution = driver.new()
    for _ in range(10):
        execution = apply_actions(
            execution, decide(driver.spec, execution, driver.now()), driver.now()
        )
        if execution.current is State.PAUSED:
            break
    wait = execution.task_runs[0]
    assert (wait.task_id, wait.current) == ("wait", State.PAUSED)
    assert "resumeAt" in wait.engine_state
    restarted = restart(driver.spec, execution, driver.now())
    assert restarted.current is State.RESTARTED
    assert restarted.attempt_number == execution.attempt_number + 1
    wait = restarted.task_runs[0]
    assert wait.current is State.RESTARTED
    assert "resumeAt" not in wait.engine_state
    ended = driver.run(restarted)
    assert ended.current is State.SUCCESS
    assert [(run.task_id, run.current) for run in ended.task_runs] == [
        ("wait", State.SUCCESS),
        ("after", State.SUCCESS),
    ]
    assert [item.state for item in ended.task_runs[0].state.histories] == [
        State.CREATED,
        State.RUNNING,
        State.PAUSED,
        State.RESTARTED,
        State.RUNNING,
        State.SUCCESS,
    ]


def test_it_refuses_to_restart_an_execution_without_a_failed_task_run():
    driver = Driver(flow(f"tasks:\n  - id: a\n    type: {LOG}\n    message: a\n"))
    ended = driver.run(driver.new())
    with pytest.raises(Unprocessable) as caught:
        restart(driver.spec, ended, driver.now())
    assert caught.value.status == 422
    assert "No task found to restart execution exec from" in caught.value.message


def test_a_restart_resets_the_failed_parents_and_runs_the_other_iterations_no_more():
    spec = flow(
        f"""
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["x", "y"]
            tasks:
              - id: child
                type: {LOG}
                message: "{{{{ taskrun.value == 'y' and taskrun.attemptsCount == 0 ? ko : 'ok' }}}}"
          - id: after
            type: {LOG}
            message: after
        """
    )
    driver = Driver(spec)
    failed = driver.run(driver.new())
    assert _states(failed) == [
        ("each", None, "FAILED"),
        ("child", "x", "SUCCESS"),
        ("child", "y", "FAILED"),
    ]

    restarted = restart(spec, failed, driver.now())

    assert _states(restarted) == [
        ("each", None, "RESTARTED"),
        ("child", "x", "SUCCESS"),
        ("child", "y", "RESTARTED"),
    ]
    ended = driver.run(restarted)
    assert ended.current is State.SUCCESS
    assert _states(ended) == [
        ("each", None, "SUCCESS"),
        ("child", "x", "SUCCESS"),
        ("child", "y", "SUCCESS"),
        ("after", None, "SUCCESS"),
    ]
    x_run = ended.task_runs[1]
    assert len(x_run.attempts) == 1  # not run again
    assert _history(ended.task_runs[0].state) == [
        "CREATED",
        "RUNNING",
        "FAILED",
        "RESTARTED",
        "RUNNING",
        "SUCCESS",
    ]


def test_a_restart_drops_the_errors_branches_which_run_again_if_needed():
    spec = flow(
        f"""
        tasks:
          - id: boom
            type: {FAIL}
        errors:
          - id: alert
            type: {LOG}
            message: alert
        """
    )
    driver = Driver(spec)
    failed = driver.run(driver.new())
    assert [r.task_id for r in failed.task_runs] == ["boom", "alert"]

    restarted = restart(spec, failed, driver.now())

    assert _states(restarted) == [("boom", None, "RESTARTED")]
    ended = driver.run(restarted)
    assert ended.current is State.FAILED  # it fails again, and the errors branch runs again
    assert _states(ended) == [("boom", None, "FAILED"), ("alert", None, "SUCCESS")]
    assert len(ended.task_runs[0].attempts) == 2


def test_a_restarted_flowable_that_never_started_starts_again():
    spec = flow(
        """
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ missing }}"
            tasks:
              - id: child
                type: io.kestra.plugin.core.log.Log
                message: x
        """
    )
    driver = Driver(spec)
    failed = driver.run(driver.new())
    assert _states(failed) == [("each", None, "FAILED")]
    restarted = restart(spec, failed, driver.now())
    now = driver.now()
    actions = decide(spec, restarted, now)
    after = apply_actions(restarted, actions, now)
    # CREATED again, then its start is evaluated anew (and fails again: still undefined)
    assert _history(after.task_runs[0].state)[-3:] == ["RESTARTED", "CREATED", "FAILED"]
    assert after.current is State.FAILED


# --- replay ---------------------------------------------------------------------------------

FIVE = "tasks:\n" + "".join(
    f"  - id: t{n}\n    type: {LOG}\n    message: m{n}\n" for n in range(1, 6)
)


def test_it_replays_from_a_task_run_as_a_new_execution():
    driver = Driver(flow(FIVE))
    ended = driver.run(driver.new(labels=(Label("team", "data"),)))
    assert ended.current is State.SUCCESS
    chosen = ended.task_runs[1]

    replayed = replay(driver.spec, ended, chosen.id, driver.now(), new_execution_id="exec2")

    assert replayed.id == "exec2"
    assert replayed.parent_id == "exec"
    assert replayed.original_id == "exec"
    assert replayed.current is State.RESTARTED
    assert _history(replayed.state) == ["CREATED", "RUNNING", "SUCCESS", "RESTARTED"]
    assert _states(replayed) == [("t1", None, "SUCCESS"), ("t2", None, "RESTARTED")]
    assert replayed.task_runs[1].id != chosen.id
    assert _history(replayed.task_runs[1].state) == ["CREATED", "RUNNING", "SUCCESS", "RESTARTED"]
    assert replayed.label_map() == {"team": "data", "system.correlationId": "exec"}
    assert ended.current is State.SUCCESS  # the original is untouched

    again = driver.run(replayed)
    assert again.current is State.SUCCESS
    assert [r.task_id for r in again.task_runs] == ["t1", "t2", "t3", "t4", "t5"]
    assert len(again.task_runs[1].attempts) == 2


PARALLEL_NESTED = f"""
tasks:
  - id: 1_par
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: 1-1
        type: {RETURN}
        format: a
      - id: 1-2
        type: {RETURN}
        format: b
      - id: 1-3_par
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - id: 1-3-1
            type: {RETURN}
            format: c
          - id: 1-3-2_par
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - id: 1-3-2-1
                type: {RETURN}
                format: d
              - id: 1-3-2-2_end
                type: {RETURN}
                format: e
          - id: 1-3-3_end
            type: {RETURN}
            format: f
      - id: 1-4_end
        type: {RETURN}
        format: g
  - id: 2_end
    type: {RETURN}
    format: h
"""


def test_a_replay_keeps_the_parallel_branches_and_drops_what_follows():
    """Kestra's replayParallel: 11 task runs, replay from 1-3-2_par → 8."""
    driver = Driver(flow(PARALLEL_NESTED))
    ended = driver.run(driver.new())
    assert len(ended.task_runs) == 11
    chosen = next(r for r in ended.task_runs if r.task_id == "1-3-2_par")

    replayed = replay(driver.spec, ended, chosen.id, driver.now())

    kept = {r.task_id: r.current.value for r in replayed.task_runs}
    assert len(replayed.task_runs) == 8
    assert {"2_end", "1-3-2-1", "1-3-2-2_end"}.isdisjoint(kept)
    assert kept["1-3-2_par"] == "RESTARTED"
    assert kept["1_par"] == kept["1-3_par"] == "RESTARTED"
    assert kept["1-3-3_end"] == kept["1-4_end"] == kept["1-1"] == "SUCCESS"

    again = driver.run(replayed)
    assert again.current is State.SUCCESS
    assert len(again.task_runs) == 11
    par = next(r for r in again.task_runs if r.task_id == "1-3-2_par")
    assert _history(par.state)[-3:] == ["RESTARTED", "RUNNING", "SUCCESS"]


def _each(limit: int) -> str:
    return f"""
    tasks:
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        concurrencyLimit: {limit}
        values: ["s1", "s2", "s3"]
        tasks:
          - id: first
            type: {LOG}
            message: one
          - id: second
            type: {LOG}
            message: two
      - id: end
        type: {LOG}
        message: end
    """


@pytest.mark.parametrize(
    ("_case", "limit", "kept_values"),
    [("one value at a time", 1, {"s1"}), ("all values at once", 0, {"s1", "s2", "s3"})],
)
def test_a_replay_in_a_loop_drops_the_later_iterations_only_when_they_ran_after(
    _case, limit, kept_values
):
    driver = Driver(flow(_each(limit)))
    ended = driver.run(driver.new())
    chosen = next(r for r in ended.task_runs if r.task_id == "first" and r.value == "s1")

    replayed = replay(driver.spec, ended, chosen.id, driver.now())

    children = {(r.task_id, r.value) for r in replayed.task_runs if r.value is not None}
    assert ("second", "s1") not in children  # after it in its iteration
    assert {value for _, value in children} == kept_values
    assert not any(r.task_id == "end" for r in replayed.task_runs)
    again = driver.run(replayed)
    assert again.current is State.SUCCESS
    assert len(again.task_runs) == len(ended.task_runs)


def test_a_replay_in_a_dag_drops_the_tasks_depending_on_the_chosen_one():
    spec = flow(
        f"""
        tasks:
          - id: dag
            type: io.kestra.plugin.core.flow.Dag
            tasks:
              - task:
                  id: a
                  type: {LOG}
                  message: a
              - task:
                  id: b
                  type: {LOG}
                  message: b
                dependsOn: [a]
              - task:
                  id: c
                  type: {LOG}
                  message: c
              - task:
                  id: d
                  type: {LOG}
                  message: d
                dependsOn: [b]
        """
    )
    driver = Driver(spec)
    ended = driver.run(driver.new())
    chosen = next(r for r in ended.task_runs if r.task_id == "a")
    replayed = replay(spec, ended, chosen.id, driver.now())
    assert sorted(r.task_id for r in replayed.task_runs) == ["a", "c", "dag"]
    assert driver.run(replayed).current is State.SUCCESS


def test_a_replay_needs_an_ended_execution_and_one_of_its_task_runs():
    driver = Driver(flow(FIVE))
    execution = driver.new()
    running = apply_actions(execution, decide(driver.spec, execution, driver.now()), driver.now())
    with pytest.raises(Conflict):
        replay(driver.spec, running, running.task_runs[0].id, driver.now())
    ended = driver.run(driver.new())
    with pytest.raises(Unprocessable) as caught:
        replay(driver.spec, ended, "nope", driver.now())
    assert caught.value.violations[0].path == "taskRunId"


# --- change of a task run's state -----------------------------------------------------------

THREE_WITH_ERRORS = f"""
tasks:
  - id: one
    type: {LOG}
    message: one
  - id: boom
    type: {FAIL}
  - id: three
    type: {LOG}
    message: three
errors:
  - id: alert
    type: {LOG}
    message: alert
"""


def test_a_failure_forced_to_success_lets_the_flow_continue():
    spec = flow(THREE_WITH_ERRORS)
    driver = Driver(spec)
    failed = driver.run(driver.new())
    assert _states(failed) == [
        ("one", None, "SUCCESS"),
        ("boom", None, "FAILED"),
        ("alert", None, "SUCCESS"),
    ]
    boom = failed.task_runs[1]

    marked = mark_task_run(spec, failed, boom.id, State.SUCCESS, driver.now())

    assert marked.current is State.RESTARTED
    assert marked.attempt_number == failed.attempt_number
    assert _states(marked) == [("one", None, "SUCCESS"), ("boom", None, "SUCCESS")]
    assert marked.task_runs[1].attempts[-1].state.current is State.SUCCESS
    ended = driver.run(marked)
    assert ended.current is State.SUCCESS
    assert _states(ended) == [
        ("one", None, "SUCCESS"),
        ("boom", None, "SUCCESS"),
        ("three", None, "SUCCESS"),
    ]
    assert len(ended.task_runs[1].attempts) == 1  # not run again


def test_a_success_forced_to_failed_fails_the_execution_and_runs_its_errors():
    spec = flow(
        f"tasks:\n  - id: one\n    type: {LOG}\n    message: one\n"
        f"errors:\n  - id: alert\n    type: {LOG}\n    message: alert\n"
    )
    driver = Driver(spec)
    ended = driver.run(driver.new())
    marked = mark_task_run(spec, ended, ended.task_runs[0].id, State.FAILED, driver.now())
    again = driver.run(marked)
    assert again.current is State.FAILED
    assert _states(again) == [("one", None, "FAILED"), ("alert", None, "SUCCESS")]


def test_forcing_a_task_run_in_a_loop_re_decides_its_parents():
    spec = flow(
        f"""
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["x", "y"]
            tasks:
              - id: child
                type: {LOG}
                message: "{{{{ taskrun.value == 'y' ? ko : 'ok' }}}}"
        """
    )
    driver = Driver(spec)
    failed = driver.run(driver.new())
    y_run = next(r for r in failed.task_runs if r.value == "y")
    marked = mark_task_run(spec, failed, y_run.id, State.WARNING, driver.now())
    assert _states(marked)[0] == ("each", None, "RESTARTED")
    ended = driver.run(marked)
    assert ended.current is State.WARNING
    assert _states(ended) == [
        ("each", None, "WARNING"),
        ("child", "x", "SUCCESS"),
        ("child", "y", "WARNING"),
    ]


@pytest.mark.parametrize(
    ("_case", "target", "status", "words"),
    [
        ("not a forcible state", State.RUNNING, 422, "SUCCESS, WARNING, FAILED"),
        ("already in it", State.SUCCESS, 409, "already SUCCESS"),
    ],
)
def test_it_refuses_a_change_of_state_that_does_not_apply(_case, target, status, words):
    driver = Driver(flow(FIVE))
    ended = driver.run(driver.new())
    with pytest.raises((Conflict, Unprocessable)) as caught:
        mark_task_run(driver.spec, ended, ended.task_runs[0].id, target, driver.now())
    assert caught.value.status == status
    assert words in caught.value.message


def test_it_refuses_to_change_a_skipped_task_run_or_a_running_execution():
    spec = flow(f"tasks:\n  - id: s\n    type: {LOG}\n    message: s\n    runIf: 'false'\n")
    driver = Driver(spec)
    ended = driver.run(driver.new())
    assert ended.task_runs[0].current is State.SKIPPED
    with pytest.raises(Conflict) as caught:
        mark_task_run(spec, ended, ended.task_runs[0].id, State.SUCCESS, driver.now())
    assert "SKIPPED" in caught.value.message
    driver2 = Driver(flow(FIVE))
    execution = driver2.new()
    running = apply_actions(execution, decide(driver2.spec, execution, START), START)
    with pytest.raises(Conflict):
        mark_task_run(driver2.spec, running, running.task_runs[0].id, State.FAILED, START)


def test_dates_of_a_restart_are_the_given_now():
    driver = Driver(flow(LAST_FAILED))
    failed = driver.run(driver.new())
    at = START + timedelta(days=1)
    restarted = restart(driver.spec, failed, at)
    assert restarted.state.histories[-1].date == at
    assert restarted.task_runs[2].state.histories[-1].date == at


# --- change of an execution's status ---------------------------------------------------------


def test_an_ended_execution_gets_another_end_and_its_task_runs_stay():
    driver = Driver(flow(FIVE))
    ended = driver.run(driver.new())
    changed = change_status(ended, State.WARNING, driver.now())
    assert changed.current is State.WARNING
    assert _history(changed.state)[-2:] == ["SUCCESS", "WARNING"]
    assert changed.task_runs == ended.task_runs
    assert change_status(changed, State.WARNING, driver.now()) == changed  # the same end


@pytest.mark.parametrize(
    ("_case", "status", "running", "code"),
    [
        ("not an end", State.RUNNING, False, 422),
        ("skipped is no execution end", State.SKIPPED, False, 422),
        ("still running", State.FAILED, True, 409),
    ],
)
def test_it_refuses_a_status_change_that_does_not_apply(_case, status, running, code):
    driver = Driver(flow(FIVE))
    execution = driver.new()
    if running:
        execution = apply_actions(execution, decide(driver.spec, execution, START), START)
    else:
        execution = driver.run(execution)
    with pytest.raises((Conflict, Unprocessable)) as caught:
        change_status(execution, status, driver.now())
    assert caught.value.status == code
