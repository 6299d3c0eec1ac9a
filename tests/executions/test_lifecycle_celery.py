"""A kill reaches a real worker: the script task of an execution running on the Celery
worker process is stopped, its whole process group gone within a couple of seconds, and its
attempt recorded KILLED."""

from __future__ import annotations

import os
import time

import pytest

from executions.models import Execution, LogEntry, TaskRun
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_kill_stops_the_script_process_on_the_worker(
    celery_worker_process, acme, alice, alice_api, tmp_path
):
    pid_file = tmp_path / "script.pid"
    flow_create(
        tenant=acme,
        user=alice,
        source=f"""id: long
namespace: company.team
tasks:
  - id: sleepy
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo $$ > {pid_file}
      - sleep 30
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: not reached
""",
    )
    created = alice_api.post("/api/v1/acme/executions/company.team/long", {}, format="json")
    assert created.status_code == 200
    execution_id = created.json()["id"]
    pid_text = _wait(lambda: pid_file.exists() and pid_file.read_text().strip(), 20, "the script")
    pgid = int(pid_text)
    assert _group_alive(pgid)

    asked = time.monotonic()
    response = alice_api.delete(f"/api/v1/acme/executions/{execution_id}/kill")
    assert response.status_code == 202
    assert Execution.objects.for_tenant(acme).get(pk=execution_id).state == "KILLED"

    _wait(lambda: not _group_alive(pgid), 5, "the script's process group to end")
    assert time.monotonic() - asked < 3.0
    runs = TaskRun.objects.for_tenant(acme).filter(execution_id=execution_id)
    sleepy = _wait(
        lambda: runs.filter(task_id="sleepy", state="KILLED").first(), 10, "the KILLED attempt"
    )
    assert [state for state, _ in sleepy.attempts[-1]][-1] == "KILLED"
    assert not runs.filter(task_id="never").exists()
    messages = LogEntry.objects.for_tenant(acme).filter(execution_id=execution_id)
    assert messages.filter(task_id="sleepy", level="ERROR", message="The task was killed").exists()
