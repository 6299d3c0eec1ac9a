"""Kestra 0.20's states, their predicates and the transitions the engine allows.

A state is data plus a table, as in `[State]`: an execution and each task run carry a
`StateHistory` (the current state and every `(state, date)` it went through). Setting the
state it already has is a no-op, as in Kestra; a transition missing from the table raises
`InvalidTransition`, which names both states, so a bug in a rule shows up as a 409 with a
message instead of a silently corrupted history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from tenants.errors import Conflict


class State(StrEnum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    RESTARTED = "RESTARTED"
    KILLING = "KILLING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    CANCELLED = "CANCELLED"
    QUEUED = "QUEUED"
    RETRYING = "RETRYING"
    RETRIED = "RETRIED"
    SKIPPED = "SKIPPED"

    @property
    def terminated(self) -> bool:
        return self in TERMINATED

    @property
    def created(self) -> bool:
        return self in (State.CREATED, State.RESTARTED)

    @property
    def running(self) -> bool:
        return self in (State.RUNNING, State.KILLING)

    @property
    def paused(self) -> bool:
        return self is State.PAUSED

    @property
    def retrying(self) -> bool:
        return self in (State.RETRYING, State.RETRIED)

    @property
    def failed(self) -> bool:
        return self is State.FAILED

    @property
    def restartable(self) -> bool:
        return self in (State.FAILED, State.PAUSED)

    @property
    def resumable(self) -> bool:
        return self in (State.PAUSED, State.RETRYING, State.RETRIED, State.CREATED, State.RESTARTED)


TERMINATED: Final = frozenset(
    {
        State.SUCCESS,
        State.WARNING,
        State.FAILED,
        State.KILLED,
        State.CANCELLED,
        State.RETRIED,
        State.SKIPPED,
    }
)
# Ends that `change-status` (execution) and `markAs` (task run) may switch between.
_ENDS: Final = TERMINATED - {State.RETRIED, State.SKIPPED}
# What a violated SLA with behavior FAIL or CANCEL makes of the execution and its unfinished
# task runs, whatever their state (but KILLING: a kill is already ending them).
_SLA_ENDS: Final = (State.FAILED, State.CANCELLED)


def _table(rows: dict[State, set[State]]) -> dict[State, frozenset[State]]:
    return {state: frozenset(rows.get(state, set())) for state in State}


EXECUTION_TRANSITIONS: Final = _table(
    {
        State.CREATED: {
            State.RUNNING,  # first task run created, scheduled date reached, force-run
            State.QUEUED,  # concurrency QUEUE
            State.CANCELLED,  # concurrency CANCEL
            State.FAILED,  # concurrency FAIL, invalid trigger inputs
            State.KILLING,
            State.KILLED,
        },
        State.QUEUED: {State.RUNNING, State.KILLING, State.KILLED, State.CANCELLED, State.FAILED},
        State.RUNNING: {
            State.PAUSED,
            State.RETRYING,
            State.RETRIED,  # retry with behavior CREATE_NEW_EXECUTION
            State.KILLING,
            State.SUCCESS,
            State.WARNING,
            State.FAILED,
            State.CANCELLED,  # SLA with behavior CANCEL
        },
        # FAILED and CANCELLED from any unfinished state but KILLING: a violated SLA
        State.PAUSED: {State.RESTARTED, State.RUNNING, State.KILLING, *_SLA_ENDS},
        State.RETRYING: {State.RUNNING, State.RETRIED, State.KILLING, *_SLA_ENDS},
        State.KILLING: {State.KILLED},
        State.RESTARTED: {State.RUNNING, State.KILLING, *_SLA_ENDS},
        **{end: {State.RESTARTED} | (_ENDS - {end}) for end in _ENDS},
        State.RETRIED: {State.RESTARTED},
    }
)

TASK_RUN_TRANSITIONS: Final = _table(
    {
        State.CREATED: {
            State.RUNNING,
            State.SKIPPED,  # runIf is falsy
            State.FAILED,  # runIf cannot render, a flowable cannot start, worker group missing
            State.KILLED,  # killed before a worker took it
            State.CANCELLED,  # worker group fallback CANCEL
        },
        State.RUNNING: {
            State.SUCCESS,
            State.WARNING,
            State.FAILED,
            State.KILLED,
            State.KILLING,
            State.PAUSED,
            State.CANCELLED,
            State.RETRIED,  # the ancestors of a task retried with CREATE_NEW_EXECUTION
        },
        State.KILLING: {State.KILLED},
        State.PAUSED: {
            State.RUNNING,
            State.SUCCESS,
            State.RESTARTED,
            State.KILLING,
            State.KILLED,
            *_SLA_ENDS,
        },
        State.RETRYING: {State.CREATED, State.KILLED, *_SLA_ENDS},
        State.RESTARTED: {State.CREATED, State.RUNNING, State.SKIPPED, State.KILLED, *_SLA_ENDS},
        **{end: {State.RESTARTED} | (_ENDS - {end}) for end in _ENDS},
        State.FAILED: {State.RETRYING, State.RETRIED, State.RESTARTED} | (_ENDS - {State.FAILED}),
        State.SKIPPED: {State.RESTARTED},
        State.RETRIED: {State.RESTARTED},
    }
)


class InvalidTransition(Conflict):
    """A state change the engine never makes; the message names both states."""

    code = "invalid_transition"


@dataclass(frozen=True, slots=True)
class Transition:
    """One entry of `state.histories`: the state entered and when."""

    state: State
    date: datetime


@dataclass(frozen=True, slots=True)
class StateHistory:
    """Kestra's `State`: the current state is the last history entry (kept as a field,
    because the decision function reads it for every task run of every pass)."""

    histories: tuple[Transition, ...]
    current: State = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "current", self.histories[-1].state)

    @classmethod
    def start(cls, now: datetime, state: State = State.CREATED) -> StateHistory:
        return cls((Transition(state, now),))

    @property
    def start_date(self) -> datetime:
        return self.histories[0].date

    @property
    def last_date(self) -> datetime:
        return self.histories[-1].date

    @property
    def end_date(self) -> datetime | None:
        """The last date, only once terminated or paused (as Kestra's `endDate`)."""
        current = self.current
        return self.last_date if current.terminated or current.paused else None

    def moved_to(
        self,
        state: State,
        now: datetime,
        table: dict[State, frozenset[State]],
        what: str = "state",
    ) -> StateHistory:
        """This history with `state` appended; unchanged when already in `state`."""
        current = self.current
        if state is current:
            return self
        if state not in table[current]:
            raise InvalidTransition(f"Illegal {what} transition from {current} to {state}")
        return StateHistory((*self.histories, Transition(state, now)))

    def count(self, state: State) -> int:
        return sum(1 for entry in self.histories if entry.state is state)


def check_transition(
    current: State, target: State, table: dict[State, frozenset[State]], what: str = "state"
) -> None:
    """Raise `InvalidTransition` unless `current -> target` is allowed (same state is fine)."""
    if target is not current and target not in table[current]:
        raise InvalidTransition(f"Illegal {what} transition from {current} to {target}")


def final_state(
    states: list[State] | tuple[State, ...],
    *,
    allow_failure: bool = False,
    allow_warning: bool = False,
) -> State:
    """Kestra's `guessFinalState` over the states of one list of task runs: KILLED wins,
    then FAILED, WARNING, PAUSED, else SUCCESS (SKIPPED counts as success); `allowFailure`
    turns FAILED into WARNING and `allowWarning` turns WARNING into SUCCESS."""
    present = set(states)
    for candidate in (State.KILLED, State.FAILED, State.WARNING, State.PAUSED):
        if candidate in present:
            state = candidate
            break
    else:
        state = State.SUCCESS
    if state is State.FAILED and allow_failure:
        state = State.WARNING
    if state is State.WARNING and allow_warning:
        state = State.SUCCESS
    return state
