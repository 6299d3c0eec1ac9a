"""Ticks of a Schedule trigger: its cron expression (5 fields, 6 with `withSeconds`, the first
then being the seconds, or a nickname) evaluated in its `timezone` by cronsim, which follows
Debian cron across DST changes: a wall-clock time skipped by a spring-forward fires right
after the change (02:30 on a day that jumps from 02:00 to 03:00 fires at 03:00); a fixed time
repeated by a fall-back fires once, at its first occurrence, while an expression with a
wildcard hour fires in both passes (they are distinct instants).

Every date going in must be aware; every tick coming out is in UTC."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from cronsim import CronSim, CronSimError

from flows.expressions.errors import EvaluationError
from flows.expressions.javatime import zone as java_zone

DEFAULT_TIMEZONE = "UTC"  # Kestra's default is the server's zone; Aviary's servers run in UTC
_NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """The trigger's cron expression or time zone cannot be used (validation refuses both
    before a flow is saved; this guards rows written before a rule existed)."""


def expression(spec: dict[str, Any]) -> str:
    """The trigger's cron with nicknames spelled out; `withSeconds` keeps the seconds field."""
    text = str(spec.get("cron") or "").strip()
    return _NICKNAMES.get(text.lower(), text)


def zone(spec: dict[str, Any]) -> tzinfo:
    """The trigger's time zone: what `java.time.ZoneId.of` accepts (`Europe/Paris`, `UTC+2`)."""
    try:
        return java_zone(str(spec.get("timezone") or DEFAULT_TIMEZONE))
    except EvaluationError as error:
        raise CronError(str(error)) from error


class Cron:
    """One trigger's expression in its zone, parsed once. A walk copies a parsed cronsim
    prototype instead of parsing the expression again (a third of a tick's cost otherwise);
    tests check the copies against cronsim itself."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.expression = expression(spec)
        self.zone = zone(spec)
        try:
            self._prototype = CronSim(self.expression, datetime(2000, 1, 1, tzinfo=UTC))
        except CronSimError as error:
            raise CronError(f"invalid cron expression '{spec.get('cron')}': {error}") from error
        parts = self.expression.split()
        # cronsim's Debian-cron handling of DST, for 5-field expressions at fixed times
        self._fixed_time = (
            len(parts) == 5 and not parts[0].startswith("*") and not parts[1].startswith("*")
        )
        self._memo: dict[tuple[datetime, bool], datetime | None] = {}

    def local(self, moment: datetime) -> datetime:
        """`moment` in the trigger's zone (what templates and conditions see)."""
        return moment.astimezone(self.zone)

    def after(self, moment: datetime) -> Iterator[datetime]:
        """The ticks strictly after `moment`, in order, in UTC."""
        return self._walk(moment, reverse=False)

    def before(self, moment: datetime) -> Iterator[datetime]:
        """The ticks strictly before `moment`, latest first, in UTC."""
        return self._walk(moment, reverse=True)

    def next(self, moment: datetime) -> datetime | None:
        return self._first(moment, reverse=False)

    def previous(self, moment: datetime) -> datetime | None:
        return self._first(moment, reverse=True)

    def _first(self, moment: datetime, *, reverse: bool) -> datetime | None:
        # a tick's variables and the next tick ask the same question: answer it once
        key = (moment, reverse)
        if key not in self._memo:
            if len(self._memo) > 64:
                self._memo.clear()
            self._memo[key] = next(self._walk(moment, reverse=reverse), None)
        return self._memo[key]

    def _simulator(self, local: datetime, reverse: bool) -> CronSim:
        """What `CronSim(expression, local, reverse)` builds, from the parsed prototype."""
        sim = copy.copy(self._prototype)
        sim.skip_initial_tick = False
        sim.dt = local
        sim.tick_direction = -1 if reverse else 1
        sim.fixup_tz = None
        if local.tzinfo not in (None, UTC) and self._fixed_time:
            sim.fixup_tz = local.tzinfo
            sim.dt = local.replace(tzinfo=None)
        return sim

    def _walk(self, moment: datetime, *, reverse: bool) -> Iterator[datetime]:
        # cronsim works in wall-clock time and keeps the fold of an ambiguous hour; it starts
        # strictly after (before) `moment` at whole-second precision
        start = moment.replace(microsecond=0)
        if reverse and moment.microsecond:
            start += timedelta(seconds=1)
        local = self.local(start)
        try:
            for tick in self._simulator(local, reverse):
                tick = tick.astimezone(UTC)
                # from inside a repeated hour, cronsim may answer the wall-clock time's
                # first occurrence, already past: never go back in time
                if (tick < moment) if reverse else (tick > moment):
                    yield tick
        except (CronSimError, StopIteration):
            return


def next_tick(spec: dict[str, Any], after: datetime) -> datetime | None:
    """The first tick strictly after `after` (aware), in UTC; None when there is none."""
    try:
        return Cron(spec).next(after)
    except CronError:
        return None


def previous_tick(spec: dict[str, Any], before: datetime) -> datetime | None:
    """The last tick strictly before `before` (aware), in UTC; None when there is none."""
    try:
        return Cron(spec).previous(before)
    except CronError:
        return None
