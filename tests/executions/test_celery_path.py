"""Executions run for real: API create → executor and worker processes through Redis →
PostgreSQL rows in Kestra's shape, with logs, outputs, retries and failures."""

from __future__ import annotations

import time

import pytest

from executions.models import Execution, LogEntry
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """id: hello
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.who }}"
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.who | upper }}"
  - id: branch
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.who == 'Aviary' }}"
    then:
      - id: chosen
        type: io.kestra.plugin.core.output.OutputValues
        values:
          picked: "{{ outputs.answer.value }}"
"""


def _wait(acme, execution_id: str, timeout: float = 30) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        row = Execution.objects.for_tenant(acme).get(pk=execution_id)
        if row.state in {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"}:
            return row
        assert time.monotonic() < deadline, f"still {row.state} after {timeout} s"
        time.sleep(0.05)


def test_it_runs_a_flow_on_real_workers(celery_worker_process, acme, alice, alice_api):
    flow_create(tenant=acme, user=alice, source=FLOW)
    response = alice_api.post(
        "/api/v1/acme/executions/company.team/hello", {"who": "Aviary"}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    # the first decision is taken with the create: RUNNING, its first task run sent
    assert body["state"]["current"] == "RUNNING"
    assert [run["state"]["current"] for run in body["taskRunList"]] == ["CREATED"]
    row = _wait(acme, body["id"])
    assert row.state == "SUCCESS", celery_worker_process.read_text()[-3000:]
    got = alice_api.get(f"/api/v1/acme/executions/{body['id']}").json()
    runs = {run["taskId"]: run for run in got["taskRunList"]}
    assert runs["answer"]["outputs"] == {"value": "AVIARY"}
    assert runs["chosen"]["outputs"] == {"values": {"picked": "AVIARY"}}
    assert [h["state"] for h in got["state"]["histories"]] == ["CREATED", "RUNNING", "SUCCESS"]
    assert {"key": "system.correlationId", "value": body["id"]} in got["labels"]
    messages = list(
        LogEntry.objects.for_tenant(acme)
        .filter(execution_id=body["id"])
        .values_list("message", flat=True)
    )
    assert "Hello Aviary" in messages
    logs = alice_api.get(f"/api/v1/acme/logs/{body['id']}").json()
    assert any(line["message"] == "Hello Aviary" and line["taskId"] == "greet" for line in logs)


def test_it_waits_for_the_end_when_asked(celery_worker_process, acme, alice, alice_api):
    flow_create(tenant=acme, user=alice, source=FLOW)
    response = alice_api.post("/api/v1/acme/executions/company.team/hello?wait=true")
    assert response.status_code == 200
    assert response.json()["state"]["current"] == "SUCCESS"


def test_it_records_a_failure_and_its_errors_branch(celery_worker_process, acme, alice, alice_api):
    flow_create(
        tenant=acme,
        user=alice,
        source="""id: broken
namespace: company.team
tasks:
  - id: fail
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: boom
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: "failed: {{ errorLogs()[0].message }}"
""",
    )
    response = alice_api.post("/api/v1/acme/executions/company.team/broken?wait=true")
    body = response.json()
    assert body["state"]["current"] == "FAILED"
    runs = {run["taskId"]: run["state"]["current"] for run in body["taskRunList"]}
    assert runs == {"fail": "FAILED", "alert": "SUCCESS"}
    logs = alice_api.get(f"/api/v1/acme/logs/{body['id']}").json()
    assert any(
        line["message"].startswith("failed: ") and "boom" in line["message"] for line in logs
    )


def test_it_never_shows_secret_inputs(acme, alice, alice_api):
    flow_create(
        tenant=acme,
        user=alice,
        source="""id: login
namespace: company.team
inputs:
  - id: password
    type: SECRET
  - id: user
    type: STRING
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
""",
    )
    response = alice_api.post(
        "/api/v1/acme/executions/company.team/login",
        {"password": "hunter2-very-secret", "user": "bob"},
        format="multipart",
    )
    assert response.status_code == 200
    assert b"hunter2-very-secret" not in response.content
    assert response.json()["inputs"] == {"password": "********", "user": "bob"}
    got = alice_api.get(f"/api/v1/acme/executions/{response.json()['id']}")
    assert b"hunter2-very-secret" not in got.content
