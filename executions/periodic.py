"""The scheduler's loop: periodic jobs, each on its own interval, until a stop signal.

Schedule triggers (a later issue) register here as jobs too. A job's failure is logged and
retried at its next interval; it never stops the loop. A failure that left the database
connection broken (the database restarted) drops that connection, so that the next run opens
a new one instead of failing on the dead one forever.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections

log = logging.getLogger("aviary.scheduler")


@dataclass
class PeriodicJob:
    name: str
    interval: float  # seconds
    run: Callable[[], None]
    next_at: float = field(default=0.0)


class SchedulerLoop:
    def __init__(self, jobs: list[PeriodicJob], *, tick: float = 1.0) -> None:
        self.jobs = jobs
        self.tick = tick
        self.stopping = threading.Event()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())

    def run_once(self, now: float | None = None) -> list[str]:
        """Run every due job; return the names of those that ran."""
        now = time.monotonic() if now is None else now
        ran = []
        for job in self.jobs:
            if now < job.next_at:
                continue
            job.next_at = now + job.interval
            try:
                job.run()
            except Exception:  # a broken job must not stop the scheduler
                log.exception("scheduler job %s failed", job.name)
                close_old_connections()  # closes a connection left unusable
            ran.append(job.name)
        return ran

    def run_forever(self) -> None:
        log.info("scheduler started with jobs: %s", ", ".join(j.name for j in self.jobs))
        while not self.stopping.is_set():
            self.run_once()
            self.stopping.wait(self.tick)
        log.info("scheduler stopped")
