"""The executions-per-day chart on the dashboard and on a flow's Executions tab (the data of
the last 30 UTC days comes with the page, the chart script only on those pages), and the
list's `day` filter a bar links to."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from executions.models import Execution
from flows.services import flow_create
from tests.conftest import flow_yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


def run(tenant, id_: str, start: datetime, state: str = "SUCCESS", **fields) -> Execution:
    values = {"namespace": "company.team", "flow_id": "hello", "flow_revision": 1, **fields}
    return Execution.objects.for_tenant(tenant).create(
        id=id_, state=state, start_date=start, end_date=start + timedelta(seconds=1), **values
    )


def chart_data(page: str) -> list[dict]:
    found = re.search(r'<script id="daily-chart-data" type="application/json">(.*?)</script>', page)
    assert found, "no chart data on the page"
    return json.loads(found.group(1))


def totals(data: list[dict]) -> dict[str, int]:
    summed: dict[str, int] = {}
    for day in data:
        for state, count in day["executionCounts"].items():
            if count:
                summed[state] = summed.get(state, 0) + count
    return summed


def test_the_dashboard_charts_the_tenants_last_30_days(acme, globex, alice_web):
    now = timezone.now()
    run(acme, "a1", now - timedelta(hours=1))
    run(acme, "a2", now - timedelta(days=2), "FAILED")
    run(acme, "a3", now - timedelta(days=40), "FAILED")  # before the range
    run(globex, "g1", now - timedelta(hours=1), "KILLED")

    page = alice_web.get("/ui/acme/").content.decode()

    data = chart_data(page)
    assert len(data) == 30
    assert data[-1]["startDate"] == now.astimezone(UTC).date().isoformat()
    assert totals(data) == {"SUCCESS": 1, "FAILED": 1}
    assert 'data-api-url="/api/v1/acme/stats/executions/daily"' in page
    assert 'data-list-url="/ui/acme/executions/"' in page
    assert "/static/charts.js" in page
    assert "UTC day" in page


def test_a_flows_executions_tab_charts_only_that_flow(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    now = timezone.now()
    run(acme, "a1", now, "WARNING")
    run(acme, "a2", now, flow_id="other")

    page = alice_web.get("/ui/acme/flows/company.team/hello/executions").content.decode()

    assert totals(chart_data(page)) == {"WARNING": 1}
    api = "/api/v1/acme/stats/executions/daily?namespace=company.team&amp;flowId=hello"
    assert f'data-api-url="{api}"' in page
    assert 'data-list-url="/ui/acme/flows/company.team/hello/executions"' in page


def test_pages_without_a_chart_do_not_load_the_chart_script(acme, alice_web):
    assert "charts.js" not in alice_web.get("/ui/acme/executions/").content.decode()


def test_the_list_filters_one_utc_day(acme, alice_web):
    day = datetime(2026, 11, 2, tzinfo=UTC)
    run(acme, "before", day - timedelta(seconds=1))
    run(acme, "first", day)
    run(acme, "last", day + timedelta(hours=23, minutes=59), "FAILED")
    run(acme, "after", day + timedelta(days=1))

    def listed(query: str) -> set[str]:
        response = alice_web.get(f"/ui/acme/executions/?{query}")
        assert response.status_code == 200
        body = response.content.decode()
        return {id_ for id_ in ("before", "first", "last", "after") if f">{id_}<" in body}

    assert listed("day=2026-11-02") == {"first", "last"}
    assert listed("day=2026-11-02&state=FAILED") == {"last"}
    assert 'name="day" value="2026-11-02"' in alice_web.get(
        "/ui/acme/executions/?day=2026-11-02"
    ).content.decode()


def test_a_bad_day_is_a_422_naming_it(acme, alice_web):
    response = alice_web.get("/ui/acme/executions/?day=2026-13-40")

    assert response.status_code == 422
    assert "Day: Expected a date such as 2026-11-01" in response.content.decode()
