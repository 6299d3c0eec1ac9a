"""A worker process killed with SIGKILL in the middle of a task loses nothing: its lease runs
out, the sweeper ends that attempt KILLED and another worker runs the task as a new attempt.
Duplicate deliveries change nothing. Celery sends are recorded here, so each step is driven
by hand in a known order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from executions import services
from executions.models import Execution, LogEntry, TaskRun
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

FLOW = """id: slow
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: done
"""


def _doomed_worker(tenant_id: int, execution_id: str, task_run_id: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "AVIARY_TASK_LEASE_SECONDS": "1",
    }
    code = (
        "import django; django.setup()\n"
        "from executions import tasks\n"
        f"tasks.run_task_run.run({tenant_id}, {execution_id!r}, {task_run_id!r})\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


def test_it_recovers_a_task_run_whose_worker_was_killed(acme, alice, sent, settings):
    settings.AVIARY = {**settings.AVIARY, "TASK_LEASE_SECONDS": 1}
    flow_create(tenant=acme, user=alice, source=FLOW)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="slow", provided={}
    )
    services.execution_advance(tenant=acme, execution_id=row.id)
    (name, (tenant_id, execution_id, task_run_id), _) = next(m for m in sent if m[0] == "run")

    doomed = _doomed_worker(tenant_id, execution_id, task_run_id)
    runs = TaskRun.objects.for_tenant(acme)
    deadline = time.monotonic() + 20
    while not runs.filter(pk=task_run_id, state="RUNNING").exclude(lease_owner="").exists():
        assert doomed.poll() is None, "the worker process ended early"
        assert time.monotonic() < deadline, "the worker never started the task"
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)

    assert services.task_runs_recover_lost() == 0  # the lease has not run out yet
    time.sleep(1.2)
    sent.clear()
    assert services.task_runs_recover_lost() == 1
    assert sent == [("run", (tenant_id, execution_id, task_run_id), {"takeover": True})]
    napping = runs.get(pk=task_run_id)
    assert [a[-1][0] for a in napping.attempts] == ["KILLED", "RUNNING"]

    services.task_run_execute(
        tenant=acme, execution_id=execution_id, task_run_id=task_run_id, takeover=True
    )
    # the same message delivered twice changes nothing
    services.task_run_execute(
        tenant=acme, execution_id=execution_id, task_run_id=task_run_id, takeover=True
    )
    for _ in range(10):
        services.execution_advance(tenant=acme, execution_id=execution_id)
        for name, args, _kwargs in list(sent):
            if name == "run" and args[2] != task_run_id:
                services.task_run_execute(tenant=acme, execution_id=args[1], task_run_id=args[2])
        sent.clear()
        if Execution.objects.for_tenant(acme).get(pk=execution_id).state == "SUCCESS":
            break
    assert Execution.objects.for_tenant(acme).get(pk=execution_id).state == "SUCCESS"
    napping = runs.get(pk=task_run_id)
    assert [a[-1][0] for a in napping.attempts] == ["KILLED", "SUCCESS"]
    assert napping.lease_owner == ""
    assert (
        LogEntry.objects.for_tenant(acme)
        .filter(
            execution_id=execution_id,
            level="WARN",
            message__contains="worker running this task was lost",
        )
        .exists()
    )


def test_it_wakes_executions_whose_delayed_message_was_lost(acme, alice, sent):
    from datetime import timedelta

    from django.utils import timezone

    flow_create(tenant=acme, user=alice, source=FLOW)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="slow", provided={}
    )
    Execution.objects.for_tenant(acme).filter(pk=row.id).update(
        wake_at=timezone.now() - timedelta(seconds=1)
    )
    sent.clear()
    assert services.executions_wake_due() == 1
    assert sent == [("advance", (acme.pk, row.id), {})]


LOOP = """id: loop
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c"]
    concurrencyLimit: 0
    tasks:
      - id: nap
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT1S
"""


def test_a_worker_killed_in_a_foreach_loses_no_iteration_and_runs_none_twice(
    acme, alice, sent, settings
):
    settings.AVIARY = {**settings.AVIARY, "TASK_LEASE_SECONDS": 1}
    flow_create(tenant=acme, user=alice, source=LOOP)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="loop", provided={}
    )
    runs = TaskRun.objects.for_tenant(acme).filter(execution_id=row.id)
    naps = {run.value: run.id for run in runs.filter(task_id="nap")}
    assert sorted(naps) == ["a", "b", "c"]
    assert sorted(args[2] for name, args, _ in sent if name == "run") == sorted(naps.values())
    sent.clear()

    doomed = _doomed_worker(acme.pk, row.id, naps["b"])
    deadline = time.monotonic() + 20
    while not runs.filter(pk=naps["b"], state="RUNNING").exclude(lease_owner="").exists():
        assert doomed.poll() is None, "the worker process ended early"
        assert time.monotonic() < deadline, "the worker never started the iteration"
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)

    for value in ("a", "c"):  # the other iterations go on on a live worker
        services.task_run_execute(tenant=acme, execution_id=row.id, task_run_id=naps[value])
    time.sleep(1.2)
    assert services.task_runs_recover_lost() == 1
    assert sent == [("run", (acme.pk, row.id, naps["b"]), {"takeover": True})]
    sent.clear()
    services.task_run_execute(
        tenant=acme, execution_id=row.id, task_run_id=naps["b"], takeover=True
    )
    for _ in range(5):
        if Execution.objects.for_tenant(acme).get(pk=row.id).state == "SUCCESS":
            break
        services.execution_advance(tenant=acme, execution_id=row.id)

    assert Execution.objects.for_tenant(acme).get(pk=row.id).state == "SUCCESS"
    nap_runs = {run.value: run for run in runs.filter(task_id="nap")}
    assert sorted(nap_runs) == ["a", "b", "c"]  # one task run per iteration, none twice
    attempts = {value: [a[-1][0] for a in run.attempts] for value, run in nap_runs.items()}
    assert attempts == {"a": ["SUCCESS"], "b": ["KILLED", "SUCCESS"], "c": ["SUCCESS"]}
