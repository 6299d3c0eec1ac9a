"""MAX_DURATION SLAs on the real path: the executions run on a real Celery worker, the
violation comes from the scheduler's loop (`SchedulerLoop` with the `sla-monitors` job, as
`manage.py scheduler` runs it, here in a thread of the test process), within a second of the
deadline even while every worker process is busy, and the tasks it stops free their worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.db import connection

from executions import services
from executions.models import Execution, LogEntry, SlaMonitor, TaskRun
from executions.periodic import PeriodicJob, SchedulerLoop
from executions.sla import MONITOR_INTERVAL, monitors_process
from flows.services import flow_create
from tests.executions.engine.test_conformance import CASES, FLOWS, SLA_MAX_DURATION
from tests.executions.test_conformance_celery import _final, _result

pytestmark = pytest.mark.django_db(transaction=True)

TICK = 0.1  # `manage.py scheduler --tick`'s default
BOUND = timedelta(seconds=1)


@pytest.fixture
def scheduler() -> Iterator[SchedulerLoop]:
    """The scheduler's loop with its SLA job, running until the test ends."""
    loop = SchedulerLoop(
        [PeriodicJob("sla-monitors", MONITOR_INTERVAL, monitors_process)], tick=TICK
    )

    def run() -> None:
        try:
            loop.run_forever()
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="scheduler", daemon=True)
    thread.start()
    yield loop
    loop.stopping.set()
    thread.join(10)
    assert not thread.is_alive()


SCHEDULER_CASES = [case for case in CASES if case.file in SLA_MAX_DURATION]


@pytest.mark.skipif(not FLOWS.is_dir(), reason="shared/kestra-conformance is missing")
@pytest.mark.parametrize("case", SCHEDULER_CASES, ids=[case.id for case in SCHEDULER_CASES])
def test_it_runs_the_max_duration_conformance_flow(
    case, celery_worker_process, scheduler, acme, alice
):
    flow = flow_create(tenant=acme, user=alice, source=(FLOWS / case.file).read_text())
    row = services.execution_create(
        tenant=acme, namespace=flow.namespace.name, flow_id=flow.flow_id, provided={}
    )
    case.check(_result(acme, _final(acme, row.id)))
    assert SlaMonitor.objects.for_tenant(acme).count() == 0


BUSY = """id: busy
namespace: company.team
sla:
  - id: quick
    type: MAX_DURATION
    behavior: FAIL
    duration: PT0.5S
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
"""


def _entered(row: Execution, state: str) -> datetime:
    return next(datetime.fromisoformat(date) for name, date in row.histories if name == state)


def test_a_deadline_is_met_within_a_second_while_every_worker_is_busy(
    celery_worker_process, scheduler, acme, alice
):
    # given as many 30-second sleeps as the worker has processes (2): none is free
    flow_create(tenant=acme, user=alice, source=BUSY)
    rows = [
        services.execution_create(
            tenant=acme, namespace="company.team", flow_id="busy", provided={}
        )
        for _ in range(2)
    ]
    runs = TaskRun.objects.for_tenant(acme).filter(execution_id__in=[r.id for r in rows])
    deadline = time.monotonic() + 20
    while runs.filter(state="RUNNING").count() < 2:
        assert time.monotonic() < deadline, "the worker did not take both sleeps"
        time.sleep(0.05)
    # when their 0.5 s pass, the scheduler fails each within a second of its deadline
    lateness = []
    for created in rows:
        row = Execution.objects.for_tenant(acme).get(pk=_final(acme, created.id, timeout=20))
        assert row.state == "FAILED"
        lateness.append(_entered(row, "FAILED") - (row.start_date + timedelta(seconds=0.5)))
    assert all(timedelta(0) <= late <= BOUND for late in lateness), lateness
    assert set(runs.values_list("state", flat=True)) == {"FAILED"}
    # and the sleeps stop: each worker reports its attempt (its lease is released) long
    # before the 30 seconds are over
    while runs.exclude(lease_owner="").exists():
        assert time.monotonic() < deadline, "the sleeping tasks were not stopped"
        time.sleep(0.05)
    killed = LogEntry.objects.for_tenant(acme).filter(
        execution_id__in=[r.id for r in rows], message="The task was killed"
    )
    assert killed.count() == 2
    assert SlaMonitor.objects.for_tenant(acme).count() == 0
