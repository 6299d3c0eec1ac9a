"""How a worker learns that the attempt it runs must stop: the `cancelled` callable of
`run_attempt`, answered from the database.

A kill moves the execution to KILLING, and the executor's pass that follows (taken in the
kill's own transaction) to KILLED while its running task runs are still RUNNING on their
workers; a timeout enforced by the executor ends the task run's attempt. So a worker's
attempt must stop once its execution is KILLING or KILLED, or its task run is no longer
RUNNING. Tasks ask often (a script's wait loop every 0.5 s, `TaskContext.sleep` every
second); the answer is read at most every `CHECK_SECONDS`, with one indexed query, and not
at all during the first `CHECK_SECONDS` of the attempt, so a short task costs no query.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError, connection

from executions.engine.states import State
from executions.models import TaskRun
from tenants.models import Tenant

log = logging.getLogger("aviary.worker")

CHECK_SECONDS = 0.5
_STOPPING = (State.KILLING.value, State.KILLED.value)


class KillWatch:
    """`cancelled()` for one attempt of one task run; once True, it stays True."""

    def __init__(self, tenant: Tenant, execution_id: str, task_run_id: str) -> None:
        self.tenant = tenant
        self.execution_id = execution_id
        self.task_run_id = task_run_id
        self.next_check = time.monotonic() + CHECK_SECONDS
        self.stopped = False

    def __call__(self) -> bool:
        if self.stopped:
            return True
        now = time.monotonic()
        if now < self.next_check:
            return False
        self.next_check = now + CHECK_SECONDS
        self.stopped = self._must_stop()
        return self.stopped

    def _must_stop(self) -> bool:
        try:
            found = (
                TaskRun.objects.for_tenant(self.tenant)
                .filter(pk=self.task_run_id, execution_id=self.execution_id)
                .values_list("state", "execution__state")
                .first()
            )
        except DatabaseError:  # the database restarts: the next check asks on a new connection
            log.warning("Kill check of task run %s failed", self.task_run_id, exc_info=True)
            connection.close()
            return False
        if found is None:  # the execution was deleted under it
            return True
        task_run_state, execution_state = found
        return execution_state in _STOPPING or task_run_state != State.RUNNING.value
