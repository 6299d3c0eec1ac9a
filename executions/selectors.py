"""Reads of executions and their logs, always within one tenant."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, QuerySet

from executions import snapshots
from executions.engine.sealed_inputs import mask_sealed
from executions.models import Execution, LogEntry, TaskRun
from tenants.errors import NotFound
from tenants.models import Tenant


def execution_get(*, tenant: Tenant, execution_id: str) -> Execution:
    row = (
        Execution.objects.for_tenant(tenant)
        .select_related("tenant")
        .filter(pk=execution_id)
        .first()
    )
    if row is None:
        raise NotFound(f"Execution {execution_id} not found")
    return row


def execution_as_json(execution: Execution) -> dict[str, Any]:
    """Kestra's execution JSON, task runs included (two queries). SECRET inputs and SECRET
    `onResume` values are masked: their values are for the tasks, never for readers."""
    runs = list(
        TaskRun.objects.for_tenant(execution.tenant)
        .filter(execution=execution)
        .order_by("position")
    )
    document = snapshots.snapshot(execution, runs).to_kestra_json()
    for run in document.get("taskRunList") or ():
        outputs = run.get("outputs")
        if isinstance(outputs, dict) and "onResume" in outputs:  # SECRET values sealed
            run["outputs"] = mask_sealed(outputs, SECRET_MASK)
    secret_ids = _secret_input_ids(execution)
    if secret_ids:
        document["inputs"] = {
            key: SECRET_MASK if key in secret_ids else value
            for key, value in document["inputs"].items()
        }
    return document


SECRET_MASK = "********"  # noqa: S105 - the mask, not a secret


def _secret_input_ids(execution: Execution) -> set[str]:
    from executions.services import flow_spec  # the cached engine view of a revision

    try:
        spec = flow_spec(
            execution.tenant, execution.namespace, execution.flow_id, execution.flow_revision
        )
    except NotFound:
        return set()
    return {
        str(d.get("id") or d.get("name")).split(".")[0]
        for d in spec.inputs
        if d.get("type") == "SECRET"
    }


def log_list(*, tenant: Tenant, execution_id: str, min_level: str = "TRACE") -> QuerySet[LogEntry]:
    execution = execution_get(tenant=tenant, execution_id=execution_id)
    levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
    wanted = levels[levels.index(min_level) :] if min_level in levels else levels
    return (
        LogEntry.objects.for_tenant(tenant)
        .filter(execution=execution, level__in=wanted)
        .order_by("timestamp", "id")
    )


def log_as_json(entry: LogEntry, execution: Execution) -> dict[str, Any]:
    return {
        "executionId": execution.id,
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "taskId": entry.task_id or None,
        "taskRunId": entry.task_run_id or None,
        "attemptNumber": entry.attempt_number,
        "level": entry.level,
        "message": entry.message,
        "timestamp": entry.timestamp.isoformat(),
    }


LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


def log_entries_after(
    *, tenant: Tenant, execution: Execution, after_id: int, min_level: str = "TRACE"
) -> QuerySet[LogEntry]:
    """The execution's log lines stored after line `after_id`, in the order they were
    committed. Every writer inserts an execution's lines while holding its row lock, so their
    ids grow in commit order: a reader that remembers the last id it saw misses none."""
    wanted = LOG_LEVELS[LOG_LEVELS.index(min_level) :] if min_level in LOG_LEVELS else LOG_LEVELS
    return (
        LogEntry.objects.for_tenant(tenant)
        .filter(execution=execution, id__gt=after_id, level__in=wanted)
        .order_by("id")
    )


def log_last_id(*, tenant: Tenant, execution: Execution, after_id: int = 0) -> int:
    """The id of the execution's newest log line (`after_id` when none is newer)."""
    newest = (
        LogEntry.objects.for_tenant(tenant)
        .filter(execution=execution, id__gt=after_id)
        .aggregate(newest=Max("id"))["newest"]
    )
    return int(newest) if newest is not None else after_id
