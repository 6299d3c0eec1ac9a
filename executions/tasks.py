"""Celery tasks: the executor (queue `executor`) and the worker (queue `worker`). Messages
carry ids only; the handlers are idempotent (see executions/services.py)."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from accounts.services import api_token_purge, session_purge_expired
from executions.reconnect import with_reconnect
from tenants.models import Tenant

log = logging.getLogger("aviary.worker")


@shared_task(name="aviary.housekeeping")
def housekeeping() -> dict[str, int]:
    """Drop expired sessions and API tokens dead (revoked or expired) for 90 days."""
    from datetime import timedelta

    sessions = session_purge_expired()
    tokens = api_token_purge(older_than=timedelta(days=90))
    log.info("housekeeping: %s expired session(s), %s dead API token(s) removed", sessions, tokens)
    return {"sessions": sessions, "tokens": tokens}


# Each message names its tenant by id; a worker process keeps the rows it has read for a
# while instead of one query per message (a tenant's id and slug never change; a deleted
# tenant's executions are gone with it, so a stale entry finds nothing to do).
_TENANTS: dict[int, tuple[float, Tenant]] = {}
TENANT_CACHE_SECONDS = 30.0


def _tenant(tenant_id: int) -> Tenant | None:
    from tenants.selectors import tenant_by_id

    cached = _TENANTS.get(tenant_id)
    if cached is not None and time.monotonic() - cached[0] < TENANT_CACHE_SECONDS:
        return cached[1]
    tenant = tenant_by_id(tenant_id=tenant_id)
    if tenant is not None:
        _TENANTS[tenant_id] = (time.monotonic(), tenant)
    return tenant


@shared_task(name="aviary.advance_execution", queue="executor", acks_late=True)
def advance_execution(tenant_id: int, execution_id: str) -> None:
    from executions.services import execution_advance

    tenant = with_reconnect(_tenant, tenant_id)
    if tenant is not None:
        with_reconnect(execution_advance, tenant=tenant, execution_id=execution_id)


@shared_task(name="aviary.subflow_ended", queue="executor", acks_late=True)
def subflow_ended(tenant_id: int, execution_id: str) -> None:
    """A child execution ended: its parent task run takes the result (executions/subflows.py)."""
    from executions.subflows import subflow_ended as give_result

    tenant = with_reconnect(_tenant, tenant_id)
    if tenant is not None:
        with_reconnect(give_result, tenant=tenant, execution_id=execution_id)


@shared_task(name="aviary.kill_subflows", queue="executor", acks_late=True)
def kill_subflows(tenant_id: int, execution_id: str, task_run_id: str) -> None:
    """Kill the running child executions of a task run that was stopped."""
    from executions.subflows import kill_children

    tenant = with_reconnect(_tenant, tenant_id)
    if tenant is not None:
        with_reconnect(
            kill_children, tenant=tenant, execution_id=execution_id, task_run_id=task_run_id
        )


@shared_task(name="aviary.run_task_run", queue="worker", acks_late=True)
def run_task_run(
    tenant_id: int,
    execution_id: str,
    task_run_id: str,
    takeover: bool = False,
    fanout: bool = False,
) -> None:
    from executions.services import task_run_execute

    tenant = with_reconnect(_tenant, tenant_id)
    if tenant is not None:
        task_run_execute(
            tenant=tenant,
            execution_id=execution_id,
            task_run_id=task_run_id,
            takeover=takeover,
            fanout=fanout,
        )


@shared_task(name="aviary.run_bulk_action", queue="worker", acks_late=True)
def run_bulk_action(tenant_id: int, bulk_action_id: int) -> None:
    """A bulk restart, delete or set-labels over executions (executions/bulk.py); delivered
    again, it resumes after the last execution it handled."""
    from executions.bulk import bulk_action_run

    tenant = with_reconnect(_tenant, tenant_id)
    if tenant is not None:
        bulk_action_run(tenant=tenant, bulk_action_id=bulk_action_id)
