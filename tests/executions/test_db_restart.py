"""The database restarting mid-run is survived once it is back: a real Celery worker whose
PostgreSQL connections are all cut while it runs a task (what a restart looks like from the
client) finishes the execution, with each task run once."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from executions.models import Execution, LogEntry, TaskRun
from executions.services import execution_create
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """id: steady
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: two
  - id: short
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.2S
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: done
"""
TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED"}


def _cut_every_other_connection() -> int:
    """`pg_terminate_backend` for every session on this database but the test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _wait(predicate, timeout: float, what: str, log) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} after {timeout} s\n{log.read_text()[-4000:]}"
        time.sleep(0.05)


def test_a_run_survives_its_database_connections_being_cut(celery_worker_process, acme, alice):
    flow_create(tenant=acme, user=alice, source=FLOW)
    row = execution_create(tenant=acme, namespace="company.team", flow_id="steady", provided={})
    runs = TaskRun.objects.for_tenant(acme).filter(execution_id=row.id)

    _wait(
        lambda: runs.filter(task_id="nap", state="RUNNING").exists(),
        15,
        "the worker never started the sleep",
        celery_worker_process,
    )
    started = time.monotonic()
    assert _cut_every_other_connection() >= 1  # the worker's sessions, at least

    executions = Execution.objects.for_tenant(acme)
    _wait(
        lambda: executions.get(pk=row.id).state in TERMINAL,
        20,
        "the execution did not end",
        celery_worker_process,
    )
    assert executions.get(pk=row.id).state == "SUCCESS", celery_worker_process.read_text()[-4000:]
    assert time.monotonic() - started < 20
    # The worker met its cut sessions in a step (with_reconnect logs "database unavailable"),
    # in the kill check during an attempt, or silently in Django's health check at the
    # start of its next Celery task: whichever came first, it went on on a new session.
    by_task = {}
    for run in runs:
        by_task.setdefault(run.task_id, []).append(run)
    assert {task_id: len(found) for task_id, found in by_task.items()} == {
        "first": 1,
        "nap": 1,
        "second": 1,
        "short": 1,
        "last": 1,
    }
    for task_id, (run,) in by_task.items():
        assert run.state == "SUCCESS", task_id
        assert [attempt[-1][0] for attempt in run.attempts] == ["SUCCESS"], task_id
    messages = list(
        LogEntry.objects.for_tenant(acme)
        .filter(execution_id=row.id, task_id__in=["first", "second"])
        .values_list("message", flat=True)
    )
    assert sorted(messages) == ["one", "two"]  # logged once each
