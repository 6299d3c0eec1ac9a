"""A person opens the dashboard and reads the executions-per-day chart (drawn, with the
tenant's numbers), switches it to 7 days, clicks today's FAILED bar to list those executions,
saves that filter under a name, clears the filters and re-applies the saved search."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from executions.models import Execution
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run(tenant, id_: str, start, state: str) -> Execution:
    return Execution(
        tenant=tenant,
        id=id_,
        namespace="company.team",
        flow_id="nightly",
        flow_revision=1,
        state=state,
        start_date=start,
        end_date=start + timedelta(seconds=2),
    )


def _chart_totals(page) -> dict[str, int]:
    return page.evaluate(
        """() => Object.fromEntries(window.aviary.charts.get("daily-chart").data.datasets
              .map((set) => [set.label, set.data.reduce((sum, n) => sum + n, 0)]))"""
    )


def _painted(page) -> bool:
    """Some pixel of the canvas is not transparent: Chart.js drew on it."""
    return page.evaluate(
        """() => {
          const canvas = document.querySelector("#daily-chart canvas");
          const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
          return pixels.data.some((value, index) => index % 4 === 3 && value > 0);
        }"""
    )


def test_it_charts_executions_and_saves_a_search(page, shoot, acme, globex, alice):
    now = timezone.now()
    today = now.astimezone(UTC).date().isoformat()
    rows = [_run(acme, f"ok{n}", now - timedelta(seconds=n + 1), "SUCCESS") for n in range(3)]
    rows += [_run(acme, f"bad{n}", now - timedelta(seconds=n + 5), "FAILED") for n in range(2)]
    rows += [_run(acme, "warned", now - timedelta(days=3), "WARNING")]
    rows += [_run(acme, "old", now - timedelta(days=20), "KILLED")]
    rows += [_run(globex, "theirs", now - timedelta(seconds=3), "FAILED")]
    Execution.all_tenants.bulk_create(rows)

    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # the chart: drawn, with acme's numbers only
    chart = page.get_by_role("region", name="Executions per day")
    canvas = chart.get_by_role("img")
    expect(canvas).to_have_attribute(
        "aria-label",
        "Executions per day, last 30 days: 7 executions: 3 SUCCESS, 1 WARNING, 2 FAILED, 1 KILLED",
    )
    expect(chart).to_contain_text("7 executions in the last 30 days")
    assert _chart_totals(page) == {"SUCCESS": 3, "WARNING": 1, "FAILED": 2, "KILLED": 1}
    box = canvas.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 150
    assert _painted(page)
    shoot(page, "1-dashboard-chart")

    # 7 days come from the stats API: the 20-day-old execution leaves the chart
    with page.expect_response(re.compile(r"/api/v1/acme/stats/executions/daily\?")) as answer:
        chart.get_by_role("button", name="7 days").click()
    assert answer.value.status == 200
    expect(chart.get_by_role("button", name="7 days")).to_have_attribute("aria-pressed", "true")
    expect(chart).to_contain_text("6 executions in the last 7 days")
    assert _chart_totals(page) == {"SUCCESS": 3, "WARNING": 1, "FAILED": 2}
    assert page.evaluate('window.aviary.charts.get("daily-chart").data.labels.length') == 7

    # today's FAILED segment opens the list of today's failed executions
    point = page.evaluate(
        """() => {
          const chart = window.aviary.charts.get("daily-chart");
          const index = chart.data.datasets.findIndex((set) => set.label === "FAILED");
          const bar = chart.getDatasetMeta(index).data[chart.data.labels.length - 1];
          return bar.getCenterPoint(true);
        }"""
    )
    canvas.click(position={"x": point["x"], "y": point["y"]})
    expect(page).to_have_url(re.compile(rf"/ui/acme/executions/\?day={today}&state=FAILED$"))
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=re.compile(r"^bad\d$"))).to_have_count(2)
    expect(table.get_by_role("link", name=re.compile(r"^ok\d$"))).to_have_count(0)

    # save the filter under a name
    saved = page.get_by_role("region", name="Saved searches")
    saved.get_by_label("Save these filters as").fill("")
    saved.get_by_role("button", name="Save search").click()
    expect(saved.get_by_role("alert")).to_have_text("Give the search a name.")
    saved.get_by_label("Save these filters as").fill("Failed today")
    saved.get_by_role("button", name="Save search").click()
    expect(page.get_by_role("status")).to_contain_text("Search “Failed today” saved.")
    link = saved.get_by_role("link", name="Failed today")
    expect(link).to_have_attribute("aria-current", "true")
    shoot(page, "2-saved-search")

    # clear the filters, then re-apply the saved search
    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/ui/acme/executions/\?$"))
    expect(table.get_by_role("link", name=re.compile(r"^(ok|bad)\d$"))).to_have_count(5)
    expect(link).not_to_have_attribute("aria-current", "true")
    link.click()
    expect(page).to_have_url(re.compile(rf"\?state=FAILED&day={today}$"))
    expect(table.get_by_role("link", name=re.compile(r"^bad\d$"))).to_have_count(2)
    expect(table.get_by_role("link", name=re.compile(r"^ok\d$"))).to_have_count(0)
    expect(page.get_by_role("checkbox", name="FAILED")).to_be_checked()
    shoot(page, "3-search-reapplied")

    # and delete it (the confirmation is accepted)
    page.once("dialog", lambda dialog: dialog.accept())
    saved.get_by_role("button", name="Delete saved search Failed today").click()
    expect(page.get_by_role("status")).to_contain_text("Saved search “Failed today” deleted.")
    expect(saved.get_by_role("link", name="Failed today")).to_have_count(0)
