"""The scheduler loop: jobs run on their interval, a failing job does not stop the others;
the housekeeping job purges what can never be used again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.periodic import PeriodicJob, SchedulerLoop


def test_it_runs_due_jobs_on_their_interval():
    calls = []
    loop = SchedulerLoop(
        [
            PeriodicJob("a", 10, lambda: calls.append("a")),
            PeriodicJob("b", 1, lambda: calls.append("b")),
        ]
    )
    assert loop.run_once(now=100) == ["a", "b"]
    assert loop.run_once(now=105) == ["b"]
    assert loop.run_once(now=110) == ["a", "b"]
    assert calls == ["a", "b", "b", "a", "b"]


def test_it_keeps_going_when_a_job_fails():
    def broken() -> None:
        raise RuntimeError("boom")

    ran = []
    loop = SchedulerLoop(
        [PeriodicJob("broken", 1, broken), PeriodicJob("ok", 1, lambda: ran.append(1))]
    )
    assert loop.run_once(now=1) == ["broken", "ok"]
    assert ran == [1]


@pytest.mark.django_db(transaction=True)
def test_a_job_finds_the_database_again_after_its_connection_was_cut():
    from django.db import OperationalError, connection

    from tenants.models import Tenant

    counts = []
    loop = SchedulerLoop([PeriodicJob("count", 1, lambda: counts.append(Tenant.objects.count()))])
    assert loop.run_once(now=1) == ["count"]
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # as a restart does
    assert loop.run_once(now=2) == ["count"]  # fails on the dead connection, and drops it
    assert loop.run_once(now=3) == ["count"]
    assert counts == [0, 0]


@pytest.mark.django_db
def test_it_purges_dead_tokens_and_sessions(alice):
    from accounts.models import ApiToken
    from accounts.services import api_token_create
    from executions.tasks import housekeeping

    old = api_token_create(user=alice, name="old", expires_in_days=1)
    live = api_token_create(user=alice, name="live", expires_in_days=1)
    ApiToken.objects.filter(pk=old.token.pk).update(expires_at=timezone.now() - timedelta(days=91))
    result = housekeeping()
    assert result["tokens"] == 1
    assert list(ApiToken.objects.filter(user=alice).values_list("pk", flat=True)) == [live.token.pk]
