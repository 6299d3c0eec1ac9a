"""A person pauses a running execution from its page (after confirming), resumes it, answers
the form of the Pause task it then reaches (a wrong answer is shown next to its field), and
watches it finish. The executor and the worker run here, one recorded message at a time, as
in tests/browser/test_execution_live.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from executions import services
from executions.models import Execution
from flows.services import flow_create
from tests.executions.test_api_follow import run_next, sent  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOW = """id: approval
namespace: company.team
tasks:
  - id: prepare
    type: io.kestra.plugin.core.log.Log
    message: preparing the report
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: reviewer
        type: STRING
        description: Who approves the report
      - id: copies
        type: INT
        min: 1
      - id: notes
        type: JSON
        required: false
  - id: publish
    type: io.kestra.plugin.core.log.Log
    message: >-
      published by {{ outputs.approve.onResume.reviewer }},
      {{ outputs.approve.onResume.copies }} copies
"""


def _state(acme, execution_id: str) -> str:
    return Execution.objects.for_tenant(acme).get(pk=execution_id).state


def _drain(acme, queue) -> None:
    while run_next(acme, queue):
        pass


def test_pause_resume_with_the_on_resume_form_and_watch_it_finish(
    page,
    live_server,
    client,
    acme,
    alice,
    sent,  # noqa: F811
    shoot,
):
    flow_create(tenant=acme, user=alice, source=FLOW)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="approval", provided={}
    )
    client.force_login(alice)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.goto(f"/ui/acme/executions/{row.id}")
    controls = page.get_by_role("region", name="Control")
    summary = page.locator("#execution-summary")
    expect(summary.locator(".state")).to_have_text("RUNNING")

    # Pause while `prepare` is on its way to a worker: it still runs, nothing comes after it
    controls.get_by_role("button", name="Pause").click()
    expect(page.get_by_text(f"Execution {row.id} paused")).to_be_visible()
    assert "Pause execution" in asked[-1]
    assert _state(acme, row.id) == "PAUSED"
    _drain(acme, sent)
    expect(page.locator("#execution-logs")).to_contain_text("preparing the report")
    expect(page.locator("#task-runs")).not_to_contain_text("approve")
    expect(controls).to_contain_text("nothing new starts until it is resumed")
    shoot(page, "paused-by-hand")

    # Resume: the flow goes on to its Pause task, which waits with its form
    controls.get_by_role("button", name="Resume").click()
    expect(page.get_by_text(f"Execution {row.id} resumed.")).to_be_visible()
    _drain(acme, sent)
    expect(controls).to_contain_text("Paused by task approve")
    form = controls.get_by_role("form", name="Resume")
    expect(form.get_by_label("reviewer")).to_be_visible()
    shoot(page, "on-resume-form")

    # A wrong answer (one the browser cannot check) comes back next to its field; nothing moves
    form.get_by_label("reviewer").fill("Ada")
    form.get_by_label("copies").fill("2")
    form.get_by_label("notes").fill("{oops")
    form.get_by_role("button", name="Resume").click()
    notes = page.locator('[data-input="notes"]')
    expect(notes.get_by_role("alert")).to_contain_text("Invalid input for `notes`, expected `JSON`")
    expect(page.get_by_role("alert").filter(has_text="Invalid onResume inputs")).to_be_visible()
    assert _state(acme, row.id) == "PAUSED"
    shoot(page, "refused")

    # The right answer resumes it; the page follows it to its end
    form = page.get_by_role("form", name="Resume")
    expect(form.get_by_label("reviewer")).to_have_value("Ada")
    form.get_by_label("notes").fill('{"tone": "formal"}')
    form.get_by_role("button", name="Resume").click()
    expect(page.get_by_text(f"Execution {row.id} resumed.")).to_be_visible()
    _drain(acme, sent)
    expect(summary.locator(".state")).to_have_text("SUCCESS", timeout=15_000)
    expect(page.locator("#execution-logs")).to_contain_text("published by Ada, 2 copies")
    expect(page.locator("#execution-controls")).to_be_hidden()
    shoot(page, "finished")
