"""Riding out a database restart in the worker and executor processes.

A restart (or a failover, or `pg_terminate_backend`) kills every session: the next query of
a process holding a connection fails with `OperationalError`/`InterfaceError`, and Django
keeps handing out the dead connection until something closes it (Celery workers keep theirs
across tasks, see CELERY_DB_REUSE_MAX). `with_reconnect` runs one unit of work that is its
own transaction and safe to run again (a claim, a report, an executor step: each is
idempotent), and when the database went away it drops the connection and runs the unit
again, with a growing pause, until it succeeds or `RECONNECT_SECONDS` have passed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger("aviary.worker")

RECONNECT_SECONDS = 60.0  # a restart of PostgreSQL takes seconds; a failover, tens of them
FIRST_PAUSE = 0.05
LONGEST_PAUSE = 2.0
LOST = (OperationalError, InterfaceError)

P = ParamSpec("P")
R = TypeVar("R")


def with_reconnect(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`function(*args, **kwargs)`, run again on a new connection while the database is
    unreachable. Inside an outer transaction nothing is retried: that transaction is lost
    and its owner must start it again."""
    deadline = time.monotonic() + RECONNECT_SECONDS
    pause = FIRST_PAUSE
    while True:
        try:
            return function(*args, **kwargs)
        except LOST as error:
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            log.warning("database unavailable (%s); trying again in %.2f s", error, pause)
            connection.close()  # the next query opens a new session
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
