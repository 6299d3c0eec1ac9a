"""`DELETE /api/v1/{tenant}/executions/{id}` and the execution page's Delete button: an ended
execution goes with its task runs, its logs and (after commit) its storage folder; a running
one is a 409 that deletes nothing; another tenant's is a 404 that deletes nothing."""

from __future__ import annotations

import pytest

from executions.models import Execution, LogEntry, TaskRun
from tests.executions.files_support import (
    add_log,
    add_task_run,
    make_execution,
    prefix,
    store,
    use_storage_root,
)

pytestmark = pytest.mark.django_db

RUNNING_STATES = ["CREATED", "RUNNING", "PAUSED", "QUEUED", "KILLING", "RESTARTED", "RETRYING"]


@pytest.fixture
def storage_root(settings, tmp_path):
    return use_storage_root(settings, tmp_path / "storage")


def _full(tenant, state="SUCCESS", flow_id="hello"):
    """An execution with two task runs, two log lines and two files."""
    execution = make_execution(tenant, state=state, flow_id=flow_id)
    add_task_run(tenant, execution, "first")
    add_task_run(tenant, execution, "second")
    add_log(tenant, execution, "one")
    add_log(tenant, execution, "two")
    store(tenant, execution, "tasks/first/r1/out.csv", b"a\n")
    store(tenant, execution, "inputs/file/in.txt", b"b\n")
    return execution


def _folder(root, tenant, execution):
    return root / tenant.slug / prefix(execution).removeprefix("kestra:///")


def _counts(tenant, execution) -> tuple[int, int, int]:
    return (
        Execution.objects.for_tenant(tenant).filter(pk=execution.id).count(),
        TaskRun.objects.for_tenant(tenant).filter(execution_id=execution.id).count(),
        LogEntry.objects.for_tenant(tenant).filter(execution_id=execution.id).count(),
    )


@pytest.mark.parametrize("state", ["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"])
def test_it_deletes_an_ended_execution_with_its_rows_and_files(
    acme, alice_api, storage_root, django_capture_on_commit_callbacks, state
):
    execution = _full(acme, state)
    kept = _full(acme)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}")
    assert response.status_code == 204
    assert response.content == b""
    assert _counts(acme, execution) == (0, 0, 0)
    assert not _folder(storage_root, acme, execution).exists()
    assert _counts(acme, kept) == (1, 2, 2)
    assert (_folder(storage_root, acme, kept) / "tasks/first/r1/out.csv").read_bytes() == b"a\n"
    assert alice_api.get(f"/api/v1/acme/executions/{execution.id}").status_code == 404


def test_the_files_go_only_once_the_rows_are_committed(
    acme, alice_api, storage_root, django_capture_on_commit_callbacks
):
    execution = _full(acme)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}")
    assert response.status_code == 204
    assert _folder(storage_root, acme, execution).exists()  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert not _folder(storage_root, acme, execution).exists()


def test_it_also_removes_the_kestra_slug_folder(
    acme, alice_api, storage_root, django_capture_on_commit_callbacks
):
    execution = make_execution(acme, flow_id="My_Flow")
    store(acme, execution, "tasks/a.txt", b"a")
    slug = storage_root / "acme" / f"company/team/my-flow/executions/{execution.id}"
    slug.mkdir(parents=True)
    (slug / "b.txt").write_bytes(b"b")
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.delete(f"/api/v1/acme/executions/{execution.id}").status_code == 204
    assert not _folder(storage_root, acme, execution).exists()
    assert not slug.exists()


def test_delete_storage_false_keeps_the_files(
    acme, alice_api, storage_root, django_capture_on_commit_callbacks
):
    execution = _full(acme)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = alice_api.delete(
            f"/api/v1/acme/executions/{execution.id}?deleteStorage=false&deleteMetrics=false"
        )
    assert response.status_code == 204
    assert _counts(acme, execution) == (0, 0, 0)
    assert (_folder(storage_root, acme, execution) / "inputs/file/in.txt").exists()
    assert callbacks == []


def test_delete_logs_false_is_refused_and_nothing_is_deleted(
    acme, alice_api, storage_root, django_capture_on_commit_callbacks
):
    execution = _full(acme)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}?deleteLogs=false")
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "deleteLogs"
    assert "deleted with it" in response.json()["message"]
    assert _counts(acme, execution) == (1, 2, 2)
    assert _folder(storage_root, acme, execution).exists()
    assert callbacks == []


def test_a_malformed_flag_is_named(acme, alice_api, storage_root):
    execution = _full(acme)
    response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}?deleteStorage=maybe")
    assert response.status_code == 400
    assert response.json()["message"] == "deleteStorage must be true or false, got 'maybe'"
    assert _counts(acme, execution) == (1, 2, 2)


@pytest.mark.parametrize("state", RUNNING_STATES)
def test_an_execution_that_has_not_ended_is_a_409(
    acme, alice_api, storage_root, django_capture_on_commit_callbacks, state
):
    execution = _full(acme, state)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = alice_api.delete(f"/api/v1/acme/executions/{execution.id}")
    assert response.status_code == 409
    assert response.json()["message"] == (
        f"Execution {execution.id} is {state}: kill it first, then delete it once it has ended"
    )
    assert _counts(acme, execution) == (1, 2, 2)
    assert _folder(storage_root, acme, execution).exists()
    assert callbacks == []


def test_another_tenants_execution_is_a_404_and_stays(
    acme, globex, mallory_api, storage_root, django_capture_on_commit_callbacks
):
    execution = _full(acme)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for tenant in ("acme", "globex"):
            response = mallory_api.delete(f"/api/v1/{tenant}/executions/{execution.id}")
            assert response.status_code == 404, tenant
    assert _counts(acme, execution) == (1, 2, 2)
    assert _folder(storage_root, acme, execution).exists()
    assert callbacks == []


def test_an_unknown_execution_is_a_404(acme, alice_api):
    response = alice_api.delete("/api/v1/acme/executions/nope")
    assert response.status_code == 404
    assert response.json()["message"] == "Execution nope not found"


# ---------- the page's button ----------


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


def test_the_page_offers_delete_only_once_the_execution_has_ended(acme, alice_web, storage_root):
    ended = _full(acme)
    running = _full(acme, "RUNNING")
    action = f'action="/ui/acme/executions/{ended.id}/delete"'
    page = alice_web.get(f"/ui/acme/executions/{ended.id}").content.decode()
    assert action in page
    assert "data-confirm=" in page[page.index(action) - 200 : page.index(action) + 400]
    page = alice_web.get(f"/ui/acme/executions/{running.id}").content.decode()
    assert f"/ui/acme/executions/{running.id}/delete" not in page


def test_the_button_deletes_and_goes_back_to_the_list(
    acme, alice_web, storage_root, django_capture_on_commit_callbacks
):
    execution = _full(acme)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_web.post(f"/ui/acme/executions/{execution.id}/delete")
    assert response.status_code == 302
    assert response["Location"] == "/ui/acme/executions/"
    assert _counts(acme, execution) == (0, 0, 0)
    assert not _folder(storage_root, acme, execution).exists()
    page = alice_web.get(response["Location"]).content.decode()
    assert f"Execution {execution.id} deleted, with its logs and files." in page


def test_the_button_says_why_a_running_execution_stays(acme, alice_web, storage_root):
    execution = _full(acme, "RUNNING")
    response = alice_web.post(f"/ui/acme/executions/{execution.id}/delete", follow=True)
    assert response.redirect_chain == [(f"/ui/acme/executions/{execution.id}", 302)]
    assert "is RUNNING: kill it first" in response.content.decode()
    assert _counts(acme, execution) == (1, 2, 2)


def test_the_button_needs_a_post_and_the_tenant(
    acme, globex, mallory, alice_web, client, storage_root
):
    execution = _full(acme)
    assert alice_web.get(f"/ui/acme/executions/{execution.id}/delete").status_code == 405
    client.force_login(mallory)
    assert client.post(f"/ui/acme/executions/{execution.id}/delete").status_code == 404
    assert client.post(f"/ui/globex/executions/{execution.id}/delete").status_code == 404
    assert _counts(acme, execution) == (1, 2, 2)
