"""The execution page's Actions card (restart, replay, change a task run's state, the label
editor) and the executions list's bulk actions with their progress row."""

from __future__ import annotations

import re

import pytest

from executions import bulk, tasks
from executions.models import BulkAction, Execution
from flows.services import flow_create
from tests.executions.actions_support import FLAKY, HELLO, run, states, task_runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def flows(acme, alice):
    flow_create(tenant=acme, user=alice, source=FLAKY)
    flow_create(tenant=acme, user=alice, source=HELLO)


@pytest.fixture
def queued(monkeypatch) -> list[tuple[int, int]]:
    jobs: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.run_bulk_action, "delay", lambda *args: jobs.append(args))
    return jobs


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_an_ended_execution_shows_its_actions(acme, flows, alice_web, drive):
    failed = run(drive, acme, "flaky")
    html = _page(alice_web, f"/ui/acme/executions/{failed.id}")
    card = html[html.index('id="execution-actions"') : html.index('id="execution-timeline"')]
    assert f'action="/ui/acme/executions/{failed.id}/restart"' in card
    assert f'action="/ui/acme/executions/{failed.id}/replay"' in card
    assert f'action="/ui/acme/executions/{failed.id}/state"' in card
    assert f'action="/ui/acme/executions/{failed.id}/labels"' in card
    assert "data-confirm=" in card
    # the label editor hides the system labels: no input holds system.correlationId
    assert 'value="system.correlationId"' not in card
    first_run, flaky_run = task_runs(acme, failed.id)
    state_form = card[card.index('id="state-task-run"') :]
    # the failed task run comes first, so the form's default forces it to SUCCESS
    assert state_form.index(f'<option value="{flaky_run.id}">flaky — FAILED</option>') < (
        state_form.index(f'<option value="{first_run.id}">first — SUCCESS</option>')
    )


def test_a_running_execution_offers_no_action(acme, flows, alice_web):
    from executions.services import execution_create

    running = execution_create(tenant=acme, namespace="company.team", flow_id="hello", provided={})
    html = _page(alice_web, f"/ui/acme/executions/{running.id}")
    assert re.search(
        r'<section class="card execution-actions" id="execution-actions"[^>]*hidden', html
    )
    assert "/restart" not in html


def test_the_restart_button_restarts_and_comes_back_to_the_execution(acme, flows, alice_web, drive):
    failed = run(drive, acme, "flaky")
    response = drive(
        acme,
        lambda: alice_web.post(
            f"/ui/acme/executions/{failed.id}/restart",
            {"current_revision": "1", "revision": "1"},
            follow=True,
        ),
    )
    assert response.redirect_chain[-1][0] == f"/ui/acme/executions/{failed.id}"
    assert "Execution restarted: its failed or paused task runs go on." in _messages(response)
    assert Execution.objects.for_tenant(acme).get(pk=failed.id).state == "SUCCESS"


def test_a_refused_action_says_why_on_the_page(acme, flows, alice_web, drive):
    ended = run(drive, acme, "hello")
    response = alice_web.post(f"/ui/acme/executions/{ended.id}/restart", follow=True)
    assert any("No task found to restart" in m for m in _messages(response))
    assert Execution.objects.for_tenant(acme).get(pk=ended.id).state == "SUCCESS"


def test_the_replay_form_creates_a_new_execution_from_the_chosen_task_run(
    acme, flows, alice_web, drive
):
    ended = run(drive, acme, "hello")
    second = task_runs(acme, ended.id)[1]
    response = drive(
        acme,
        lambda: alice_web.post(
            f"/ui/acme/executions/{ended.id}/replay", {"task_run_id": second.id}, follow=True
        ),
    )
    new_id = response.redirect_chain[-1][0].rsplit("/", 1)[1]
    assert new_id != ended.id
    replayed = Execution.objects.for_tenant(acme).get(pk=new_id)
    assert (replayed.parent_id, replayed.state) == (ended.id, "SUCCESS")
    assert f"Execution {new_id} replays execution {ended.id}." in _messages(response)


def test_the_change_state_form_forces_a_task_run(acme, flows, alice_web, drive):
    failed = run(drive, acme, "flaky")
    flaky_run = task_runs(acme, failed.id)[1]
    drive(
        acme,
        lambda: alice_web.post(
            f"/ui/acme/executions/{failed.id}/state",
            {"task_run_id": flaky_run.id, "state": "WARNING"},
        ),
    )
    assert states(acme, failed.id) == [
        ("first", "SUCCESS"),
        ("flaky", "WARNING"),
        ("last", "SUCCESS"),
    ]
    assert Execution.objects.for_tenant(acme).get(pk=failed.id).state == "WARNING"


def test_the_label_editor_replaces_the_user_labels_and_keeps_the_system_ones(
    acme, flows, alice_web, drive
):
    ended = run(drive, acme, "hello", labels=(("team", "data"), ("env", "prod")))
    response = alice_web.post(
        f"/ui/acme/executions/{ended.id}/labels",
        {"key": ["team", "", "owner", ""], "value": ["ops", "", "ann", ""]},
        follow=True,
    )
    assert "Labels saved." in _messages(response)
    assert Execution.objects.for_tenant(acme).get(pk=ended.id).labels == [
        {"key": "system.correlationId", "value": ended.id},
        {"key": "team", "value": "ops"},
        {"key": "owner", "value": "ann"},
    ]


def test_the_label_editor_refuses_a_system_label(acme, flows, alice_web, drive):
    ended = run(drive, acme, "hello")
    response = alice_web.post(
        f"/ui/acme/executions/{ended.id}/labels",
        {"key": ["system.readOnly"], "value": ["true"]},
        follow=True,
    )
    assert any("System labels can only be set by Kestra itself" in m for m in _messages(response))
    assert Execution.objects.for_tenant(acme).get(pk=ended.id).labels == ended.labels


def test_a_read_only_execution_offers_replay_only(acme, flows, alice_web, drive):
    failed = run(drive, acme, "flaky")
    Execution.objects.for_tenant(acme).filter(pk=failed.id).update(
        labels=[*failed.labels, {"key": "system.readOnly", "value": "true"}]
    )
    html = _page(alice_web, f"/ui/acme/executions/{failed.id}")
    assert "This execution is read-only" in html
    assert f"/ui/acme/executions/{failed.id}/restart" not in html
    assert f"/ui/acme/executions/{failed.id}/labels" not in html
    assert f"/ui/acme/executions/{failed.id}/replay" in html


def test_another_tenants_execution_actions_are_not_found(
    acme, flows, globex, mallory, client, drive
):
    failed = run(drive, acme, "flaky")
    client.force_login(mallory)
    for action in ("restart", "replay", "state", "labels"):
        assert client.post(f"/ui/globex/executions/{failed.id}/{action}").status_code == 404
        assert client.post(f"/ui/acme/executions/{failed.id}/{action}").status_code == 404
    assert states(acme, failed.id) == [("first", "SUCCESS"), ("flaky", "FAILED")]


# --- bulk actions on the list ----------------------------------------------------------------


def test_the_list_applies_an_action_to_its_filter_and_shows_the_progress(
    acme, flows, alice_web, drive, queued
):
    failed = [run(drive, acme, "flaky") for _ in range(2)]
    run(drive, acme, "hello")
    html = _page(alice_web, "/ui/acme/executions/?state=FAILED")
    assert 'name="query" value="state=FAILED"' in html

    response = drive(
        acme,
        lambda: alice_web.post(
            "/ui/acme/executions/bulk", {"query": "state=FAILED", "action": "restart"}
        ),
    )

    job = BulkAction.objects.for_tenant(acme).get()
    assert response.status_code == 302
    assert response["Location"] == f"/ui/acme/executions/?state=FAILED&bulk={job.pk}"
    assert (job.action, job.total, sorted(job.execution_ids)) == (
        "restart",
        2,
        sorted(e.id for e in failed),
    )
    listed = _page(alice_web, response["Location"])
    assert f'hx-get="/ui/acme/executions/bulk/{job.pk}"' in listed

    progress = _page(alice_web, f"/ui/acme/executions/bulk/{job.pk}")
    assert "0 of 2 done" in progress
    assert 'hx-trigger="every 1s"' in progress  # polls until done
    drive(acme, lambda: bulk._step(acme, job.pk))
    assert "1 of 2 done" in _page(alice_web, f"/ui/acme/executions/bulk/{job.pk}")
    drive(acme, lambda: bulk.bulk_action_run(tenant=acme, bulk_action_id=job.pk))
    done = _page(alice_web, f"/ui/acme/executions/bulk/{job.pk}")
    assert "2 of 2 done" in done
    assert "finished" in done
    assert "every 1s" not in done
    assert [Execution.objects.for_tenant(acme).get(pk=e.id).state for e in failed] == [
        "SUCCESS",
        "SUCCESS",
    ]


def test_the_progress_lists_each_failure(acme, flows, alice_web, drive, queued):
    ended = run(drive, acme, "hello")
    drive(
        acme,
        lambda: alice_web.post("/ui/acme/executions/bulk", {"query": "", "action": "restart"}),
    )
    job = BulkAction.objects.for_tenant(acme).get()
    bulk.bulk_action_run(tenant=acme, bulk_action_id=job.pk)
    html = _page(alice_web, f"/ui/acme/executions/bulk/{job.pk}")
    assert "1 failed" in html
    assert f'href="/ui/acme/executions/{ended.id}"' in html
    assert "No task found to restart" in html


def test_bulk_labels_from_the_list(acme, flows, alice_web, drive, queued):
    ended = run(drive, acme, "hello")
    drive(
        acme,
        lambda: alice_web.post(
            "/ui/acme/executions/bulk",
            {"query": "flow_id=hello", "action": "labels", "labels": "team:data, env:prod"},
        ),
    )
    job = BulkAction.objects.for_tenant(acme).get()
    bulk.bulk_action_run(tenant=acme, bulk_action_id=job.pk)
    labels = Execution.objects.for_tenant(acme).get(pk=ended.id).labels
    assert {"key": "team", "value": "data"} in labels
    assert {"key": "env", "value": "prod"} in labels


def test_bulk_status_change_and_replay_from_the_list(acme, flows, alice_web, drive, queued):
    failed = run(drive, acme, "flaky")
    page = _page(alice_web, "/ui/acme/executions/")
    for value in ("replay", "status", "pause", "resume"):
        assert f'<option value="{value}">' in page
    assert '<option value="WARNING">WARNING</option>' in page
    drive(
        acme,
        lambda: alice_web.post(
            "/ui/acme/executions/bulk",
            {"query": "flow_id=flaky", "action": "status", "status": "WARNING"},
        ),
    )
    drive(
        acme,
        lambda: alice_web.post("/ui/acme/executions/bulk", {"query": "", "action": "replay"}),
    )
    for job in BulkAction.objects.for_tenant(acme).order_by("pk"):
        drive(acme, lambda job=job: bulk.bulk_action_run(tenant=acme, bulk_action_id=job.pk))
    assert Execution.objects.for_tenant(acme).get(pk=failed.id).state == "WARNING"
    replay = Execution.objects.for_tenant(acme).exclude(pk=failed.id).get()
    assert (replay.original_id, replay.state) == (failed.id, "FAILED")


@pytest.mark.parametrize(
    ("_case", "data", "words"),
    [
        ("bad status", {"query": "", "action": "status", "status": "RUNNING"}, "end state"),
        (
            "bad labels",
            {"query": "", "action": "labels", "labels": "nocolon"},
            "Expected key:value",
        ),
        ("no labels", {"query": "", "action": "labels", "labels": ""}, "at least one label"),
        ("unknown action", {"query": "", "action": "explode"}, "Unknown bulk action"),
        ("bad filter", {"query": "day=yesterday", "action": "restart"}, "Fix the filters"),
    ],
)
def test_a_bad_bulk_request_from_the_list_starts_nothing(
    acme, flows, alice_web, queued, _case, data, words
):
    response = alice_web.post("/ui/acme/executions/bulk", data, follow=True)
    assert any(words in m for m in _messages(response)), _messages(response)
    assert not BulkAction.objects.for_tenant(acme).exists()


def test_another_tenants_bulk_progress_is_not_found(acme, flows, globex, mallory, client, queued):
    job = bulk.bulk_action_start(tenant=acme, user=None, action="restart", execution_ids=["x"])
    client.force_login(mallory)
    assert client.get(f"/ui/globex/executions/bulk/{job.pk}").status_code == 404
    assert client.get(f"/ui/acme/executions/bulk/{job.pk}").status_code == 404


def test_bulk_kill_from_the_list(acme, flows, alice_web, drive, queued):
    from executions.services import execution_create

    running = execution_create(tenant=acme, namespace="company.team", flow_id="hello", provided={})
    assert 'value="kill"' in _page(alice_web, "/ui/acme/executions/")
    drive(
        acme,
        lambda: alice_web.post(
            "/ui/acme/executions/bulk", {"query": "flow_id=hello", "action": "kill"}
        ),
    )
    job = BulkAction.objects.for_tenant(acme).get()
    bulk.bulk_action_run(tenant=acme, bulk_action_id=job.pk)
    assert (job.action, Execution.objects.for_tenant(acme).get(pk=running.id).state) == (
        "kill",
        "KILLED",
    )
