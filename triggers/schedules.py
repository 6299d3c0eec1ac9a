"""Schedule ticks as the trigger sync and the trigger controls see them: the first tick of a
new (or re-timed) Schedule trigger, and where a Schedule resumes when it is enabled again.
The scheduler itself is triggers/scheduler.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triggers.engine.cron import CronError
from triggers.engine.schedule import Conditions, parse_schedule, recovered_next_date


def first_next_date(
    spec: dict[str, Any], now: datetime, plugin_defaults: Any = None
) -> datetime | None:
    """The first tick after `now` of a newly synced Schedule trigger (None: no tick ever,
    or a cron that cannot be used). Kestra starts a new schedule at its next tick: the
    ticks before the trigger existed are a backfill's business."""
    try:
        return parse_schedule(spec, plugin_defaults).cron.next(now)
    except CronError:
        return None


def resume_date(
    spec: dict[str, Any], next_due: datetime | None, now: datetime, plugin_defaults: Any = None
) -> datetime | None:
    """Where a Schedule enabled again resumes, its ticks since `next_due` missed: every one
    (`recoverMissedSchedules: ALL`, the default), the last one (`LAST`) or none (`NONE`).
    The conditions of `LAST` are not rendered here: a plain tick is chosen when they need
    templates."""
    try:
        schedule = parse_schedule(spec, plugin_defaults)
    except CronError:
        return next_due
    conditions = Conditions(flow={}, render=None)
    return recovered_next_date(schedule, next_due, now, conditions)
