"""A person opens a flow with inputs, clicks Execute, fills the generated form, and watches
the execution page follow the run on real Celery workers until SUCCESS, without reloading;
then reads the log line with the input and the flow output.

The Celery worker fixture is imported from tests/executions/conftest.py; the browser stays
this folder's (one sync Playwright per process: a second one would fail to start)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from executions.models import Execution
from flows.services import flow_create
from tests.conftest import PASSWORD
from tests.executions.conftest import celery_worker_process  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOW = """id: greet
namespace: company.web
description: Greets someone
inputs:
  - id: who
    type: STRING
    displayName: Who to greet
    description: A name, letters only
    validator: "[A-Za-z]+"
  - id: times
    type: INT
    defaults: 2
  - id: mood
    type: SELECT
    values: [calm, loud]
    defaults: calm
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.who }}, {{ inputs.mood }}"
  - id: shout
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.who | upper }}x{{ inputs.times }}"
outputs:
  - id: shouted
    type: STRING
    value: "{{ outputs.shout.value }}"
"""


def test_it_launches_a_flow_and_follows_it_live(
    celery_worker_process,  # noqa: F811
    page,
    shoot,
    acme,
    alice,
):
    flow_create(tenant=acme, user=alice, source=FLOW)
    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    main = page.get_by_role("navigation", name="Main")
    main.get_by_role("link", name="Executions").click()
    expect(page.get_by_text("No execution yet.")).to_be_visible()
    main.get_by_role("link", name="Flows").click()
    page.get_by_role("link", name="greet").click()
    page.get_by_role("navigation", name="Flow").get_by_role("link", name="Execute").click()
    expect(page.get_by_role("heading", name="Execute greet")).to_be_visible()
    who = page.get_by_label("Who to greet")
    expect(who).to_have_attribute("required", "")
    expect(who).to_have_attribute("pattern", "[A-Za-z]+")
    expect(page.get_by_label("times")).to_have_value("2")
    expect(page.get_by_label("mood")).to_have_value("calm")
    shoot(page, "1-launch-form")

    # Without the browser's checks, the server's own errors come back at each input.
    page.locator("form.launch-form").evaluate("form => { form.noValidate = true }")
    page.get_by_label("times").fill("")
    page.get_by_role("button", name="Execute").click()
    problem = page.locator('[data-input="who"] .field-error')
    expect(problem).to_contain_text("Invalid input for `who`, missing required input")
    expect(page.locator('[data-input="times"] .field-error')).to_have_count(0)
    shoot(page, "2-server-errors")
    assert not Execution.objects.for_tenant(acme).exists()

    who.fill("Aviary")
    page.get_by_label("times").fill("3")
    page.get_by_label("mood").select_option("loud")
    page.get_by_label("Labels").fill("team:web")
    page.get_by_role("button", name="Execute").click()

    expect(page).to_have_url(re.compile(r"/ui/acme/executions/\w{22}$"))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    execution_id = page.url.rsplit("/", 1)[-1]
    summary = page.locator("#execution-summary")
    expect(page.get_by_role("status").filter(has_text="created")).to_be_visible()
    expect(summary.locator(".state")).to_have_text("SUCCESS", timeout=30_000)
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    expect(page.locator("#execution-poller")).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(summary).to_contain_text("team:web")
    logs = page.locator("#execution-logs")
    expect(logs).to_contain_text("Hello Aviary, loud")
    expect(page.locator("#outputs")).to_contain_text('"shouted": "AVIARYx3"')
    expect(page.locator("#gantt .gantt-bar")).to_have_count(2)
    tree = page.locator("#task-runs")
    expect(tree.locator(".state")).to_have_text(["SUCCESS", "SUCCESS"])
    tree.get_by_text("Outputs").click()
    expect(tree.locator("details pre")).to_contain_text('"value": "AVIARYx3"')
    shoot(page, "3-execution-success")
    row = Execution.objects.for_tenant(acme).get(pk=execution_id)
    assert row.state == "SUCCESS"
    assert row.inputs == {"who": "Aviary", "times": 3, "mood": "loud"}

    page.get_by_role("search", name="Filter logs").get_by_label("Search").fill("nothing")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"\?level=INFO&q=nothing#logs$"))
    expect(logs).to_contain_text("No log line at INFO or above contains")

    main.get_by_role("link", name="Executions").click()
    listed = page.get_by_role("row").filter(has_text=execution_id)
    expect(listed).to_contain_text("SUCCESS")
    expect(listed).to_contain_text("greet")
    shoot(page, "4-list")
    page.get_by_role("checkbox", name="FAILED").check()
    expect(page).to_have_url(re.compile(r"state=FAILED"))
    expect(page.get_by_text("No execution matches these filters.")).to_be_visible()
    shoot(page, "5-list-filtered")
