"""Rows and stored files for the tests of an execution's files and of its deletion: an
execution built as rows (no executor, no broker) and files written through LocalStorage under
a per-test storage root."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from executions.engine.model import new_id
from executions.engine.states import State
from executions.models import Execution, LogEntry, TaskRun
from tenants.models import Tenant
from tenants.storage.local import LocalStorage


def use_storage_root(settings, root: Path) -> Path:
    """Point the tenants' storage at `root` for this test (pytest-django's `settings`)."""
    settings.AVIARY = {**settings.AVIARY, "STORAGE_ROOT": str(root)}
    return root


def make_execution(
    tenant: Tenant,
    *,
    state: str = "SUCCESS",
    namespace: str = "company.team",
    flow_id: str = "hello",
    inputs: dict | None = None,
    outputs: dict | None = None,
) -> Execution:
    start = timezone.now() - timedelta(seconds=5)
    ended = State(state).terminated
    histories = [["CREATED", start.isoformat()], ["RUNNING", start.isoformat()]]
    if state not in {"CREATED", "RUNNING"}:
        histories.append([state, timezone.now().isoformat()])
    return Execution.objects.for_tenant(tenant).create(
        id=new_id(),
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=1,
        state=state,
        histories=histories if state != "CREATED" else histories[:1],
        start_date=start,
        end_date=timezone.now() if ended else None,
        inputs=inputs or {},
        outputs=outputs,
    )


def prefix(execution: Execution) -> str:
    """The execution's storage folder as a `kestra:///` URI, with the trailing slash."""
    namespace = execution.namespace.replace(".", "/")
    return f"kestra:///{namespace}/{execution.flow_id}/executions/{execution.id}/"


def store(tenant: Tenant, execution: Execution, relative: str, data: bytes) -> str:
    """Write a file in the execution's folder, as a task would; returns its URI."""
    name = prefix(execution).removeprefix("kestra:///") + relative
    return LocalStorage(tenant.slug).put(name, data)


def add_task_run(
    tenant: Tenant, execution: Execution, task_id: str, outputs: dict | None = None
) -> TaskRun:
    runs = TaskRun.objects.for_tenant(tenant)
    now = timezone.now()
    return runs.create(
        id=new_id(),
        execution=execution,
        position=runs.filter(execution=execution).count(),
        task_id=task_id,
        state="SUCCESS",
        histories=[["CREATED", now.isoformat()], ["SUCCESS", now.isoformat()]],
        attempts=[[["RUNNING", now.isoformat()], ["SUCCESS", now.isoformat()]]],
        outputs=outputs,
    )


def add_log(tenant: Tenant, execution: Execution, message: str) -> LogEntry:
    return LogEntry.objects.for_tenant(tenant).create(
        execution=execution, level="INFO", message=message, timestamp=timezone.now()
    )
