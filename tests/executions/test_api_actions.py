"""`POST /api/v1/{tenant}/executions/{id}/restart`, `/replay`, `/state` and `/labels`: the
execution runs again or a new one is created, conflicting requests are 409s that change
nothing, bad input is a 422 naming the field, another tenant's execution is a 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from executions import services
from executions.models import Execution, TaskRun
from flows.services import flow_create, flow_update
from tests.executions.actions_support import (
    FLAKY,
    HELLO,
    history,
    messages,
    run,
    states,
    task_runs,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky(acme, alice):
    return flow_create(tenant=acme, user=alice, source=FLAKY)


@pytest.fixture
def hello(acme, alice):
    return flow_create(tenant=acme, user=alice, source=HELLO)


def _row(tenant, execution_id) -> Execution:
    return Execution.objects.for_tenant(tenant).get(pk=execution_id)


def _running(acme) -> Execution:
    """An execution whose first task run was sent but not run (the messages are dropped)."""
    return services.execution_create(
        tenant=acme, namespace="company.team", flow_id="hello", provided={}
    )


# --- restart --------------------------------------------------------------------------------


def test_it_restarts_a_failed_execution_from_its_failed_task(acme, flaky, alice_api, drive):
    failed = run(drive, acme, "flaky")
    assert failed.state == "FAILED"
    assert states(acme, failed.id) == [("first", "SUCCESS"), ("flaky", "FAILED")]

    response = drive(acme, lambda: alice_api.post(f"/api/v1/acme/executions/{failed.id}/restart"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == failed.id
    assert body["state"]["current"] == "RESTARTED"
    assert body["metadata"]["attemptNumber"] == 2
    assert [r["state"]["current"] for r in body["taskRunList"]] == ["SUCCESS", "RESTARTED"]
    ended = _row(acme, failed.id)
    assert ended.state == "SUCCESS"
    assert history(ended) == ["CREATED", "RUNNING", "FAILED", "RESTARTED", "RUNNING", "SUCCESS"]
    runs = task_runs(acme, failed.id)
    assert [(r.task_id, r.state, len(r.attempts)) for r in runs] == [
        ("first", "SUCCESS", 1),
        ("flaky", "SUCCESS", 2),
        ("last", "SUCCESS", 1),
    ]
    assert [r.position for r in runs] == [0, 1, 2]
    assert "Flow restarted" in messages(acme, failed.id)


def test_a_restart_on_another_revision_creates_a_new_execution(
    acme, alice, flaky, alice_api, drive
):
    failed = run(drive, acme, "flaky")
    flow_update(
        tenant=acme,
        user=alice,
        namespace="company.team",
        flow_id="flaky",
        source=FLAKY.replace("message: last", "message: last of revision 2"),
    )

    response = drive(
        acme, lambda: alice_api.post(f"/api/v1/acme/executions/{failed.id}/restart?revision=2")
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] != failed.id
    assert body["parentId"] == failed.id
    assert body["flowRevision"] == 2
    assert _row(acme, failed.id).state == "FAILED"  # the original stays as it ended
    assert _row(acme, body["id"]).state == "SUCCESS"
    assert "last of revision 2" in messages(acme, body["id"])


@pytest.mark.parametrize(
    ("_case", "query", "status", "field"),
    [
        ("not a number", "revision=two", 422, "revision"),
        ("zero", "revision=0", 422, "revision"),
        ("no such revision", "revision=9", 404, None),
    ],
)
def test_it_refuses_a_bad_revision(acme, flaky, alice_api, drive, _case, query, status, field):
    failed = run(drive, acme, "flaky")
    response = alice_api.post(f"/api/v1/acme/executions/{failed.id}/restart?{query}")
    assert response.status_code == status, response.json()
    if field:
        assert response.json()["errors"][0]["path"] == field
    assert _row(acme, failed.id).state == "FAILED"
    assert Execution.objects.for_tenant(acme).count() == 1


def test_restarting_a_running_execution_is_a_conflict(acme, hello, alice_api, sent):
    running = _running(acme)
    before = _row(acme, running.id).histories
    response = alice_api.post(f"/api/v1/acme/executions/{running.id}/restart")
    assert response.status_code == 409
    assert response.json()["message"] == (
        f"Execution {running.id} is RUNNING: restart applies to executions that have ended; "
        "wait for its end or kill it"
    )
    assert _row(acme, running.id).histories == before


def test_restarting_an_execution_without_failure_is_refused(acme, hello, alice_api, drive):
    ended = run(drive, acme, "hello")
    response = alice_api.post(f"/api/v1/acme/executions/{ended.id}/restart")
    assert response.status_code == 422
    assert "No task found to restart" in response.json()["message"]
    assert _row(acme, ended.id).state == "SUCCESS"


APPROVAL = """id: approval
namespace: company.team
tasks:
  - id: ask
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: note
        type: STRING
        defaults: none given
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.ask.onResume.note ?? 'restarted' }}"
"""


def test_a_paused_execution_restarts_from_its_pause_as_kestra_allows(acme, alice, alice_api, drive):
    flow_create(tenant=acme, user=alice, source=APPROVAL)
    paused = run(drive, acme, "approval")
    assert paused.state == "PAUSED"

    response = drive(acme, lambda: alice_api.post(f"/api/v1/acme/executions/{paused.id}/restart"))

    assert response.status_code == 200, response.json()
    assert response.json()["state"]["current"] == "RESTARTED"
    ended = _row(acme, paused.id)
    assert ended.state == "SUCCESS"
    assert history(ended) == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RESTARTED",
        "RUNNING",
        "SUCCESS",
    ]
    assert states(acme, paused.id) == [("ask", "SUCCESS"), ("last", "SUCCESS")]
    last = TaskRun.objects.for_tenant(acme).get(execution_id=paused.id, task_id="last")
    assert last.outputs == {"value": "restarted"}  # no onResume values: nothing was given


# --- replay ---------------------------------------------------------------------------------


def test_it_replays_from_the_start_as_a_new_linked_execution(acme, hello, alice_api, drive):
    original = run(drive, acme, "hello", labels=(("team", "data"),))

    response = drive(acme, lambda: alice_api.post(f"/api/v1/acme/executions/{original.id}/replay"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] != original.id
    assert body["parentId"] == original.id
    assert body["originalId"] == original.id
    assert body["state"]["current"] == "CREATED"
    labels = {item["key"]: item["value"] for item in body["labels"]}
    assert labels == {"team": "data", "system.correlationId": original.id}
    replayed = _row(acme, body["id"])
    assert replayed.state == "SUCCESS"
    assert states(acme, replayed.id) == [("one", "SUCCESS"), ("two", "SUCCESS")]


def test_it_replays_from_a_task_run(acme, hello, alice_api, drive):
    original = run(drive, acme, "hello")
    first, second = task_runs(acme, original.id)

    response = drive(
        acme,
        lambda: alice_api.post(
            f"/api/v1/acme/executions/{original.id}/replay?taskRunId={second.id}"
        ),
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"]["current"] == "RESTARTED"
    copied = body["taskRunList"]
    assert [(r["taskId"], r["state"]["current"]) for r in copied] == [
        ("one", "SUCCESS"),
        ("two", "RESTARTED"),
    ]
    assert copied[0]["id"] != first.id
    assert copied[0]["outputs"] == first.outputs
    runs = task_runs(acme, body["id"])
    assert [(r.task_id, r.state, len(r.attempts)) for r in runs] == [
        ("one", "SUCCESS", 1),
        ("two", "SUCCESS", 2),
    ]
    assert _row(acme, body["id"]).state == "SUCCESS"
    assert len(task_runs(acme, original.id)) == 2  # the original is untouched


def test_a_replay_from_an_unknown_task_run_is_refused(acme, hello, alice_api, drive):
    original = run(drive, acme, "hello")
    response = alice_api.post(f"/api/v1/acme/executions/{original.id}/replay?taskRunId=nope")
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "taskRunId"
    assert Execution.objects.for_tenant(acme).count() == 1


def test_a_replay_from_a_task_run_of_a_running_execution_is_a_conflict(
    acme, hello, alice_api, sent
):
    running = _running(acme)
    task_run = TaskRun.objects.for_tenant(acme).filter(execution_id=running.id).first()
    response = alice_api.post(
        f"/api/v1/acme/executions/{running.id}/replay?taskRunId={task_run.id}"
    )
    assert response.status_code == 409
    assert Execution.objects.for_tenant(acme).count() == 1


# --- change of a task run's state -----------------------------------------------------------


def test_a_failed_task_run_set_to_success_lets_the_execution_go_on(acme, flaky, alice_api, drive):
    failed = run(drive, acme, "flaky")
    flaky_run = task_runs(acme, failed.id)[1]

    response = drive(
        acme,
        lambda: alice_api.post(
            f"/api/v1/acme/executions/{failed.id}/state",
            {"taskRunId": flaky_run.id, "state": "SUCCESS"},
            format="json",
        ),
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"]["current"] == "RESTARTED"
    assert _row(acme, failed.id).state == "SUCCESS"
    runs = task_runs(acme, failed.id)
    assert [(r.task_id, r.state, len(r.attempts)) for r in runs] == [
        ("first", "SUCCESS", 1),
        ("flaky", "SUCCESS", 1),
        ("last", "SUCCESS", 1),
    ]


@pytest.mark.parametrize(
    ("_case", "body", "field"),
    [
        ("unknown state", {"taskRunId": "RUN", "state": "DONE"}, "state"),
        ("not forcible", {"taskRunId": "RUN", "state": "RUNNING"}, "state"),
        ("no task run", {"state": "SUCCESS"}, "taskRunId"),
        ("unknown task run", {"taskRunId": "nope", "state": "SUCCESS"}, "taskRunId"),
        ("not an object", ["SUCCESS"], "taskRunId"),
    ],
)
def test_it_refuses_a_bad_state_change(acme, flaky, alice_api, drive, _case, body, field):
    failed = run(drive, acme, "flaky")
    run_id = task_runs(acme, failed.id)[1].id
    if isinstance(body, dict) and body.get("taskRunId") == "RUN":
        body = {**body, "taskRunId": run_id}
    response = alice_api.post(f"/api/v1/acme/executions/{failed.id}/state", body, format="json")
    assert response.status_code == 422, response.json()
    assert field in [error["path"] for error in response.json()["errors"]]
    assert _row(acme, failed.id).state == "FAILED"


def test_changing_a_state_in_a_running_execution_is_a_conflict(acme, hello, alice_api, sent):
    running = _running(acme)
    task_run = TaskRun.objects.for_tenant(acme).filter(execution_id=running.id).first()
    response = alice_api.post(
        f"/api/v1/acme/executions/{running.id}/state",
        {"taskRunId": task_run.id, "state": "SUCCESS"},
        format="json",
    )
    assert response.status_code == 409
    assert "RUNNING" in response.json()["message"]
    assert TaskRun.objects.for_tenant(acme).get(pk=task_run.id).state == "CREATED"


# --- labels ---------------------------------------------------------------------------------


def test_it_merges_labels_into_an_ended_execution(acme, hello, alice_api, drive):
    ended = run(drive, acme, "hello", labels=(("team", "data"), ("env", "prod")))
    response = alice_api.post(
        f"/api/v1/acme/executions/{ended.id}/labels",
        [{"key": "env", "value": "dev"}, {"key": "owner", "value": "ann"}],
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["labels"] == [
        {"key": "team", "value": "data"},
        {"key": "env", "value": "dev"},
        {"key": "system.correlationId", "value": ended.id},
        {"key": "owner", "value": "ann"},
    ]
    assert _row(acme, ended.id).labels == response.json()["labels"]


@pytest.mark.parametrize(
    ("_case", "body", "path", "words"),
    [
        (
            "system label",
            [{"key": "system.readOnly", "value": "true"}],
            "labels[0].key",
            "Kestra itself",
        ),
        (
            "changed correlation",
            [{"key": "system.correlationId", "value": "x"}],
            "labels[0].key",
            "offending label",
        ),
        ("not a list", {"key": "a", "value": "b"}, "labels", "expected a list"),
        ("value not a string", [{"key": "a", "value": 3}], "labels[0].value", "expected a string"),
        ("empty key", [{"key": "", "value": "b"}], "labels[0].key", "needs a key"),
    ],
)
def test_it_refuses_bad_labels_naming_each(acme, hello, alice_api, drive, _case, body, path, words):
    ended = run(drive, acme, "hello")
    before = _row(acme, ended.id).labels
    response = alice_api.post(f"/api/v1/acme/executions/{ended.id}/labels", body, format="json")
    assert response.status_code == 422, response.json()
    errors = response.json()["errors"]
    assert errors[0]["path"] == path
    assert words in errors[0]["message"]
    assert _row(acme, ended.id).labels == before


def test_labels_of_a_running_execution_are_a_conflict(acme, hello, alice_api, sent):
    running = _running(acme)
    response = alice_api.post(
        f"/api/v1/acme/executions/{running.id}/labels", [{"key": "a", "value": "b"}], format="json"
    )
    assert response.status_code == 409
    assert "once it has ended" in response.json()["message"]


# --- read-only executions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "path", "body"),
    [
        ("restart", "restart", None),
        ("labels", "labels", [{"key": "a", "value": "b"}]),
        ("state", "state", {"taskRunId": "RUN", "state": "SUCCESS"}),
        ("delete", "", None),
        ("change status", "change-status?status=SUCCESS", None),
    ],
)
def test_a_read_only_execution_cannot_be_changed(acme, flaky, alice_api, drive, _case, path, body):
    failed = run(drive, acme, "flaky")
    read_only = [*failed.labels, {"key": "system.readOnly", "value": "true"}]
    Execution.objects.for_tenant(acme).filter(pk=failed.id).update(labels=read_only)
    if isinstance(body, dict):
        body = {**body, "taskRunId": task_runs(acme, failed.id)[1].id}
    url = f"/api/v1/acme/executions/{failed.id}" + (f"/{path}" if path else "")
    response = alice_api.post(url, body, format="json") if path else alice_api.delete(url)
    assert response.status_code == 409, response.json()
    assert response.json()["message"] == (
        f'Execution {failed.id} is read-only (label system.readOnly: "true"): it cannot be '
        "changed from the UI or the API"
    )
    row = _row(acme, failed.id)
    assert (row.state, row.labels) == ("FAILED", read_only)
    assert states(acme, failed.id) == [("first", "SUCCESS"), ("flaky", "FAILED")]


def test_a_read_only_execution_can_still_be_replayed(acme, hello, alice_api, drive):
    ended = run(drive, acme, "hello")
    read_only = [*ended.labels, {"key": "system.readOnly", "value": "true"}]
    Execution.objects.for_tenant(acme).filter(pk=ended.id).update(labels=read_only)
    response = alice_api.post(f"/api/v1/acme/executions/{ended.id}/replay")
    assert response.status_code == 200


# --- tenants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("restart", None),
        ("replay", None),
        ("state", {"taskRunId": "x", "state": "SUCCESS"}),
        ("labels", [{"key": "a", "value": "b"}]),
        ("change-status?status=WARNING", None),
    ],
)
def test_another_tenants_execution_is_not_found(
    acme, flaky, globex, mallory_api, alice_api, drive, path, body
):
    failed = run(drive, acme, "flaky")
    before = (_row(acme, failed.id).histories, _row(acme, failed.id).labels)
    for tenant in ("globex", "acme"):
        response = mallory_api.post(
            f"/api/v1/{tenant}/executions/{failed.id}/{path}", body, format="json"
        )
        assert response.status_code == 404, (tenant, response.json())
        assert b"company.team" not in response.content
    assert (_row(acme, failed.id).histories, _row(acme, failed.id).labels) == before
    assert Execution.objects.for_tenant(acme).count() == 1


# --- change of an execution's status (conformance: minimal.yaml) ----------------------------

MINIMAL = Path("/work/shared/kestra-conformance/flows/minimal.yaml")


@pytest.mark.skipif(not MINIMAL.exists(), reason="the conformance flows are not here")
def test_conformance_minimal_changes_status_to_warning(acme, alice, alice_api, drive):
    """EXPECTED.md, minimal.yaml: SUCCESS; `change-status?status=WARNING` → WARNING (its flow
    label system.readOnly is the flow's: executions do not inherit system labels)."""
    flow_create(tenant=acme, user=alice, source=MINIMAL.read_text())
    row = drive(
        acme,
        lambda: services.execution_create(
            tenant=acme, namespace="io.kestra.tests", flow_id="minimal", provided={}
        ),
    )
    assert _row(acme, row.id).state == "SUCCESS"

    response = alice_api.post(f"/api/v1/acme/executions/{row.id}/change-status?status=WARNING")

    assert response.status_code == 200, response.json()
    assert response.json()["state"]["current"] == "WARNING"
    assert history(_row(acme, row.id))[-2:] == ["SUCCESS", "WARNING"]
    assert [r["state"]["current"] for r in response.json()["taskRunList"]] == ["SUCCESS"]


@pytest.mark.parametrize(
    ("_case", "query", "status", "field"),
    [
        ("no status", "", 422, "status"),
        ("unknown", "status=DONE", 422, "status"),
        ("not an end", "status=RUNNING", 422, "status"),
    ],
)
def test_it_refuses_a_bad_status(acme, hello, alice_api, drive, _case, query, status, field):
    ended = run(drive, acme, "hello")
    response = alice_api.post(f"/api/v1/acme/executions/{ended.id}/change-status?{query}")
    assert response.status_code == status, response.json()
    assert response.json()["errors"][0]["path"] == field
    assert _row(acme, ended.id).state == "SUCCESS"


def test_changing_the_status_of_a_running_execution_is_a_conflict(acme, hello, alice_api, sent):
    running = _running(acme)
    response = alice_api.post(f"/api/v1/acme/executions/{running.id}/change-status?status=FAILED")
    assert response.status_code == 409
    assert _row(acme, running.id).state == "RUNNING"
