"""The decision for one due Schedule trigger: which tick it evaluates, whether an execution
starts (or fails at once), and where the trigger goes next. Pure: the scheduler applies it.

A backfill (Kestra's `Backfill` on the trigger context) replaces the normal ticks while it
exists: the trigger walks `currentDate` from `start` to `end` (both included), one tick per
evaluation, with the backfill's inputs and labels on top of the trigger's; a paused backfill
emits nothing; when the walk passes `end` the backfill is removed and the trigger resumes at
the tick that was due when the backfill started (`previousNextExecutionDate`), so the normal
ticks missed meanwhile run then, as in Kestra. Late ticks are never skipped in a backfill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from triggers.engine.conditions import ConditionError
from triggers.engine.schedule import (
    Conditions,
    Schedule,
    is_late,
    iso,
    next_date,
    next_passing,
    parse_date,
    tick_variables,
)

RUN = "run"  # start an execution
FAIL = "fail"  # store a FAILED execution with `error` logged (conditions could not be tested)
SKIP = "skip"  # nothing for this tick
WAIT = "wait"  # nothing to evaluate (a paused backfill)
_ONE_SECOND = timedelta(seconds=1)
_COUNTED = 100_000


@dataclass(frozen=True)
class TickDecision:
    action: str
    tick: datetime | None
    next_date: datetime | None
    variables: dict[str, str] = field(default_factory=dict)
    backfill: dict[str, Any] | None = None  # the trigger's backfill after this tick
    reason: str = ""  # why the tick was skipped, or the error of a FAIL


def decide(
    schedule: Schedule,
    *,
    next_due: datetime | None,
    backfill: dict[str, Any] | None,
    now: datetime,
    conditions: Conditions,
) -> TickDecision:
    """What the trigger does now that it is due (`next_due` ≤ now, or a backfill runs)."""
    if backfill is not None:
        return _backfill_tick(schedule, backfill, now, conditions)
    if next_due is None:
        return TickDecision(WAIT, None, schedule.cron.next(now))
    following = next_date(schedule, next_due, now, conditions)
    if is_late(schedule, next_due, now):
        reason = f"late by more than {schedule.late_maximum_delay}"
        return TickDecision(SKIP, next_due, following, reason=reason)
    return _evaluate(schedule, next_due, following, conditions, None)


def _evaluate(
    schedule: Schedule,
    tick: datetime,
    following: datetime | None,
    conditions: Conditions,
    backfill: dict[str, Any] | None,
) -> TickDecision:
    try:
        passes = conditions.passes(schedule, tick)
    except ConditionError as error:
        message = f"Unable to evaluate the Schedule trigger '{schedule.trigger_id}': {error}"
        variables = {"date": iso(schedule, tick)}
        return TickDecision(FAIL, tick, following, variables, backfill, message)
    if not passes:
        return TickDecision(SKIP, tick, following, backfill=backfill, reason="conditions not met")
    variables = tick_variables(schedule, tick, conditions)
    return TickDecision(RUN, tick, following, variables, backfill)


def _backfill_tick(
    schedule: Schedule, backfill: dict[str, Any], now: datetime, conditions: Conditions
) -> TickDecision:
    if backfill.get("paused"):
        return TickDecision(WAIT, None, None, backfill=backfill, reason="backfill paused")
    current = parse_date(backfill.get("currentDate"))
    end = parse_date(backfill.get("end")) or now
    if current is None or current > end:
        return TickDecision(SKIP, None, _resume(schedule, backfill, now), reason="backfill done")
    following = next_passing(schedule, current, conditions)
    done = int(backfill.get("done") or 0) + 1
    if schedule.conditions and following is not None:
        # progress counts every tick of the period, those the conditions jump over too
        done += (count_ticks(schedule, current, following - _ONE_SECOND, _COUNTED) or 1) - 1
    if following is None or following > end:
        after: dict[str, Any] | None = None
        resume = _resume(schedule, backfill, now)
    else:
        after = {**backfill, "currentDate": iso(schedule, following), "done": done}
        resume = following
    return _evaluate(schedule, current, resume, conditions, after)


def _resume(schedule: Schedule, backfill: dict[str, Any], now: datetime) -> datetime | None:
    """The normal tick the trigger resumes at when its backfill ends."""
    previous = parse_date(backfill.get("previousNextExecutionDate"))
    return previous if previous is not None else schedule.cron.next(now)


def first_backfill_tick(schedule: Schedule, start: datetime) -> datetime | None:
    """The first tick at or after `start` (Kestra evaluates `start` itself when it is one)."""
    return schedule.cron.next(start.replace(microsecond=0) - _ONE_SECOND)


def count_ticks(schedule: Schedule, start: datetime, end: datetime, limit: int) -> int | None:
    """Ticks in [start, end]; None when there are more than `limit` (too many to count)."""
    count = 0
    for tick in schedule.cron.after(start.replace(microsecond=0) - _ONE_SECOND):
        if tick > end:
            return count
        count += 1
        if count > limit:
            return None
    return count
