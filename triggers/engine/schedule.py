"""What a Schedule trigger (Kestra 0.20 `io.kestra.plugin.core.trigger.Schedule`) decides at a
tick, without I/O: whether the tick runs, with which trigger variables, and the next tick.

Kestra's rules, from `Schedule.java` and `AbstractScheduler.java`:
- the variables are `date` (the tick), `next` and `previous` (the neighbouring ticks that pass
  the conditions), ISO date-times in the trigger's time zone; the execution also carries them
  as `schedule.*`, the pre-0.15 name;
- `conditions` are tested on the tick; one that cannot be evaluated (a template that fails) is
  reported so that the tick gives a FAILED execution instead of being retried forever;
- after a tick, the next tick is the first later one whose conditions pass (searched at most
  ten years ahead, like Kestra); when the search itself fails it falls back to the plain next
  tick and the conditions are tested when it comes;
- `lateMaximumDelay`: a tick that could not start within that delay is skipped (never during a
  backfill);
- `recoverMissedSchedules` (ALL by default) says which ticks missed while no scheduler ran are
  run: all of them, the last one, or none;
- `stopAfter`: an execution of the trigger ending in one of these states disables it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from executions.engine.flow import _apply_defaults
from flows.spec.formats import duration_value
from triggers.engine.conditions import ConditionContext, ConditionError, conditions_pass
from triggers.engine.cron import Cron

ALL, LAST, NONE = "ALL", "LAST", "NONE"
SEARCH_YEARS = 10  # Kestra's bound on the search of a tick whose conditions pass
SEARCH_TICKS = 100_000  # and Aviary's, so that an every-second cron cannot stall a pass

Render = Callable[[str, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Schedule:
    """A Schedule trigger's spec, read once (plugin defaults applied)."""

    trigger_id: str
    type: str
    cron: Cron
    conditions: tuple[Mapping[str, Any], ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    late_maximum_delay: timedelta | None = None
    recover: str = ALL
    stop_after: frozenset[str] = frozenset()
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)


def parse_schedule(spec: Mapping[str, Any], plugin_defaults: Any = None) -> Schedule:
    """The trigger `spec` (its YAML mapping) with the flow's `pluginDefaults` applied, as
    Kestra injects them before evaluating a Schedule. Raises `CronError` for a cron or zone
    that cannot be used (validation refuses both before a flow is saved)."""
    defaults = [d for d in plugin_defaults or [] if isinstance(d, Mapping)]
    data = _apply_defaults(dict(spec), defaults) if defaults else dict(spec)
    conditions = [
        c
        for c in [*(data.get("conditions") or []), *(data.get("scheduleConditions") or [])]
        if isinstance(c, Mapping)
    ]
    recover = str(data.get("recoverMissedSchedules") or ALL).upper()
    inputs = data.get("inputs")
    return Schedule(
        trigger_id=str(data.get("id")),
        type=str(data.get("type")),
        cron=Cron(data),
        conditions=tuple(conditions),
        inputs=dict(inputs) if isinstance(inputs, Mapping) else {},
        late_maximum_delay=duration_value(data.get("lateMaximumDelay")),
        recover=recover if recover in (ALL, LAST, NONE) else ALL,
        stop_after=frozenset(str(s) for s in data.get("stopAfter") or []),
        data=data,
    )


def iso(schedule: Schedule, moment: datetime) -> str:
    """A tick as Kestra's Jackson writes a ZonedDateTime in the trigger's zone:
    `2024-03-31T03:00:00+02:00`, with `Z` for a zero offset."""
    text = schedule.cron.local(moment).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def plain_variables(schedule: Schedule, tick: datetime) -> dict[str, str]:
    """`date`, `next`, `previous` of a tick without looking at conditions: what conditions
    themselves see (Kestra's `scheduleDates`)."""
    variables = {"date": iso(schedule, tick)}
    following = schedule.cron.next(tick)
    if following is not None:
        variables["next"] = iso(schedule, following)
    preceding = schedule.cron.previous(tick)
    if preceding is not None:
        variables["previous"] = iso(schedule, preceding)
    return variables


@dataclass(frozen=True)
class Conditions:
    """How a schedule's conditions are tested on a tick: the flow they belong to (its
    `flow` variables) and the renderer for their templates."""

    flow: Mapping[str, Any]
    render: Render | None = None

    def context(self, schedule: Schedule, tick: datetime) -> ConditionContext:
        variables = plain_variables(schedule, tick)
        trigger = {"id": schedule.trigger_id, "type": schedule.type, **variables}
        return ConditionContext(
            flow=self.flow,
            date=schedule.cron.local(tick),
            variables={"flow": dict(self.flow), "trigger": trigger, "schedule": variables},
            render=self.render,
        )

    def passes(self, schedule: Schedule, tick: datetime) -> bool:
        """Whether every condition holds on `tick`; `ConditionError` when one cannot tell."""
        if not schedule.conditions:
            return True
        return conditions_pass(schedule.conditions, self.context(schedule, tick))


def _search(
    schedule: Schedule, start: datetime, conditions: Conditions, *, forward: bool
) -> datetime | None:
    """The first tick after (or last before) `start` whose conditions pass."""
    walk = schedule.cron.after(start) if forward else schedule.cron.before(start)
    limit = start + timedelta(days=366 * SEARCH_YEARS) * (1 if forward else -1)
    for count, tick in enumerate(walk):
        if count >= SEARCH_TICKS or (tick > limit if forward else tick < limit):
            return None
        if conditions.passes(schedule, tick):
            return tick
    return None


def next_passing(schedule: Schedule, after: datetime, conditions: Conditions) -> datetime | None:
    """The first tick after `after` whose conditions pass. When they cannot be evaluated,
    the plain next tick (Kestra: "conditions will not be evaluated" for the next date; they
    are when the tick comes)."""
    if not schedule.conditions:
        return schedule.cron.next(after)
    try:
        return _search(schedule, after, conditions, forward=True)
    except ConditionError:
        return schedule.cron.next(after)


def previous_passing(
    schedule: Schedule, before: datetime, conditions: Conditions
) -> datetime | None:
    """The last tick before `before` whose conditions pass (plain when they cannot tell)."""
    if not schedule.conditions:
        return schedule.cron.previous(before)
    try:
        return _search(schedule, before, conditions, forward=False)
    except ConditionError:
        return schedule.cron.previous(before)


def tick_variables(schedule: Schedule, tick: datetime, conditions: Conditions) -> dict[str, str]:
    """The execution's trigger variables (Kestra's `trueOutputWithCondition`)."""
    if not schedule.conditions:
        return plain_variables(schedule, tick)
    variables = {"date": iso(schedule, tick)}
    following = next_passing(schedule, tick, conditions)
    if following is not None:
        variables["next"] = iso(schedule, following)
    preceding = previous_passing(schedule, tick, conditions)
    if preceding is not None:
        variables["previous"] = iso(schedule, preceding)
    return variables


def is_late(schedule: Schedule, tick: datetime, now: datetime) -> bool:
    """The tick is older than `lateMaximumDelay` allows."""
    delay = schedule.late_maximum_delay
    return delay is not None and tick + delay < now


def next_date(
    schedule: Schedule, after: datetime, now: datetime, conditions: Conditions
) -> datetime | None:
    """The tick to evaluate after `after` (outside a backfill): the next one whose conditions
    pass, skipping those already older than `lateMaximumDelay`."""
    candidate = next_passing(schedule, after, conditions)
    delay = schedule.late_maximum_delay
    if candidate is not None and delay is not None and candidate + delay < now:
        # the first tick not too late is the first one at or after now - delay
        earliest = now - delay - timedelta(microseconds=1)
        candidate = next_passing(schedule, max(earliest, after), conditions)
    return candidate


def recovered_next_date(
    schedule: Schedule,
    next_due: datetime | None,
    now: datetime,
    conditions: Conditions,
    grace: timedelta = timedelta(0),
) -> datetime | None:
    """Where a trigger resumes after ticks were missed (no scheduler ran since `next_due`,
    or it was disabled): `ALL` keeps `next_due`, so every missed tick runs, one after the
    other; `LAST` runs only the latest missed tick; `NONE` none of them. Ticks due less than
    `grace` ago are not missed: another scheduler is about to run them."""
    if next_due is None or next_due >= now - grace or schedule.recover == ALL:
        return next_due
    if schedule.recover == NONE:
        return schedule.cron.next(now)
    latest = previous_passing(schedule, now, conditions)
    return latest if latest is not None and latest > next_due else next_due


def parse_date(text: Any) -> datetime | None:
    """An aware date from its ISO text (the backfill's stored dates); None when absent."""
    if not text:
        return None
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
