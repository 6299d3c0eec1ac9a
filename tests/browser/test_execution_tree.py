"""The execution page's task-run tree in the browser: flowables and loop iterations expand
and collapse, and what a person opened or closed stays so while the page updates live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from executions import services
from flows.services import flow_create
from tests.executions.test_api_follow import run_next, sent  # noqa: F401
from tests.executions.test_execution_tree import LOOPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_iterations_expand_and_keep_what_the_person_chose(
    page,
    shoot,
    live_server,
    client,
    acme,
    alice,
    sent,  # noqa: F811
):
    flow_create(tenant=acme, user=alice, source=LOOPS)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="loops", provided={}
    )
    client.force_login(alice)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.goto(f"/ui/acme/executions/{row.id}")
    tree = page.locator("#task-runs")
    each = tree.locator("details.task-node").first
    expect(each).to_have_attribute("open", "")
    each.locator("> summary").click()  # the person folds the loop while it runs
    expect(each).not_to_have_attribute("open", "")

    while run_next(acme, sent):
        pass
    summary = page.locator("#execution-summary")
    expect(summary.locator(".state")).to_have_text("WARNING", timeout=5_000)
    each = tree.locator("details.task-node").first
    expect(each).not_to_have_attribute("open", "")  # folded still, after the live updates
    expect(each.locator("> ul.task-iterations")).to_be_hidden()

    each.locator("> summary").click()
    iterations = each.locator("> ul.task-iterations > li")
    expect(iterations).to_have_count(2)
    a, b = iterations.nth(0), iterations.nth(1)
    expect(a).to_have_attribute("data-iteration", "a")
    expect(a.locator("> details > summary .state")).to_have_text("SUCCESS")
    expect(b.locator("> details > summary .state")).to_have_text("WARNING")
    expect(a.locator("> details")).not_to_have_attribute("open", "")  # succeeded: folded
    expect(b.locator("> details")).to_have_attribute("open", "")
    expect(b.locator("[data-iteration='3']")).to_have_count(1)  # the nested loop's values
    expect(a.get_by_text("inner").first).to_be_hidden()

    a.locator("> details > summary").click()
    expect(a.get_by_text("inner").first).to_be_visible()
    expect(a.get_by_text("say").first).to_be_hidden()  # its own iterations succeeded: folded
    # the page fetches its live parts again: the tree is swapped in, the choices stay
    page.evaluate(
        "url => htmx.ajax('GET', url, {target: '#execution-poller', swap: 'none'})",
        f"/ui/acme/executions/{row.id}/live",
    )
    page.wait_for_timeout(300)
    expect(tree.locator("details.task-node").first).to_have_attribute("open", "")
    expect(tree.locator("[data-iteration='a'] > details")).to_have_attribute("open", "")
    shoot(page, "tree")
