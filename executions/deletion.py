"""Deleting an execution (Kestra's `DELETE /api/v1/executions/{id}`): its row, its task runs,
its logs and its folder in the internal storage.

Only an ended execution may go: a running one still has workers and the executor writing to
it, so it must be killed first. The rows go in one transaction that holds the execution's row
lock (the executor and the workers take the same lock, then find nothing and stop); the files
go only after that transaction commits, so a failed delete never leaves rows that point at
removed files.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

from executions.engine.labels import refuse_read_only
from executions.engine.states import State
from executions.files import execution_storage_prefixes
from executions.models import Execution, LogEntry, TaskRun
from tenants.errors import Conflict, NotFound, Unprocessable
from tenants.models import Tenant
from tenants.storage.local import LocalStorage, StorageError

log = logging.getLogger("aviary.executions")


def execution_delete(
    *,
    tenant: Tenant,
    execution_id: str,
    delete_logs: bool = True,
    delete_metrics: bool = True,
    delete_storage: bool = True,
) -> None:
    """Delete an ended execution with its task runs, its logs and (`delete_storage`) its files.

    A missing execution, or another tenant's, is a NotFound; one that has not ended, or a
    read-only one (`system.readOnly: "true"`), a Conflict.
    Aviary records no metrics, so `delete_metrics` has nothing to remove. Its log lines take
    their namespace and flow from the execution, so they cannot outlive it: `delete_logs=False`
    is refused (422) rather than ignored.
    """
    if not delete_logs:
        raise Unprocessable(
            "deleteLogs=false is not supported: an execution's log lines are deleted with it "
            "(they read their namespace and flow from it). Download them first with "
            f"GET /logs/{execution_id}",
            field="deleteLogs",
        )
    with transaction.atomic():
        execution = (
            Execution.objects.for_tenant(tenant)
            .select_for_update()
            .filter(pk=execution_id)
            .only("id", "namespace", "flow_id", "state", "labels")
            .first()
        )
        if execution is None:
            raise NotFound(f"Execution {execution_id} not found")
        refuse_read_only(f"Execution {execution_id}", execution.labels)
        state = State(execution.state)
        if not state.terminated:
            raise Conflict(
                f"Execution {execution_id} is {state.value}: kill it first, then delete it "
                "once it has ended"
            )
        LogEntry.objects.for_tenant(tenant).filter(execution_id=execution_id).delete()
        TaskRun.objects.for_tenant(tenant).filter(execution_id=execution_id).delete()
        Execution.objects.for_tenant(tenant).filter(pk=execution_id).delete()
        if delete_storage:
            prefixes = execution_storage_prefixes(execution)
            transaction.on_commit(partial(_delete_files, tenant.slug, execution_id, prefixes))


def _delete_files(tenant_slug: str, execution_id: str, prefixes: tuple[str, ...]) -> None:
    """After commit: the rows are gone for good, so a file that cannot be removed is logged
    (an orphan folder an operator can remove), never raised at the caller."""
    storage = LocalStorage(tenant_slug)
    for prefix in prefixes:
        try:
            storage.delete_prefix(f"kestra://{prefix}")
        except (OSError, StorageError):
            log.exception("Files of deleted execution %s left at %s", execution_id, prefix)
