"""A bulk action runs for real: the API stores it, a Celery worker process handles it through
Redis, and its progress reaches the API until it is done."""

from __future__ import annotations

import time

import pytest

from executions.models import Execution
from flows.services import flow_create
from tests.executions.actions_support import FLAKY

pytestmark = pytest.mark.django_db(transaction=True)


def _until(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_bulk_restart_runs_on_a_worker_and_reports_its_progress(
    celery_worker_process, acme, alice, alice_api
):
    flow_create(tenant=acme, user=alice, source=FLAKY)
    ids = [
        alice_api.post("/api/v1/acme/executions/company.team/flaky", {}, format="multipart").json()[
            "id"
        ]
        for _ in range(3)
    ]
    executions = Execution.objects.for_tenant(acme)
    _until(
        lambda: executions.filter(pk__in=ids, state="FAILED").count() == 3,
        "the executions did not fail",
    )

    response = alice_api.post("/api/v1/acme/executions/restart/by-query?flowId=flaky")

    assert response.status_code == 202, response.json()
    assert response.json()["count"] == 3
    url = response["Location"]
    seen = set()

    def finished():
        progress = alice_api.get(url).json()
        seen.add(progress["done"])
        return progress if progress["status"] == "DONE" else None

    progress = _until(finished, "the bulk action did not finish")
    assert (progress["done"], progress["succeeded"], progress["errors"]) == (3, 3, [])
    assert seen <= {0, 1, 2, 3}
    _until(
        lambda: executions.filter(pk__in=ids, state="SUCCESS").count() == 3,
        f"the restarted executions did not succeed: {celery_worker_process.read_text()[-2000:]}",
    )
    assert all(row.attempt_number == 2 for row in executions.filter(pk__in=ids))
