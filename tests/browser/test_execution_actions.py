"""A person restarts a failed execution from its page (after confirming) and watches it end
SUCCESS on real Celery workers; then, from the executions list filtered on FAILED, restarts
every failed execution at once and watches the progress row count them."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from executions.models import Execution
from flows.services import flow_create
from tests.conftest import PASSWORD
from tests.executions.actions_support import FLAKY
from tests.executions.conftest import celery_worker_process  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _failed(acme, count: int) -> list[str]:
    from executions.services import execution_create

    ids = [
        execution_create(tenant=acme, namespace="company.team", flow_id="flaky", provided={}).id
        for _ in range(count)
    ]
    deadline = time.monotonic() + 30
    while Execution.objects.for_tenant(acme).filter(pk__in=ids, state="FAILED").count() < count:
        assert time.monotonic() < deadline, "the executions did not fail"
        time.sleep(0.05)
    return ids


def _login(page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_it_restarts_from_the_execution_page_and_from_the_list(
    celery_worker_process,  # noqa: F811
    page,
    shoot,
    acme,
    alice,
):
    flow_create(tenant=acme, user=alice, source=FLAKY)
    first, *others = _failed(acme, 3)
    _login(page)

    page.goto(f"/ui/acme/executions/{first}")
    actions = page.get_by_role("region", name="Actions")
    expect(actions).to_be_visible()
    shoot(page, "1-failed")
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    actions.get_by_role("form", name="Restart").get_by_role("button", name="Restart").click()

    restarted = "Execution restarted: its failed or paused task runs go on."
    expect(page.get_by_text(restarted)).to_be_visible()
    expect(page.locator("#execution-summary .state").first).to_have_text("SUCCESS")
    assert dialogs == [f"Restart execution {first}? Its failed task runs run again."]
    expect(page.get_by_role("region", name="Actions")).to_be_visible()  # ended again
    shoot(page, "2-restarted")

    page.goto("/ui/acme/executions/?state=FAILED")
    page.get_by_text("Bulk actions on the executions matching these filters").click()
    bulk = page.get_by_role("form", name="Bulk action")
    bulk.get_by_label("Action").select_option("restart")
    bulk.get_by_role("button", name="Apply").click()

    progress = page.get_by_role("status").filter(has_text="Restart:")
    expect(progress).to_contain_text("2 of 2 done")
    expect(progress).to_contain_text("finished")
    shoot(page, "3-bulk-done")
    deadline = time.monotonic() + 30
    while Execution.objects.for_tenant(acme).filter(pk__in=others, state="SUCCESS").count() < 2:
        assert time.monotonic() < deadline, celery_worker_process.read_text()[-2000:]
        time.sleep(0.05)
