"""`execution_daily_stats`: one entry per UTC day, zeros included, counts by state, durations
of the ended executions, one tenant only, one flow or namespace when asked; one query that
reads an index."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions.models import Execution
from executions.stats import STATES, execution_daily_stats

DAY1 = date(2026, 11, 1)


def execution(tenant, id_: str, start: datetime, state: str = "SUCCESS", **fields) -> Execution:
    seconds = fields.pop("seconds", 2.0)
    ended = state not in {"CREATED", "RUNNING", "PAUSED"}
    values = {"namespace": "company.team", "flow_id": "hello", "flow_revision": 1, **fields}
    return Execution(
        tenant=tenant,
        id=id_,
        state=state,
        start_date=start,
        end_date=start + timedelta(seconds=seconds) if ended else None,
        **values,
    )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def insert(tenant, *rows: Execution) -> None:
    Execution.objects.for_tenant(tenant).bulk_create(rows)


def counts(found, day: date) -> dict[str, int]:
    entry = next(item for item in found if item.day == day)
    return {state: n for state, n in entry.counts.items() if n}


@pytest.mark.django_db
def test_it_gives_every_day_of_the_range_with_zeros_for_empty_days(acme):
    insert(acme, execution(acme, "a1", at(DAY1 + timedelta(days=2), 10)))

    found = execution_daily_stats(tenant=acme, start=DAY1, end=DAY1 + timedelta(days=4))

    assert [item.day for item in found] == [DAY1 + timedelta(days=n) for n in range(5)]
    assert [item.total for item in found] == [0, 0, 1, 0, 0]
    assert found[0].counts == dict.fromkeys(STATES, 0)
    assert found[0].as_json() == {
        "startDate": "2026-11-01",
        "executionCounts": dict.fromkeys(STATES, 0),
        "duration": {"count": 0, "min": "PT0S", "avg": "PT0S", "max": "PT0S", "sum": "PT0S"},
        "groupBy": "day",
    }


@pytest.mark.django_db
def test_it_counts_by_state_on_the_utc_day_the_execution_started(acme):
    day2 = DAY1 + timedelta(days=1)
    insert(
        acme,
        execution(acme, "a1", at(DAY1, 0, 0), "SUCCESS", seconds=1),
        execution(acme, "a2", at(DAY1, 12), "SUCCESS", seconds=3),
        execution(acme, "a3", at(DAY1, 23, 59), "FAILED", seconds=8),
        execution(acme, "a4", at(DAY1, 13), "RUNNING"),
        # midnight UTC starts day2 (in New York it is still DAY1's evening)
        execution(acme, "a5", at(day2, 0, 0), "WARNING", seconds=4),
        execution(acme, "a6", at(day2, 23, 59), "KILLED", seconds=2),
        # outside the range on both sides
        execution(acme, "b1", at(DAY1, 0) - timedelta(seconds=1), "SUCCESS"),
        execution(acme, "b2", at(day2 + timedelta(days=1), 0), "SUCCESS"),
    )

    found = execution_daily_stats(tenant=acme, start=DAY1, end=day2)

    assert counts(found, DAY1) == {"SUCCESS": 2, "FAILED": 1, "RUNNING": 1}
    assert counts(found, day2) == {"WARNING": 1, "KILLED": 1}
    first = found[0].as_json()["duration"]
    assert first == {"count": 3, "min": "PT1S", "avg": "PT4S", "max": "PT8S", "sum": "PT12S"}
    assert found[1].as_json()["duration"]["sum"] == "PT6S"


@pytest.mark.django_db
def test_it_never_counts_another_tenants_executions(acme, globex):
    insert(acme, execution(acme, "a1", at(DAY1, 9)))
    insert(
        globex,
        execution(globex, "g1", at(DAY1, 9), "FAILED"),
        execution(globex, "g2", at(DAY1, 10), "FAILED"),
    )

    found = execution_daily_stats(tenant=acme, start=DAY1, end=DAY1)

    assert counts(found, DAY1) == {"SUCCESS": 1}
    assert counts(execution_daily_stats(tenant=globex, start=DAY1, end=DAY1), DAY1) == {
        "FAILED": 2
    }


@pytest.mark.django_db
def test_it_keeps_one_flow_or_a_namespace_with_its_children(acme):
    insert(
        acme,
        execution(acme, "a1", at(DAY1, 1), namespace="company.team", flow_id="hello"),
        execution(acme, "a2", at(DAY1, 2), "FAILED", namespace="company.team", flow_id="hello"),
        execution(acme, "a3", at(DAY1, 3), namespace="company.team", flow_id="other"),
        execution(acme, "a4", at(DAY1, 4), namespace="company.team.data", flow_id="hello"),
        execution(acme, "a5", at(DAY1, 5), namespace="company.teamx", flow_id="hello"),
    )

    def flow(namespace: str, flow_id: str = "") -> dict[str, int]:
        found = execution_daily_stats(
            tenant=acme, start=DAY1, end=DAY1, namespace=namespace, flow_id=flow_id
        )
        return counts(found, DAY1)

    assert flow("company.team", "hello") == {"SUCCESS": 1, "FAILED": 1}
    assert flow("company.team") == {"SUCCESS": 3, "FAILED": 1}  # not company.teamx
    assert flow("company.team.data") == {"SUCCESS": 1}
    assert flow("", "hello") == {"SUCCESS": 3, "FAILED": 1}
    assert flow("company.team", "missing") == {}


@pytest.mark.django_db
def test_it_reads_everything_in_one_query(acme):
    insert(acme, *[execution(acme, f"a{n}", at(DAY1, n % 24)) for n in range(30)])

    with CaptureQueriesContext(connection) as queries:
        found = execution_daily_stats(tenant=acme, start=DAY1, end=DAY1 + timedelta(days=89))

    assert len(queries) == 1
    assert "GROUP BY" in queries[0]["sql"]
    assert len(found) == 90
    assert found[0].counts["SUCCESS"] == 30


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("_case", "namespace", "flow_id", "index"),
    [
        ("whole tenant", "", "", "exec_tenant_start"),
        ("one namespace", "company", "", "exec_tenant_start"),
        ("one flow", "company.team", "f7", "exec_flow_start"),
    ],
)
def test_it_reads_an_index_not_the_whole_table(acme, globex, _case, namespace, flow_id, index):
    # given a few thousand executions, most of them in other tenants and other months
    start = at(DAY1, 0) - timedelta(days=400)
    rows = [
        execution(globex, f"g{n}", start + timedelta(hours=n), flow_id=f"f{n % 50}")
        for n in range(4000)
    ]
    rows += [
        execution(acme, f"a{n}", start + timedelta(hours=7 * n), flow_id=f"f{n % 50}")
        for n in range(1500)
    ]
    Execution.all_tenants.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE executions_execution")

    with CaptureQueriesContext(connection) as queries:
        execution_daily_stats(
            tenant=acme,
            start=DAY1 - timedelta(days=29),
            end=DAY1,
            namespace=namespace,
            flow_id=flow_id,
        )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert index in plan, plan
    assert "Seq Scan" not in plan, plan
