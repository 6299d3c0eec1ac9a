"""`GET /api/v1/{tenant}/stats/executions/daily`: Kestra's DailyExecutionStatistics per UTC
day, zero-filled; flow and namespace filters; 422s naming the parameter; another tenant's
user gets a 404 and no numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from executions.models import Execution
from executions.stats import STATES

URL = "/api/v1/acme/stats/executions/daily"
DAY1 = date(2026, 11, 1)


def execution(tenant, id_: str, start: datetime, state: str = "SUCCESS", **fields) -> Execution:
    values = {"namespace": "company.team", "flow_id": "hello", "flow_revision": 1, **fields}
    end = None if state == "RUNNING" else start + timedelta(seconds=1.5)
    return Execution(tenant=tenant, id=id_, state=state, start_date=start, end_date=end, **values)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def rows(acme, globex):
    day3 = DAY1 + timedelta(days=2)
    Execution.objects.for_tenant(acme).bulk_create(
        [
            execution(acme, "a1", at(DAY1, 8)),
            execution(acme, "a2", at(DAY1, 9), "FAILED"),
            execution(acme, "a3", at(day3, 10), "RUNNING"),
            execution(acme, "a4", at(day3, 11), flow_id="other"),
        ]
    )
    Execution.objects.for_tenant(globex).bulk_create(
        [execution(globex, f"g{n}", at(DAY1, n), "KILLED") for n in range(5)]
    )


def nonzero(entry: dict) -> dict[str, int]:
    return {state: n for state, n in entry["executionCounts"].items() if n}


@pytest.mark.django_db
def test_it_counts_executions_per_day_and_state(alice_api, rows):
    response = alice_api.get(URL, {"startDate": "2026-11-01", "endDate": "2026-11-04"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [entry["startDate"] for entry in body] == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
        "2026-11-04",
    ]
    assert [nonzero(entry) for entry in body] == [
        {"SUCCESS": 1, "FAILED": 1},
        {},
        {"RUNNING": 1, "SUCCESS": 1},
        {},
    ]
    assert set(body[1]["executionCounts"]) == set(STATES)
    assert body[0]["duration"] == {
        "count": 2,
        "min": "PT1.5S",
        "avg": "PT1.5S",
        "max": "PT1.5S",
        "sum": "PT3S",
    }
    assert body[0]["groupBy"] == "day"


@pytest.mark.django_db
def test_it_filters_one_flow(alice_api, rows):
    response = alice_api.get(
        URL,
        {
            "namespace": "company.team",
            "flowId": "other",
            "startDate": "2026-11-01",
            "endDate": "2026-11-03",
        },
    )

    assert response.status_code == 200, response.json()
    assert [nonzero(entry) for entry in response.json()] == [{}, {}, {"SUCCESS": 1}]


@pytest.mark.django_db
def test_it_defaults_to_the_last_30_utc_days(alice_api, rows, monkeypatch):
    # 23:30 UTC on Nov 3 is already Nov 4 in Tokyo: the range ends on the UTC day
    late = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: late)

    body = alice_api.get(URL).json()

    assert len(body) == 30
    assert body[0]["startDate"] == "2026-10-05"
    assert body[-1]["startDate"] == "2026-11-03"
    assert sum(sum(entry["executionCounts"].values()) for entry in body) == 4


@pytest.mark.django_db
def test_it_takes_the_utc_day_of_a_date_time(alice_api, rows):
    response = alice_api.get(
        URL, {"startDate": "2026-11-01T22:00:00-05:00", "endDate": "2026-11-02T10:00:00Z"}
    )

    assert response.status_code == 200, response.json()
    assert [entry["startDate"] for entry in response.json()] == ["2026-11-02"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("_case", "params", "path", "message"),
    [
        ("not a date", {"startDate": "yesterday"}, "startDate", "expected a date"),
        ("impossible date", {"endDate": "2026-02-30"}, "endDate", "expected a date"),
        (
            "end before start",
            {"startDate": "2026-11-05", "endDate": "2026-11-01"},
            "endDate",
            "must not be before startDate",
        ),
        (
            "over a year",
            {"startDate": "2025-01-01", "endDate": "2026-11-01"},
            "startDate",
            "at most 366 days",
        ),
        ("bad namespace", {"namespace": "Not A Namespace"}, "namespace", "expected a namespace"),
    ],
)
def test_it_refuses_bad_parameters_with_422(alice_api, acme, _case, params, path, message):
    response = alice_api.get(URL, params)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [error["path"] for error in errors] == [path]
    assert message in errors[0]["message"]


@pytest.mark.django_db
def test_it_accepts_exactly_one_leap_year(alice_api, acme):
    response = alice_api.get(URL, {"startDate": "2028-01-01", "endDate": "2028-12-31"})

    assert response.status_code == 200
    assert len(response.json()) == 366


@pytest.mark.django_db
def test_it_hides_the_tenant_from_another_tenants_user(mallory_api, rows):
    response = mallory_api.get(URL, {"startDate": "2026-11-01", "endDate": "2026-11-03"})

    assert response.status_code == 404
    assert "executionCounts" not in response.content.decode()


@pytest.mark.django_db
def test_it_gives_each_tenant_its_own_numbers(mallory_api, rows):
    params = {"startDate": "2026-11-01", "endDate": "2026-11-01"}
    response = mallory_api.get("/api/v1/globex/stats/executions/daily", params)

    assert response.status_code == 200
    assert nonzero(response.json()[0]) == {"KILLED": 5}


@pytest.mark.django_db
def test_it_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json()

    operation = document["paths"]["/api/v1/{tenant}/stats/executions/daily"]["get"]
    assert operation["operationId"] == "execution_daily_stats"
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"namespace", "flowId", "startDate", "endDate"} <= names
    assert "422" in operation["responses"]
