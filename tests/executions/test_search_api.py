"""`GET /api/v1/{tenant}/executions/search` and `/logs/search`: Kestra's filters, sorting,
page and keyset paging, a capped total, 3 SQL queries per request, 422s naming the
parameter, and never another tenant's rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from executions.models import Execution, LogEntry
from executions.search import TOTAL_CAP, Cursor
from executions.selectors import log_as_json

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "/api/v1/acme/executions/search"
LOGS = "/api/v1/acme/logs/search"


def execution(tenant, id_: str, minutes: float, **fields) -> Execution:
    start = T0 + timedelta(minutes=minutes)
    state = fields.pop("state", "SUCCESS")
    ended = state not in {"CREATED", "RUNNING", "PAUSED"}
    end = start + timedelta(seconds=1.5) if ended else None
    histories = [["CREATED", start.isoformat()], ["RUNNING", start.isoformat()]]
    if ended:
        histories.append([state, end.isoformat()])
    values = {
        "namespace": "company.team",
        "flow_id": "hello",
        "flow_revision": 1,
        "labels": [{"key": "system.correlationId", "value": id_}],
        **fields,
    }
    return Execution(
        tenant=tenant,
        id=id_,
        state=state,
        histories=histories,
        start_date=start,
        end_date=end,
        **values,
    )


def insert(tenant, rows: list[Execution]) -> None:
    Execution.objects.for_tenant(tenant).bulk_create(rows)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def api(alice_api):
    alice_api.get(URL)  # the token's last_used_at is written once a minute: not in the counts
    return alice_api


@pytest.fixture
def mixed(acme, globex):
    """Eight acme executions (newest first: a8 ... a1) and globex ones that must stay hidden."""
    insert(
        acme,
        [
            execution(acme, "a1", 1, namespace="company", flow_id="daily"),
            execution(acme, "a2", 2, namespace="company.team", state="FAILED"),
            execution(acme, "a3", 3, namespace="company.team.data", flow_id="etl-daily"),
            execution(acme, "a4", 4, namespace="company.teamx", state="RUNNING"),
            execution(
                acme,
                "a5",
                5,
                labels=[{"key": "env", "value": "prod"}, {"key": "team", "value": "data"}],
            ),
            execution(acme, "a6", 6, labels=[{"key": "env", "value": "prod"}], state="WARNING"),
            execution(acme, "a7", 7, namespace="other", flow_id="report", state="KILLED"),
            execution(acme, "a8", 8, state="CREATED"),
        ],
    )
    insert(
        globex,
        [
            execution(globex, "g1", 9, labels=[{"key": "env", "value": "prod"}]),
            execution(globex, "a9-globex", 10),
        ],
    )


def test_it_lists_light_executions_newest_first(api, mixed):
    response = api.get(URL)
    assert ids(response) == ["a8", "a7", "a6", "a5", "a4", "a3", "a2", "a1"]
    body = response.json()
    assert body["total"] == 8
    assert body["totalCapped"] is False
    assert body["next"] is None
    a7 = body["results"][1]
    assert a7 == {
        "id": "a7",
        "namespace": "other",
        "flowId": "report",
        "flowRevision": 1,
        "parentId": None,
        "originalId": "a7",
        "state": {
            "current": "KILLED",
            "histories": [
                {"state": "CREATED", "date": "2026-03-01T12:07:00Z"},
                {"state": "RUNNING", "date": "2026-03-01T12:07:00Z"},
                {"state": "KILLED", "date": "2026-03-01T12:07:01.500000Z"},
            ],
            "startDate": "2026-03-01T12:07:00Z",
            "endDate": "2026-03-01T12:07:01.500000Z",
            "duration": "PT1.5S",
        },
        "labels": [{"key": "system.correlationId", "value": "a7"}],
    }
    assert "taskRunList" not in a7


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("namespace=company.team", ["a8", "a6", "a5", "a3", "a2"]),
        ("namespace=company", ["a8", "a6", "a5", "a4", "a3", "a2", "a1"]),
        ("flowId=daily", ["a1"]),
        ("state=FAILED", ["a2"]),
        ("state=FAILED&state=KILLED&state=CREATED", ["a8", "a7", "a2"]),
        ("labels=env:prod", ["a6", "a5"]),
        ("labels=env:prod&labels=team:data", ["a5"]),
        ("labels=env:dev", []),
        ("startDate=2026-03-01T12:06:00Z", ["a8", "a7", "a6"]),
        ("endDate=2026-03-01T12:03:30Z", ["a3", "a2", "a1"]),
        ("startDate=2026-03-01T13:01:00%2B01:00&endDate=2026-03-01T12:02:30Z", ["a2", "a1"]),
        ("q=a3", ["a3"]),
        ("q=DAILY", ["a3", "a1"]),
        ("namespace=company.team&state=SUCCESS&q=hello", ["a5"]),
    ],
)
def test_it_filters_like_kestra(api, mixed, query, expected):
    response = api.get(f"{URL}?{query}")
    assert ids(response) == expected
    assert response.json()["total"] == len(expected)


def test_it_sorts_oldest_first_when_asked(api, mixed):
    assert ids(api.get(f"{URL}?sort=state.startDate:asc&size=3")) == ["a1", "a2", "a3"]
    assert ids(api.get(f"{URL}?sort=startDate:desc&size=2")) == ["a8", "a7"]


def test_it_pages_by_number(api, mixed):
    assert ids(api.get(f"{URL}?size=3&page=2")) == ["a5", "a4", "a3"]
    beyond = api.get(f"{URL}?size=3&page=9")
    assert ids(beyond) == []
    assert beyond.json()["total"] == 8  # an empty page still knows the total
    assert beyond.json()["next"] is None


@pytest.fixture
def many(acme):
    """37 executions, some sharing their start date to the microsecond (ties broken by id)."""
    rows = [execution(acme, f"e{n:02d}", minutes=n // 3) for n in range(37)]
    insert(acme, rows)
    return rows


@pytest.mark.parametrize("sort", ["state.startDate:desc", "state.startDate:asc"])
def test_keyset_pages_have_no_duplicates_nor_gaps(api, many, sort):
    descending = sort.endswith("desc")
    expected = sorted(
        ((row.start_date, row.id) for row in many), reverse=descending
    )  # the order of (start date, id)
    seen, url, pages = [], f"{URL}?size=5&sort={sort}", 0
    while url:
        body = api.get(url).json()
        assert body["total"] == 37
        seen += [row["id"] for row in body["results"]]
        pages += 1
        url = f"{URL}?size=5&sort={sort}&after={body['next']}" if body["next"] else None
    assert seen == [row_id for _, row_id in expected]
    assert pages == 8


def test_keyset_paging_is_stable_while_executions_arrive(api, acme, many):
    first = api.get(f"{URL}?size=10").json()
    insert(acme, [execution(acme, "zz-new", minutes=99)])  # newer than everything
    second = api.get(f"{URL}?size=10&after={first['next']}").json()
    offset_page = api.get(f"{URL}?size=10&page=2").json()
    assert [r["id"] for r in second["results"]] == [
        r.id for r in sorted(many, key=lambda r: (r.start_date, r.id), reverse=True)
    ][10:20]
    # an offset page shifts by the new row; the cursor does not
    assert offset_page["results"][0]["id"] == first["results"][-1]["id"]


def test_the_total_is_capped(api, acme):
    rows = [execution(acme, f"c{n:05d}", minutes=n / 1000) for n in range(TOTAL_CAP + 5)]
    insert(acme, rows)
    body = api.get(f"{URL}?size=2").json()
    assert body["total"] == TOTAL_CAP
    assert body["totalCapped"] is True
    assert [r["id"] for r in body["results"]] == [f"c{TOTAL_CAP + 4:05d}", f"c{TOTAL_CAP + 3:05d}"]
    exact = api.get(f"{URL}?size=2&q=c0000").json()  # c00000..c00009
    assert (exact["total"], exact["totalCapped"]) == (10, False)


def test_a_search_costs_at_most_three_queries(api, mixed, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = api.get(
            f"{URL}?namespace=company&state=SUCCESS&state=FAILED&labels=env:prod&q=a&size=2"
        )
    assert response.status_code == 200
    cursor = api.get(f"{URL}?size=2").json()["next"]
    with django_assert_max_num_queries(3):
        after = api.get(f"{URL}?size=2&after={cursor}")
    assert ids(after) == ["a6", "a5"]
    with django_assert_max_num_queries(3):
        assert api.get(f"{LOGS}?minLevel=WARN&namespace=company").status_code == 200


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("state=DONE", "state"),
        ("labels=nocolon", "labels"),
        ("labels=:value", "labels"),
        ("startDate=yesterday", "startDate"),
        ("endDate=2026-13-01T00:00:00Z", "endDate"),
        ("startDate=2026-03-02T00:00:00Z&endDate=2026-03-01T00:00:00Z", "endDate"),
        ("size=101", "size"),
        ("size=0", "size"),
        ("size=ten", "size"),
        ("page=0", "page"),
        ("page=1001&size=10", "page"),
        ("sort=flowId:asc", "sort"),
        ("sort=state.startDate:sideways", "sort"),
        ("namespace=Company Team", "namespace"),
        ("namespace=a%00b", "namespace"),
        ("q=" + "x" * 101, "q"),
        ("after=not-a-cursor", "after"),
        ("after=" + Cursor(T0, "a1", descending=False).encode(), "after"),
        ("page=2&after=" + Cursor(T0, "a1", descending=True).encode(), "after"),
    ],
)
def test_bad_parameters_are_422_naming_them(api, mixed, query, param):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 422, response.json()
    paths = [error["path"].split(".")[0] for error in response.json()["errors"]]
    assert param in paths, response.json()


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("minLevel=LOUD", "minLevel"),
        ("size=501", "size"),
        ("sort=level:asc", "sort"),
        ("executionId=" + "x" * 33, "executionId"),
        ("after=" + Cursor(T0, "abc", descending=True).encode(), "after"),
    ],
)
def test_bad_log_parameters_are_422_naming_them(api, query, param):
    response = api.get(f"{LOGS}?{query}")
    assert response.status_code == 422, response.json()
    assert param in [error["path"] for error in response.json()["errors"]]


def test_another_tenants_executions_never_appear(api, mixed, mallory_api):
    everything = ids(api.get(f"{URL}?size=100"))
    assert not {"g1", "a9-globex"} & set(everything)
    assert ids(api.get(f"{URL}?q=g1")) == []
    assert ids(api.get(f"{URL}?q=a9")) == []
    assert ids(api.get(f"{URL}?labels=env:prod")) == ["a6", "a5"]
    for url in (URL, LOGS):
        hidden = mallory_api.get(url)
        assert hidden.status_code == 404
        assert hidden.json()["code"] == "not_found"
        assert "a1" not in hidden.content.decode()
    assert api.get("/api/v1/globex/executions/search").status_code == 404
    assert api.get("/api/v1/nowhere/executions/search").status_code == 404
    assert ids(mallory_api.get("/api/v1/globex/executions/search")) == ["a9-globex", "g1"]


def test_a_superadmin_searches_any_tenant(api_for, mixed):
    from accounts.services import user_create

    root = api_for(user_create(email="root@aviary.test", password=None, is_superuser=True))
    assert ids(root.get("/api/v1/globex/executions/search")) == ["a9-globex", "g1"]
    assert root.get("/api/v1/nowhere/executions/search").status_code == 404


def test_it_needs_credentials(client, mixed):
    assert client.get(URL).status_code == 401


@pytest.fixture
def logs(acme, globex, mixed):
    executions = {row.id: row for row in Execution.objects.for_tenant(acme)}
    lines = [
        ("a1", "INFO", "starting daily", 0),
        ("a2", "ERROR", "boom: disk full", 1),
        ("a3", "DEBUG", "rows=12", 2),
        ("a3", "WARN", "slow query", 3),
        ("a7", "INFO", "report sent", 4),
    ]
    LogEntry.objects.for_tenant(acme).bulk_create(
        LogEntry(
            tenant=acme,
            execution=executions[execution_id],
            task_id="t",
            task_run_id="tr" if level != "DEBUG" else "",
            attempt_number=1,
            level=level,
            message=message,
            timestamp=T0 + timedelta(seconds=second),
        )
        for execution_id, level, message, second in lines
    )
    g1 = Execution.objects.for_tenant(globex).get(pk="g1")
    LogEntry.objects.for_tenant(globex).bulk_create(
        [LogEntry(tenant=globex, execution=g1, level="ERROR", message="boom globex", timestamp=T0)]
    )


def messages(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [line["message"] for line in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["report sent", "slow query", "rows=12", "boom: disk full", "starting daily"]),
        ("sort=timestamp:asc&size=2", ["starting daily", "boom: disk full"]),
        ("minLevel=WARN", ["slow query", "boom: disk full"]),
        ("q=BOOM", ["boom: disk full"]),
        ("namespace=company.team", ["slow query", "rows=12", "boom: disk full"]),
        ("flowId=report", ["report sent"]),
        ("executionId=a3", ["slow query", "rows=12"]),
        (
            "startDate=2026-03-01T12:00:01Z&endDate=2026-03-01T12:00:03Z",
            ["slow query", "rows=12", "boom: disk full"],
        ),
    ],
)
def test_it_searches_logs(api, logs, query, expected):
    assert messages(api.get(f"{LOGS}?{query}")) == expected


def test_log_lines_have_kestras_shape_and_keyset_pages(api, acme, logs):
    body = api.get(f"{LOGS}?executionId=a3&size=1").json()
    entry = LogEntry.objects.for_tenant(acme).get(message="slow query")
    assert body["results"] == [log_as_json(entry, entry.execution)]
    assert body["total"] == 2
    rest = api.get(f"{LOGS}?executionId=a3&size=1&after={body['next']}").json()
    assert [line["message"] for line in rest["results"]] == ["rows=12"]
    assert rest["results"][0]["taskRunId"] is None
    assert rest["next"] is None
