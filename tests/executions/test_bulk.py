"""Bulk actions over executions (`.../restart/by-query`, `/by-ids`, `DELETE .../by-query`,
`.../labels/by-query`...): the ids are fixed when asked, a background job handles them one
transaction each, counts its progress and records each failure without stopping."""

from __future__ import annotations

import pytest

from executions import bulk, services, tasks
from executions.models import BulkAction, Execution
from flows.services import flow_create
from tenants.errors import Conflict
from tests.executions.actions_support import (
    FLAKY,
    HELLO,
    run,
    states,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def flows(acme, alice):
    flow_create(tenant=acme, user=alice, source=FLAKY)
    flow_create(tenant=acme, user=alice, source=HELLO)


@pytest.fixture
def queued(monkeypatch) -> list[tuple[int, int]]:
    """The bulk jobs sent to the workers, instead of a broker."""
    jobs: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.run_bulk_action, "delay", lambda *args: jobs.append(args))
    return jobs


def _work(acme, drive, queued) -> None:
    """Play the worker for every bulk job sent, then the executions they restarted."""
    while queued:
        tenant_id, bulk_id = queued.pop(0)
        assert tenant_id == acme.pk
        drive(
            acme, lambda bulk_id=bulk_id: bulk.bulk_action_run(tenant=acme, bulk_action_id=bulk_id)
        )


def _row(acme, execution_id) -> Execution:
    return Execution.objects.for_tenant(acme).get(pk=execution_id)


def test_it_restarts_every_failed_execution_matching_the_filter(
    acme, flows, alice_api, drive, queued
):
    failed = [run(drive, acme, "flaky") for _ in range(2)]
    fine = run(drive, acme, "hello")

    response = drive(
        acme, lambda: alice_api.post("/api/v1/acme/executions/restart/by-query?state=FAILED")
    )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["action"], body["status"], body["count"], body["done"]) == (
        "restart",
        "QUEUED",
        2,
        0,
    )
    assert response["Location"] == f"/api/v1/acme/executions/bulk/{body['id']}"
    assert queued == [(acme.pk, body["id"])]
    _work(acme, drive, queued)
    assert [_row(acme, e.id).state for e in failed] == ["SUCCESS", "SUCCESS"]
    assert _row(acme, fine.id).histories == fine.histories
    progress = alice_api.get(f"/api/v1/acme/executions/bulk/{body['id']}").json()
    assert {
        k: progress[k] for k in ("status", "count", "done", "succeeded", "failed", "errors")
    } == {
        "status": "DONE",
        "count": 2,
        "done": 2,
        "succeeded": 2,
        "failed": 0,
        "errors": [],
    }
    assert progress["finishedAt"] is not None


def test_one_execution_that_cannot_be_restarted_does_not_stop_the_others(
    acme, flows, alice_api, drive, queued
):
    fine = run(drive, acme, "hello")
    failed = run(drive, acme, "flaky")
    response = drive(
        acme,
        lambda: alice_api.post(
            "/api/v1/acme/executions/restart/by-ids", [fine.id, failed.id], format="json"
        ),
    )
    assert response.status_code == 202, response.json()
    _work(acme, drive, queued)
    progress = alice_api.get(f"/api/v1/acme/executions/bulk/{response.json()['id']}").json()
    assert (progress["done"], progress["succeeded"], progress["failed"]) == (2, 1, 1)
    assert progress["errors"] == [
        {
            "executionId": fine.id,
            "message": f"No task found to restart execution {fine.id} from: it has no FAILED "
            "or PAUSED task run (replay it to run it again)",
        }
    ]
    assert _row(acme, failed.id).state == "SUCCESS"


def test_it_counts_the_progress_one_execution_at_a_time_and_rolls_back_a_failed_one(
    acme, flows, drive, queued, monkeypatch
):
    executions = [run(drive, acme, "hello") for _ in range(3)]
    ids = [e.id for e in executions]
    started = bulk.bulk_action_start(
        tenant=acme,
        user=None,
        action="labels",
        execution_ids=ids,
        parameters={"labels": [{"key": "team", "value": "data"}]},
    )
    seen: list[tuple[str, int]] = []
    labels_handler = bulk.HANDLERS["labels"]

    def handler(tenant, execution_id, parameters):
        done = BulkAction.objects.for_tenant(tenant).get(pk=started.pk).done
        seen.append((execution_id, done))
        labels_handler(tenant, execution_id, parameters)  # writes, then...
        if execution_id == ids[1]:
            raise Conflict("refused on purpose")  # ...its writes must be rolled back

    monkeypatch.setitem(bulk.HANDLERS, "labels", handler)
    bulk.bulk_action_run(tenant=acme, bulk_action_id=started.pk)

    assert seen == [(ids[0], 0), (ids[1], 1), (ids[2], 2)]
    job = BulkAction.objects.for_tenant(acme).get(pk=started.pk)
    assert (job.status, job.done, job.succeeded) == ("DONE", 3, 2)
    assert job.errors == [{"executionId": ids[1], "message": "refused on purpose"}]
    labelled = [{"key": "team", "value": "data"} in _row(acme, i).labels for i in ids]
    assert labelled == [True, False, True]


def test_a_job_delivered_again_resumes_after_the_last_execution_it_handled(
    acme, flows, drive, queued, monkeypatch
):
    ids = [run(drive, acme, "hello").id for _ in range(3)]
    started = bulk.bulk_action_start(
        tenant=acme,
        user=None,
        action="labels",
        execution_ids=ids,
        parameters={"labels": [{"key": "k", "value": "v"}]},
    )
    handled: list[str] = []
    monkeypatch.setitem(bulk.HANDLERS, "labels", lambda t, e, p: handled.append(e))
    assert bulk._step(acme, started.pk) is True  # a worker handled one, then was lost
    bulk.bulk_action_run(tenant=acme, bulk_action_id=started.pk)  # the task runs again
    bulk.bulk_action_run(tenant=acme, bulk_action_id=started.pk)  # and again: nothing left
    assert handled == ids
    assert BulkAction.objects.for_tenant(acme).get(pk=started.pk).done == 3


def test_it_deletes_the_ended_executions_matching_the_filter(
    acme, flows, alice_api, drive, queued, sent
):
    ended = run(drive, acme, "hello")
    other_flow = run(drive, acme, "flaky")
    still_running = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="hello", provided={}
    )  # its commit callbacks never run: it stays RUNNING

    response = drive(
        acme, lambda: alice_api.delete("/api/v1/acme/executions/by-query?flowId=hello")
    )

    assert response.status_code == 202, response.json()
    assert response.json()["count"] == 2
    _work(acme, drive, queued)
    assert not Execution.objects.for_tenant(acme).filter(pk=ended.id).exists()
    assert Execution.objects.for_tenant(acme).filter(pk=other_flow.id).exists()
    job = BulkAction.objects.for_tenant(acme).get(pk=response.json()["id"])
    assert (job.done, job.succeeded) == (2, 1)
    assert job.errors == [
        {
            "executionId": still_running.id,
            "message": f"Execution {still_running.id} is RUNNING: kill it first, then delete it "
            "once it has ended",
        }
    ]


def test_it_sets_labels_by_query_and_by_ids(acme, flows, alice_api, drive, queued):
    first, second = run(drive, acme, "hello"), run(drive, acme, "hello")
    by_query = drive(
        acme,
        lambda: alice_api.post(
            f"/api/v1/acme/executions/labels/by-query?q={first.id}",
            [{"key": "team", "value": "data"}],
            format="json",
        ),
    )
    by_ids = drive(
        acme,
        lambda: alice_api.post(
            "/api/v1/acme/executions/labels/by-ids",
            {"executionsId": [second.id], "executionLabels": [{"key": "env", "value": "prod"}]},
            format="json",
        ),
    )
    assert (by_query.status_code, by_ids.status_code) == (202, 202)
    assert (by_query.json()["count"], by_ids.json()["count"]) == (1, 1)
    _work(acme, drive, queued)
    assert {"key": "team", "value": "data"} in _row(acme, first.id).labels
    assert {"key": "team", "value": "data"} not in _row(acme, second.id).labels
    assert {"key": "env", "value": "prod"} in _row(acme, second.id).labels


@pytest.mark.parametrize(
    ("_case", "method", "url", "body", "path"),
    [
        ("unknown id", "post", "restart/by-ids", ["nope"], "nope"),
        ("not a list", "post", "restart/by-ids", {"ids": []}, ""),
        ("not a string id", "delete", "by-ids", [3], "[0]"),
        ("unknown state filter", "post", "restart/by-query?state=NOPE", None, "state.0"),
        (
            "system label",
            "post",
            "labels/by-query",
            [{"key": "system.app", "value": "x"}],
            "labels[0].key",
        ),
        ("labels not a list", "post", "labels/by-query", {"key": "a"}, "labels"),
        ("no labels", "post", "labels/by-query", [], "labels"),
        ("by-ids without ids", "post", "labels/by-ids", {"executionLabels": []}, "executionsId"),
        ("keep logs", "delete", "by-query?deleteLogs=false", None, "deleteLogs"),
        ("no new status", "post", "change-status/by-query", None, "newStatus"),
        ("unknown status", "post", "change-status/by-ids?newStatus=RUNNING", [], "newStatus"),
        (
            "running ones too",
            "delete",
            "by-query?includeNonTerminated=true",
            None,
            "includeNonTerminated",
        ),
    ],
)
def test_it_refuses_a_bad_bulk_request_and_starts_nothing(
    acme, flows, alice_api, drive, queued, _case, method, url, body, path
):
    run(drive, acme, "hello")
    response = getattr(alice_api, method)(f"/api/v1/acme/executions/{url}", body, format="json")
    assert response.status_code == 422, response.json()
    assert path in [error["path"] for error in response.json()["errors"]]
    assert not BulkAction.objects.for_tenant(acme).exists()
    assert queued == []


def test_a_bulk_over_nothing_is_done_at_once(acme, flows, alice_api, queued):
    response = alice_api.post("/api/v1/acme/executions/restart/by-query?state=FAILED")
    assert response.status_code == 202
    assert (response.json()["count"], response.json()["status"]) == (0, "DONE")
    assert queued == []


def test_another_tenants_bulk_action_is_not_found(
    acme, flows, globex, alice_api, mallory_api, queued
):
    response = alice_api.post("/api/v1/acme/executions/restart/by-query")
    bulk_id = response.json()["id"]
    assert mallory_api.get(f"/api/v1/globex/executions/bulk/{bulk_id}").status_code == 404
    assert mallory_api.get(f"/api/v1/acme/executions/bulk/{bulk_id}").status_code == 404
    assert alice_api.get("/api/v1/acme/executions/bulk/not-a-number").status_code == 404


def test_a_bulk_by_query_only_sees_its_own_tenant(acme, flows, globex, mallory_api, drive, queued):
    failed = run(drive, acme, "flaky")
    response = mallory_api.post("/api/v1/globex/executions/restart/by-query")
    assert response.status_code == 202
    assert response.json()["count"] == 0
    by_ids = mallory_api.post(
        "/api/v1/globex/executions/restart/by-ids", [failed.id], format="json"
    )
    assert by_ids.status_code == 422
    assert states(acme, failed.id) == [("first", "SUCCESS"), ("flaky", "FAILED")]


def test_it_kills_the_unfinished_executions_matching_the_filter(
    acme, flows, alice_api, drive, queued
):
    ended = run(drive, acme, "hello")
    running = [
        services.execution_create(
            tenant=acme, namespace="company.team", flow_id="hello", provided={}
        )
        for _ in range(2)
    ]  # their commit callbacks never run: they stay RUNNING

    response = drive(
        acme, lambda: alice_api.delete("/api/v1/acme/executions/kill/by-query?flowId=hello")
    )

    assert response.status_code == 202, response.json()
    assert (response.json()["action"], response.json()["count"]) == ("kill", 3)
    _work(acme, drive, queued)
    assert [_row(acme, e.id).state for e in running] == ["KILLED", "KILLED"]
    assert _row(acme, ended.id).state == "SUCCESS"
    job = BulkAction.objects.for_tenant(acme).get(pk=response.json()["id"])
    assert (job.done, job.succeeded) == (3, 2)
    assert [error["executionId"] for error in job.errors] == [ended.id]


def test_it_kills_executions_by_ids(acme, flows, alice_api, drive, queued):
    running = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="hello", provided={}
    )
    response = drive(
        acme,
        lambda: alice_api.delete(
            "/api/v1/acme/executions/kill/by-ids", [running.id], format="json"
        ),
    )
    assert response.status_code == 202, response.json()
    _work(acme, drive, queued)
    assert _row(acme, running.id).state == "KILLED"
    unknown = alice_api.delete("/api/v1/acme/executions/kill/by-ids", ["nope"], format="json")
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"path": "nope", "message": "execution not found", "line": None, "column": None}
    ]


PAUSING = """id: pausing
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
"""

ASKING = """id: asking
namespace: company.team
tasks:
  - id: ask
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: answer
        type: STRING
"""


def test_it_replays_executions_by_ids_each_as_a_new_linked_one(
    acme, flows, alice_api, drive, queued
):
    first, second = run(drive, acme, "hello"), run(drive, acme, "flaky")
    response = drive(
        acme,
        lambda: alice_api.post(
            "/api/v1/acme/executions/replay/by-ids", [first.id, second.id], format="json"
        ),
    )
    assert response.status_code == 202, response.json()
    assert (response.json()["action"], response.json()["count"]) == ("replay", 2)
    _work(acme, drive, queued)
    replays = Execution.objects.for_tenant(acme).exclude(pk__in=[first.id, second.id])
    assert sorted((row.original_id, row.flow_id, row.state) for row in replays) == sorted(
        [(first.id, "hello", "SUCCESS"), (second.id, "flaky", "FAILED")]
    )
    assert (_row(acme, first.id).state, _row(acme, second.id).state) == ("SUCCESS", "FAILED")


def test_a_bad_latest_revision_flag_is_refused_naming_it(acme, flows, alice_api, queued):
    response = alice_api.post("/api/v1/acme/executions/replay/by-query?latestRevision=yes")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "latestRevision"
    assert not BulkAction.objects.for_tenant(acme).exists()


def test_a_replay_on_the_latest_revision_runs_the_flow_as_it_is_now(
    acme, alice, flows, alice_api, drive, queued
):
    from flows.services import flow_update

    ended = run(drive, acme, "hello")
    flow_update(
        tenant=acme,
        user=alice,
        namespace="company.team",
        flow_id="hello",
        source=HELLO.replace("format: two", "format: three"),
    )
    drive(
        acme,
        lambda: alice_api.post(
            "/api/v1/acme/executions/replay/by-query?flowId=hello&latestRevision=true"
        ),
    )
    _work(acme, drive, queued)
    replay = Execution.objects.for_tenant(acme).exclude(pk=ended.id).get()
    assert (replay.flow_revision, replay.state) == (2, "SUCCESS")


def test_it_changes_the_status_of_the_ended_executions_matching_the_filter(
    acme, flows, alice_api, drive, queued
):
    failed = run(drive, acme, "flaky")
    running = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="flaky", provided={}
    )  # its commit callbacks never run: it stays RUNNING
    response = drive(
        acme,
        lambda: alice_api.post(
            "/api/v1/acme/executions/change-status/by-query?flowId=flaky&newStatus=WARNING"
        ),
    )
    assert response.status_code == 202, response.json()
    _work(acme, drive, queued)
    assert _row(acme, failed.id).state == "WARNING"
    assert _row(acme, running.id).state == "RUNNING"
    job = BulkAction.objects.for_tenant(acme).get(pk=response.json()["id"])
    assert (job.action, job.parameters, job.done, job.succeeded) == (
        "status",
        {"status": "WARNING"},
        2,
        1,
    )
    assert [error["executionId"] for error in job.errors] == [running.id]


def test_it_pauses_and_resumes_executions_in_bulk(acme, alice, flows, alice_api, drive, queued):
    flow_create(tenant=acme, user=alice, source=PAUSING)
    flow_create(tenant=acme, user=alice, source=ASKING)
    paused = run(drive, acme, "pausing")
    asking = run(drive, acme, "asking")
    running = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="hello", provided={}
    )
    assert (paused.state, asking.state) == ("PAUSED", "PAUSED")

    pause = drive(
        acme,
        lambda: alice_api.post("/api/v1/acme/executions/pause/by-ids", [running.id], format="json"),
    )
    assert pause.status_code == 202, pause.json()
    _, bulk_id = queued.pop(0)
    bulk.bulk_action_run(tenant=acme, bulk_action_id=bulk_id)
    assert _row(acme, running.id).state == "PAUSED"

    resume = drive(
        acme, lambda: alice_api.post("/api/v1/acme/executions/resume/by-query?state=PAUSED")
    )
    assert resume.status_code == 202, resume.json()
    assert resume.json()["count"] == 3
    _work(acme, drive, queued)
    assert _row(acme, paused.id).state == "SUCCESS"
    assert _row(acme, running.id).state == "RUNNING"  # resumed (its first task was never sent)
    assert _row(acme, asking.id).state == "PAUSED"  # its form requires an answer
    job = BulkAction.objects.for_tenant(acme).get(pk=resume.json()["id"])
    assert (job.done, job.succeeded) == (3, 2)
    assert job.errors[0]["executionId"] == asking.id
    assert "Invalid onResume inputs" in job.errors[0]["message"]


LIMITED = """id: limited
namespace: company.team
concurrency:
  limit: 1
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


def test_bulk_unqueue_and_force_run(acme, alice, flows, alice_api, drive, queued):
    flow_create(tenant=acme, user=alice, source=LIMITED)
    flow_create(tenant=acme, user=alice, source=PAUSING)
    holder, waiting = (
        services.execution_create(
            tenant=acme, namespace="company.team", flow_id="limited", provided={}
        )
        for _ in range(2)
    )
    assert _row(acme, waiting.id).state == "QUEUED"
    paused = run(drive, acme, "pausing")
    ended = run(drive, acme, "hello")

    unqueue = drive(
        acme, lambda: alice_api.post("/api/v1/acme/executions/unqueue/by-query?flowId=limited")
    )
    assert unqueue.status_code == 202, unqueue.json()
    assert unqueue.json()["count"] == 2
    _, bulk_id = queued.pop(0)
    bulk.bulk_action_run(tenant=acme, bulk_action_id=bulk_id)
    assert _row(acme, waiting.id).state == "RUNNING"
    job = BulkAction.objects.for_tenant(acme).get(pk=bulk_id)
    assert [error["executionId"] for error in job.errors] == [holder.id]  # it was not queued

    forced = drive(
        acme,
        lambda: alice_api.post(
            "/api/v1/acme/executions/force-run/by-ids", [paused.id, ended.id], format="json"
        ),
    )
    assert (forced.status_code, forced.json()["action"]) == (202, "force-run")
    _work(acme, drive, queued)
    assert _row(acme, paused.id).state == "SUCCESS"  # resumed
    job = BulkAction.objects.for_tenant(acme).get(pk=forced.json()["id"])
    assert (job.done, job.succeeded) == (2, 1)
    assert "only an unfinished execution can be forced to run" in job.errors[0]["message"]
