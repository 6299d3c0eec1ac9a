"""The execution page follows its execution through the page's event stream: it connects,
shows each step as the services write it (well before its 10-second fallback tick would),
and closes the stream once the execution has ended. The execution is driven in-process, as
in tests/executions/test_api_follow.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from executions import services
from flows.services import flow_create
from tests.executions.test_api_follow import FLOW, run_next, sent  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_SSE = """
window.__sse = [];
for (const name of ["htmx:sseOpen", "htmx:sseMessage", "htmx:sseClose"]) {
  document.addEventListener(name, () => window.__sse.push(name));
}
"""


def test_the_page_follows_the_event_stream_and_closes_it_at_the_end(
    page,
    live_server,
    client,
    acme,
    alice,
    sent,  # noqa: F811
):
    flow_create(tenant=acme, user=alice, source=FLOW)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="chatty", provided={}
    )
    client.force_login(alice)  # the page's session, without the login form
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.add_init_script(RECORD_SSE)
    page.goto(f"/ui/acme/executions/{row.id}")
    summary = page.locator("#execution-summary")
    expect(summary.locator(".state")).to_have_text(row.state)
    page.wait_for_function("window.__sse.includes('htmx:sseOpen')", timeout=5_000)

    while run_next(acme, sent):  # the executor and the workers, here
        pass

    expect(summary.locator(".state")).to_have_text("SUCCESS", timeout=5_000)
    expect(page.locator("#execution-logs")).to_contain_text("first line")
    expect(page.locator("#execution-poller")).not_to_have_attribute("sse-connect", re.compile("."))
    page.wait_for_function("window.__sse.includes('htmx:sseClose')", timeout=5_000)
    assert page.evaluate("window.__sse.filter(name => name === 'htmx:sseMessage').length") >= 2
