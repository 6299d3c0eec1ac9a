"""`with_reconnect`: a unit of work that met a dead database connection runs again on a new
one; never inside an outer transaction, and not forever."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection, transaction

from executions import reconnect
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _cut_own_connection() -> None:
    """What a database restart does to this process's session."""
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def test_work_that_meets_a_dead_connection_runs_again_on_a_new_one(acme):
    calls = []

    def count() -> int:
        calls.append(1)
        with transaction.atomic():
            return Tenant.objects.count()

    _cut_own_connection()
    assert reconnect.with_reconnect(count) == 1
    assert len(calls) == 2  # once on the dead connection, once on the new one


def test_inside_an_outer_transaction_nothing_is_retried(acme):
    calls = []

    def count() -> int:
        calls.append(1)
        return Tenant.objects.count()

    def in_a_transaction() -> None:
        with transaction.atomic():
            _cut_own_connection()
            reconnect.with_reconnect(count)

    with pytest.raises(OperationalError):
        in_a_transaction()
    assert calls == [1]


def test_it_gives_up_when_the_database_stays_away(monkeypatch):
    monkeypatch.setattr(reconnect, "RECONNECT_SECONDS", 0.2)
    calls = []

    def unreachable() -> None:
        calls.append(1)
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError, match="connection refused"):
        reconnect.with_reconnect(unreachable)
    assert 2 <= len(calls) <= 5  # 0.05 s, then 0.1 s between tries
