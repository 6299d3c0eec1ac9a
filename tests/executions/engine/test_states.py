from datetime import UTC, datetime, timedelta

import pytest

from executions.engine.states import (
    EXECUTION_TRANSITIONS,
    TASK_RUN_TRANSITIONS,
    TERMINATED,
    InvalidTransition,
    State,
    StateHistory,
    check_transition,
    final_state,
)

T0 = datetime(2024, 12, 20, tzinfo=UTC)


def test_it_has_kestras_fourteen_states_and_no_breakpoint():
    assert len(State) == 14
    assert "BREAKPOINT" not in State.__members__


@pytest.mark.parametrize(
    ("_case", "predicate", "members"),
    [
        ("terminated", "terminated", TERMINATED),
        ("created", "created", {State.CREATED, State.RESTARTED}),
        ("running", "running", {State.RUNNING, State.KILLING}),
        ("paused", "paused", {State.PAUSED}),
        ("retrying", "retrying", {State.RETRYING, State.RETRIED}),
        ("failed", "failed", {State.FAILED}),
        ("restartable", "restartable", {State.FAILED, State.PAUSED}),
        (
            "resumable",
            "resumable",
            {State.PAUSED, State.RETRYING, State.RETRIED, State.CREATED, State.RESTARTED},
        ),
    ],
)
def test_it_answers_each_predicate_like_kestra(_case, predicate, members):
    assert {state for state in State if getattr(state, predicate)} == set(members)


def test_it_lists_seven_terminal_states():
    assert {
        State.SUCCESS,
        State.WARNING,
        State.FAILED,
        State.KILLED,
        State.CANCELLED,
        State.RETRIED,
        State.SKIPPED,
    } == TERMINATED


def test_it_appends_a_dated_history_entry_on_a_transition():
    history = StateHistory.start(T0)
    moved = history.moved_to(State.RUNNING, T0 + timedelta(seconds=1), EXECUTION_TRANSITIONS)
    assert [(h.state, h.date) for h in moved.histories] == [
        (State.CREATED, T0),
        (State.RUNNING, T0 + timedelta(seconds=1)),
    ]
    assert moved.current is State.RUNNING
    assert history.current is State.CREATED  # the original is unchanged


def test_it_ignores_setting_the_same_state_twice():
    history = StateHistory.start(T0, State.RUNNING)
    assert history.moved_to(State.RUNNING, T0 + timedelta(1), EXECUTION_TRANSITIONS) is history


def test_it_refuses_an_invalid_transition_with_both_states_named():
    history = StateHistory.start(T0, State.SUCCESS)
    with pytest.raises(InvalidTransition, match="from SUCCESS to RUNNING"):
        history.moved_to(State.RUNNING, T0, EXECUTION_TRANSITIONS, "execution")
    assert InvalidTransition.status == 409


@pytest.mark.parametrize(
    ("_case", "table", "current", "target", "allowed"),
    [
        ("first task", EXECUTION_TRANSITIONS, State.CREATED, State.RUNNING, True),
        ("queued", EXECUTION_TRANSITIONS, State.CREATED, State.QUEUED, True),
        ("retrying", EXECUTION_TRANSITIONS, State.RUNNING, State.RETRYING, True),
        ("retry due", EXECUTION_TRANSITIONS, State.RETRYING, State.RUNNING, True),
        ("kill", EXECUTION_TRANSITIONS, State.PAUSED, State.KILLING, True),
        ("killed", EXECUTION_TRANSITIONS, State.KILLING, State.KILLED, True),
        ("restart", EXECUTION_TRANSITIONS, State.FAILED, State.RESTARTED, True),
        ("change status", EXECUTION_TRANSITIONS, State.FAILED, State.WARNING, True),
        ("no resurrection", EXECUTION_TRANSITIONS, State.SUCCESS, State.RUNNING, False),
        ("not from created", EXECUTION_TRANSITIONS, State.CREATED, State.SUCCESS, False),
        ("killing ends killed", EXECUTION_TRANSITIONS, State.KILLING, State.SUCCESS, False),
        ("skip", TASK_RUN_TRANSITIONS, State.CREATED, State.SKIPPED, True),
        ("retry", TASK_RUN_TRANSITIONS, State.FAILED, State.RETRYING, True),
        ("retry again", TASK_RUN_TRANSITIONS, State.RETRYING, State.CREATED, True),
        ("pause", TASK_RUN_TRANSITIONS, State.RUNNING, State.PAUSED, True),
        ("no skip when running", TASK_RUN_TRANSITIONS, State.RUNNING, State.SKIPPED, False),
        ("no run after success", TASK_RUN_TRANSITIONS, State.SUCCESS, State.RUNNING, False),
    ],
)
def test_it_checks_transitions_against_the_table(_case, table, current, target, allowed):
    if allowed:
        check_transition(current, target, table)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target, table)


def test_it_gives_start_and_end_dates_like_kestra():
    history = StateHistory.start(T0).moved_to(
        State.RUNNING, T0 + timedelta(seconds=1), EXECUTION_TRANSITIONS
    )
    assert history.start_date == T0
    assert history.end_date is None
    ended = history.moved_to(State.SUCCESS, T0 + timedelta(seconds=3), EXECUTION_TRANSITIONS)
    assert ended.end_date == T0 + timedelta(seconds=3)


@pytest.mark.parametrize(
    ("_case", "states", "allow_failure", "allow_warning", "expected"),
    [
        ("empty", [], False, False, State.SUCCESS),
        ("skipped is neutral", [State.SUCCESS, State.SKIPPED], False, False, State.SUCCESS),
        ("killed wins", [State.FAILED, State.KILLED], False, False, State.KILLED),
        ("failed over warning", [State.WARNING, State.FAILED], False, False, State.FAILED),
        ("warning", [State.SUCCESS, State.WARNING], False, False, State.WARNING),
        ("paused", [State.SUCCESS, State.PAUSED], False, False, State.PAUSED),
        ("allow failure", [State.FAILED], True, False, State.WARNING),
        ("allow both", [State.FAILED], True, True, State.SUCCESS),
        ("allow warning", [State.WARNING], False, True, State.SUCCESS),
    ],
)
def test_it_guesses_the_final_state_of_a_list(
    _case, states, allow_failure, allow_warning, expected
):
    flags = {"allow_failure": allow_failure, "allow_warning": allow_warning}
    assert final_state(states, **flags) is expected
