"""A person opens an ended execution, downloads an output file, previews it in the page, then
deletes the execution after confirming, and lands on the list with a message.

The execution is built as rows (no Celery worker needed): what is under test is the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from executions.models import Execution
from tenants.storage.local import LocalStorage
from tests.conftest import PASSWORD
from tests.executions.files_support import add_task_run, make_execution, store, use_storage_root

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = b"city,visits\nParis,3\nLyon,5\n"


def test_it_downloads_previews_and_deletes(page, shoot, settings, tmp_path, acme, alice):
    root = use_storage_root(settings, tmp_path / "storage")
    execution = make_execution(acme, flow_id="report")
    uri = store(acme, execution, "tasks/export/r1/visits.csv", CSV)
    gone = store(acme, execution, "tasks/export/r1/gone.txt", b"soon removed")
    add_task_run(acme, execution, "export", {"outputFiles": {"visits.csv": uri, "gone.txt": gone}})
    Execution.objects.for_tenant(acme).filter(pk=execution.id).update(outputs={"visits": uri})

    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(f"/ui/acme/executions/{execution.id}")

    outputs = page.locator("#outputs")
    expect(outputs.get_by_role("list", name="Output files")).to_contain_text("visits")
    with page.expect_download() as download_info:
        outputs.get_by_role("link", name="Download visits.csv").click()
    download = download_info.value
    assert download.suggested_filename == "visits.csv"
    assert Path(download.path()).read_bytes() == CSV

    outputs.get_by_role("button", name="Preview visits.csv").click()
    preview = outputs.get_by_label("Preview", exact=True)
    expect(preview).to_have_text("city,visits\nParis,3\nLyon,5")
    tree = page.locator("#task-runs")
    expect(tree.get_by_role("link", name="Download visits.csv")).to_be_visible()
    # A file removed after the page was drawn: the preview says so in place (a 404 fragment).
    LocalStorage("acme").delete(gone)
    tree.get_by_role("button", name="Preview gone.txt").click()
    expect(tree.get_by_role("alert")).to_have_text(f"No file at {gone} in execution {execution.id}")
    shoot(page, "1-preview")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete execution").click()
    expect(page).to_have_url(re.compile(r"/ui/acme/executions/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Execution {execution.id} deleted")
    shoot(page, "2-deleted")
    assert not Execution.objects.for_tenant(acme).filter(pk=execution.id).exists()
    assert not (root / "acme" / "company/team/report/executions" / execution.id).exists()
