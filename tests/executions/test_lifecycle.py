"""Kill, pause and resume, through the API (Kestra's paths) and the services: the engine
driven by hand (the `sent` fixture records the Celery messages), PostgreSQL rows."""

from __future__ import annotations

import pytest

from executions import kill_watch, lifecycle
from executions.models import LogEntry, TaskRun
from tenants.errors import Conflict, NotFound, Unprocessable
from tests.executions import lifecycle_support as support
from tests.executions.lifecycle_support import TWO_STEPS

pytestmark = pytest.mark.django_db(transaction=True)


# --- resume ------------------------------------------------------------------------------


def test_it_shows_a_paused_execution_and_its_pause_in_kestras_shape(acme, alice, alice_api, sent):
    execution = support.paused(acme, alice, sent)
    body = alice_api.get(f"/api/v1/acme/executions/{execution.id}").json()
    assert body["state"]["current"] == "PAUSED"
    assert [(r["taskId"], r["state"]["current"]) for r in body["taskRunList"]] == [
        ("ask", "PAUSED")
    ]


def test_it_refuses_invalid_on_resume_inputs_naming_each_and_changes_nothing(
    acme, alice, alice_api, sent
):
    execution = support.paused(acme, alice, sent)
    response = alice_api.post(
        f"/api/v1/acme/executions/{execution.id}/resume", {"amount": "12"}, format="json"
    )
    assert response.status_code == 422
    problems = {error["path"]: error["message"] for error in response.json()["errors"]}
    assert problems == {
        "onResume.answer": "Invalid input for `answer`, missing required input, "
        "but received `null`",
        "onResume.amount": "Invalid input for `amount`, it must be less than `10`, "
        "but received `12`",
    }
    assert support.row(acme, execution.id).state == "PAUSED"
    assert support.runs(acme, execution.id) == {"ask": "PAUSED"}
    assert sent == []


def test_it_resumes_with_on_resume_values_readable_as_pause_outputs(
    acme, alice, alice_api, sent, settings, tmp_path
):
    settings.AVIARY = {**settings.AVIARY, "STORAGE_ROOT": str(tmp_path)}
    execution = support.paused(acme, alice, sent)
    proof = tmp_path / "proof.txt"
    proof.write_bytes(b"signed")
    with proof.open("rb") as handle:
        response = alice_api.post(
            f"/api/v1/acme/executions/{execution.id}/resume",
            {"answer": "yes", "amount": "7", "proof": handle},
            format="multipart",
        )
    assert response.status_code == 204
    assert response.content == b""
    support.drive(acme, sent)
    row = support.row(acme, execution.id)
    assert row.state == "SUCCESS"
    values = TaskRun.objects.for_tenant(acme).get(execution=row, task_id="last").outputs["values"]
    assert values["answer"] == "yes"
    assert values["amount"] == "7"
    assert values["note"] == "none"
    assert values["proof"].startswith(
        f"kestra:///company/team/approval/executions/{execution.id}/inputs/proof/"
    )
    states = [state for state, _ in row.histories]
    assert states == ["CREATED", "RUNNING", "PAUSED", "RESTARTED", "RUNNING", "SUCCESS"]
    messages = list(
        LogEntry.objects.for_tenant(acme).filter(execution=row).values_list("message", flat=True)
    )
    assert "Resumed by a user" in messages


SECRET_PIN = """id: vault
namespace: company.team
tasks:
  - id: ask
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: pin
        type: SECRET
      - id: who
        type: STRING
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.ask.onResume.who }} gave {{ outputs.ask.onResume.pin }}"
  - id: last
    type: io.kestra.plugin.core.output.OutputValues
    values:
      size: "{{ outputs.ask.onResume.pin | length }}"
"""


def test_a_secret_on_resume_value_is_stored_sealed_and_never_shown(
    acme, alice, alice_api, client, sent
):
    execution = support.start(acme, alice, SECRET_PIN)
    support.drive(acme, sent)
    pin = "4711-very-secret-pin"
    response = alice_api.post(
        f"/api/v1/acme/executions/{execution.id}/resume",
        {"pin": pin, "who": "ada"},
        format="json",
    )
    assert response.status_code == 204
    support.drive(acme, sent)
    row = support.row(acme, execution.id)
    assert row.state == "SUCCESS"
    stored = TaskRun.objects.for_tenant(acme).get(execution=row, task_id="ask").outputs
    assert stored["onResume"]["who"] == "ada"
    assert stored["onResume"]["pin"]["type"] == "aviary.datatype:fernet_encrypted"
    assert pin not in str(stored)
    last = TaskRun.objects.for_tenant(acme).get(execution=row, task_id="last").outputs
    assert last["values"]["size"] == str(len(pin))  # the task read the clear value
    messages = list(
        LogEntry.objects.for_tenant(acme).filter(execution=row).values_list("message", flat=True)
    )
    assert "ada gave ********" in messages
    assert not any(pin in message for message in messages)
    body = alice_api.get(f"/api/v1/acme/executions/{execution.id}")
    assert pin not in body.content.decode()
    ask = next(r for r in body.json()["taskRunList"] if r["taskId"] == "ask")
    assert ask["outputs"]["onResume"] == {"pin": "********", "who": "ada"}
    client.force_login(alice)
    page = client.get(f"/ui/acme/executions/{execution.id}").content.decode()
    assert "ada" in page
    assert pin not in page
    assert "fernet_encrypted" not in page


def test_it_answers_409_to_resume_an_execution_that_is_not_paused(acme, alice, alice_api, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    response = alice_api.post(f"/api/v1/acme/executions/{execution.id}/resume", {}, format="json")
    assert response.status_code == 409
    assert "is not paused, it is RUNNING" in response.json()["message"]
    support.drive(acme, sent)
    response = alice_api.post(f"/api/v1/acme/executions/{execution.id}/resume", {}, format="json")
    assert response.status_code == 409
    assert "it is SUCCESS" in response.json()["message"]


def test_it_validates_on_resume_inputs_without_resuming(acme, alice, alice_api, sent):
    execution = support.paused(acme, alice, sent)
    response = alice_api.post(
        f"/api/v1/acme/executions/{execution.id}/resume/validate",
        {"answer": "ok", "amount": "x"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["namespace"]) == ("approval", "company.team")
    by_id = {item["input"]["id"]: item for item in body["inputs"]}
    assert by_id["answer"]["value"] == "ok"
    assert by_id["answer"]["errors"] == []
    assert by_id["amount"]["errors"] == [
        {
            "message": "Invalid input for `amount`, expected `INT` (a whole number such as 42), "
            "but received `x`"
        }
    ]
    assert by_id["note"]["value"] == "none"
    assert support.row(acme, execution.id).state == "PAUSED"


# --- manual pause ------------------------------------------------------------------------


def test_it_pauses_a_running_execution_between_tasks_and_resumes_where_it_stopped(
    acme, alice, alice_api, sent
):
    execution = support.start(acme, alice, TWO_STEPS)
    response = alice_api.post(f"/api/v1/acme/executions/{execution.id}/pause")
    assert response.status_code == 200
    assert support.row(acme, execution.id).state == "PAUSED"
    support.drive(acme, sent)  # the task already sent runs, and is recorded
    assert support.runs(acme, execution.id) == {"first": "SUCCESS"}
    assert support.row(acme, execution.id).state == "PAUSED"
    response = alice_api.post(f"/api/v1/acme/executions/{execution.id}/resume")
    assert response.status_code == 204
    support.drive(acme, sent)
    assert support.runs(acme, execution.id) == {"first": "SUCCESS", "second": "SUCCESS"}
    row = support.row(acme, execution.id)
    assert [state for state, _ in row.histories] == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RUNNING",
        "SUCCESS",
    ]


def test_it_answers_422_to_pause_an_execution_that_is_not_running(acme, alice, alice_api, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    support.drive(acme, sent)
    response = alice_api.post(f"/api/v1/acme/executions/{execution.id}/pause")
    assert response.status_code == 422
    assert response.json()["message"] == "The execution is not running"
    assert support.row(acme, execution.id).state == "SUCCESS"


# --- kill --------------------------------------------------------------------------------


def test_it_kills_a_running_execution_at_once_and_records_its_running_task_late(
    acme, alice, alice_api, sent
):
    execution = support.start(acme, alice, TWO_STEPS)
    assert [kind for kind, _, _ in sent] == ["run"]
    response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}/kill")
    assert response.status_code == 202
    row = support.row(acme, execution.id)
    assert row.state == "KILLED"
    assert [state for state, _ in row.histories][-2:] == ["KILLING", "KILLED"]
    assert support.runs(acme, execution.id) == {"first": "KILLED"}  # still CREATED: never starts
    support.drive(acme, sent)
    assert support.runs(acme, execution.id) == {"first": "KILLED"}
    assert support.row(acme, execution.id).state == "KILLED"


def test_it_kills_a_paused_execution_and_its_pause(acme, alice, alice_api, sent):
    execution = support.paused(acme, alice, sent)
    response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}/kill")
    assert response.status_code == 202
    assert support.row(acme, execution.id).state == "KILLED"
    assert support.runs(acme, execution.id) == {"ask": "KILLED"}


def test_it_answers_409_to_kill_a_finished_execution(acme, alice, alice_api, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    support.drive(acme, sent)
    response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}/kill")
    assert response.status_code == 409
    assert response.json()["message"] == (
        f"Execution {execution.id} has already ended (SUCCESS): it cannot be killed"
    )
    assert support.row(acme, execution.id).state == "SUCCESS"


def test_it_refuses_a_malformed_cascade_flag(acme, alice, alice_api, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    response = alice_api.delete(
        f"/api/v1/acme/executions/{execution.id}/kill?isOnKillCascade=maybe"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "isOnKillCascade"
    assert support.row(acme, execution.id).state == "RUNNING"


# --- tenancy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("delete", "kill"), ("post", "pause"), ("post", "resume"), ("post", "resume/validate")],
)
def test_it_hides_another_tenants_execution(
    acme, alice, mallory_api, sent, django_capture_on_commit_callbacks, method, suffix
):
    execution = support.paused(acme, alice, sent)
    with django_capture_on_commit_callbacks() as callbacks:
        response = getattr(mallory_api, method)(
            f"/api/v1/globex/executions/{execution.id}/{suffix}", {}, format="json"
        )
    assert response.status_code == 404
    assert "approval" not in response.content.decode()
    assert support.row(acme, execution.id).state == "PAUSED"
    assert callbacks == []


def test_the_services_name_a_missing_execution(acme):
    for call in (lifecycle.execution_kill, lifecycle.execution_pause, lifecycle.execution_resume):
        with pytest.raises(NotFound, match="Execution nope not found"):
            call(tenant=acme, execution_id="nope")


def test_the_services_raise_the_apis_errors(acme, alice, sent):
    execution = support.start(acme, alice, TWO_STEPS)
    with pytest.raises(Conflict):
        lifecycle.execution_resume(tenant=acme, execution_id=execution.id)
    support.drive(acme, sent)
    with pytest.raises(Unprocessable):
        lifecycle.execution_pause(tenant=acme, execution_id=execution.id)
    with pytest.raises(Conflict):
        lifecycle.execution_kill(tenant=acme, execution_id=execution.id)


# --- the worker's kill watch -------------------------------------------------------------


def test_the_kill_watch_answers_from_the_database_at_most_every_half_second(
    acme, alice, sent, monkeypatch
):
    execution = support.start(acme, alice, TWO_STEPS)
    (_, args, _), *_ = sent
    task_run_id = args[2]
    TaskRun.objects.for_tenant(acme).filter(pk=task_run_id).update(state="RUNNING")
    clock = [100.0]
    monkeypatch.setattr(kill_watch.time, "monotonic", lambda: clock[0])
    watch = kill_watch.KillWatch(acme, execution.id, task_run_id)
    assert watch() is False  # within the first half second: no query
    clock[0] += 0.5
    assert watch() is False  # running
    lifecycle.execution_kill(tenant=acme, execution_id=execution.id)
    clock[0] += 0.1
    assert watch() is False  # asked 0.1 s ago: not again yet
    clock[0] += 0.4
    assert watch() is True
    assert watch() is True  # stays stopped
