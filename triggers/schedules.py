"""Schedule ticks as the scheduler and the sync see them: the next tick of a Schedule trigger
in its time zone. (The scheduler's claim loop and backfills build on these.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from triggers.engine.cron import next_tick


def first_next_date(spec: dict[str, Any], now: datetime) -> datetime | None:
    """The first tick after `now` of a newly synced Schedule trigger (None: no tick ever)."""
    return next_tick(spec, now)
