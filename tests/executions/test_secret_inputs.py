"""SECRET inputs are encrypted at rest: the execution row holds a Fernet token, the tasks get
the clear value, log lines and readers (API, pages) see `********`."""

from __future__ import annotations

import pytest
from django.db import connection

from executions import services
from executions.models import Execution, LogEntry, TaskRun
from flows.services import flow_create
from tenants.secrets.crypto import decrypt

pytestmark = pytest.mark.django_db(transaction=True)

CLEAR = "hunter2-very-secret"
FLOW = """id: login
namespace: company.team
inputs:
  - id: password
    type: SECRET
  - id: user
    type: STRING
  - id: pin
    type: SECRET
    required: false
    validator: "\\\\d{4}"
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.user }} uses {{ inputs.password }}"
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.password == 'hunter2-very-secret' }}"
  - id: script
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      PW: "{{ inputs.password }}"
    commands:
      - 'test "$PW" = "hunter2-very-secret" && echo "the environment holds it in clear"'
      - 'echo "the script saw $PW"'
"""


def _drive(acme, sent, execution_id: str) -> Execution:
    """Play executor and worker by hand (`sent`: tests/executions/conftest.py) until the
    execution ends."""
    for _ in range(50):
        if not sent:
            break
        kind, args, _ = sent.pop(0)
        if kind == "advance":
            services.execution_advance(tenant=acme, execution_id=args[1])
        else:
            services.task_run_execute(tenant=acme, execution_id=args[1], task_run_id=args[2])
    return Execution.objects.for_tenant(acme).get(pk=execution_id)


def _raw_inputs(execution_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT inputs::text FROM {Execution._meta.db_table} WHERE id = %s",  # noqa: S608
            [execution_id],
        )
        return cursor.fetchone()[0]


def test_a_secret_input_is_stored_encrypted_and_reaches_tasks_in_clear(
    acme, alice, alice_api, sent
):
    flow_create(tenant=acme, user=alice, source=FLOW)
    response = alice_api.post(
        "/api/v1/acme/executions/company.team/login",
        {"password": CLEAR, "user": "bob"},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    execution_id = response.json()["id"]
    assert CLEAR.encode() not in response.content

    raw = _raw_inputs(execution_id)
    assert CLEAR not in raw
    stored = Execution.objects.for_tenant(acme).get(pk=execution_id).inputs
    assert stored["user"] == "bob"
    assert stored["pin"] is None
    assert stored["password"]["type"] == "aviary.datatype:fernet_encrypted"
    assert decrypt(stored["password"]["value"]) == CLEAR

    row = _drive(acme, sent, execution_id)
    assert row.state == "SUCCESS"
    assert CLEAR not in _raw_inputs(execution_id)  # every save keeps it sealed
    check = TaskRun.objects.for_tenant(acme).get(execution_id=execution_id, task_id="check")
    assert check.outputs == {"value": "true"}
    messages = list(
        LogEntry.objects.for_tenant(acme)
        .filter(execution_id=execution_id)
        .values_list("message", flat=True)
    )
    assert "bob uses ********" in messages
    assert "the environment holds it in clear" in messages
    assert "the script saw ********" in messages
    assert not [m for m in messages if CLEAR in m]

    got = alice_api.get(f"/api/v1/acme/executions/{execution_id}")
    assert got.json()["inputs"] == {"password": "********", "user": "bob", "pin": "********"}
    assert CLEAR.encode() not in got.content
    assert stored["password"]["value"].encode() not in got.content  # nor its token
    logs = alice_api.get(f"/api/v1/acme/logs/{execution_id}")
    assert CLEAR.encode() not in logs.content


def test_an_invalid_secret_input_is_refused_without_quoting_it(acme, alice, alice_api, sent):
    flow_create(tenant=acme, user=alice, source=FLOW)
    response = alice_api.post(
        "/api/v1/acme/executions/company.team/login",
        {"password": CLEAR, "user": "bob", "pin": "pin-is-not-digits"},
        format="multipart",
    )
    assert response.status_code == 422
    assert b"pin-is-not-digits" not in response.content
    assert CLEAR.encode() not in response.content
    assert "inputs.pin" in response.content.decode()
    assert not Execution.objects.for_tenant(acme).exists()
