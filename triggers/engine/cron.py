"""Ticks of a Schedule trigger: its cron expression (5 fields, 6 with `withSeconds`, or a
nickname) evaluated in its `timezone` by cronsim, which follows Debian cron across DST
changes: a wall-clock time skipped by a spring-forward fires right after the change, one
repeated by a fall-back fires once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

DEFAULT_TIMEZONE = "UTC"
_NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def expression(spec: dict[str, Any]) -> str:
    """The trigger's cron with nicknames spelled out; `withSeconds` keeps the seconds field."""
    text = str(spec.get("cron") or "").strip()
    return _NICKNAMES.get(text.lower(), text)


def zone(spec: dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(str(spec.get("timezone") or DEFAULT_TIMEZONE))


def next_tick(spec: dict[str, Any], after: datetime) -> datetime | None:
    """The first tick strictly after `after` (aware), in UTC; None when there is none."""
    try:
        local = after.astimezone(zone(spec))
        tick = next(CronSim(expression(spec), local))
    except (CronSimError, StopIteration, ValueError, KeyError):
        return None
    return tick.astimezone(UTC)
