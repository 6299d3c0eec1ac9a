"""Writes of executions: create (typed inputs, nothing stored when one is invalid), advance
(the executor: decide and apply in one transaction holding the execution's row lock), and
run a task run (the worker: claim, run outside any transaction, report). Celery messages
carry ids only and leave on commit; every step is idempotent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions import snapshots
from executions.adapters import InputFiles, TenantKV, secret_lookup
from executions.engine import commands
from executions.engine.actions import Action, EmitLog, RetryExecution, RunTaskRun, WakeUp
from executions.engine.apply import apply_actions
from executions.engine.decide import decide
from executions.engine.flow import FlowSpec, load_flow
from executions.engine.inputs import resolve_inputs
from executions.engine.model import Execution as Snapshot
from executions.engine.model import Label, new_execution, new_id, replay_execution
from executions.engine.rendering import expressions_renderer
from executions.engine.services import EngineServices
from executions.engine.states import State
from executions.engine.tasks.base import LogLine
from executions.engine.worker import run_attempt
from executions.models import Execution, LogEntry, TaskRun
from flows.selectors import flow_get, flow_revision_source
from flows.spec import flow_labels
from tenants.errors import Conflict, Unprocessable, Violation
from tenants.models import Tenant
from tenants.storage.local import LocalStorage

MAX_PASSES = 200  # decisions applied in one executor message before it yields


@lru_cache(maxsize=256)
def _spec(tenant_id: int, namespace: str, flow_id: str, revision: int, source: str) -> FlowSpec:
    return load_flow(source, revision=revision)


def flow_spec(tenant: Tenant, namespace: str, flow_id: str, revision: int) -> FlowSpec:
    """The engine's view of one revision; revisions never change, so it is cached."""
    source = flow_revision_source(
        tenant=tenant, namespace=namespace, flow_id=flow_id, revision=revision
    )
    return _spec(tenant.pk, namespace, flow_id, revision, source)


def _services(tenant: Tenant, namespace: str, execution_id: str) -> EngineServices:
    return EngineServices(
        kv_store=TenantKV(tenant, namespace),
        storage=LocalStorage(tenant.slug),
        secrets=secret_lookup(tenant),
        errors=lambda: _error_logs(tenant, execution_id),
    )


def _error_logs(tenant: Tenant, execution_id: str) -> list[dict[str, Any]]:
    rows = LogEntry.objects.for_tenant(tenant).filter(execution_id=execution_id, level="ERROR")
    return [
        {
            "taskId": r.task_id,
            "taskRunId": r.task_run_id,
            "message": r.message,
            "level": r.level,
            "timestamp": r.timestamp.isoformat(),
        }
        for r in rows.order_by("timestamp", "id")[:25]
    ]


def _dispatch_on_commit(
    tenant: Tenant, execution_id: str, actions: Iterable[Action], wake: datetime | None
) -> None:
    from executions import tasks  # Celery app import stays out of model loading

    runs = [a.task_run_id for a in actions if isinstance(a, RunTaskRun)]

    def send() -> None:
        for task_run_id in runs:
            tasks.run_task_run.delay(tenant.pk, execution_id, task_run_id)
        if wake is not None:
            delay = max(0.0, (wake - timezone.now()).total_seconds())
            tasks.advance_execution.apply_async((tenant.pk, execution_id), countdown=delay)

    transaction.on_commit(send)


def _write_logs(
    tenant: Tenant, execution: Execution, lines: Iterable[LogLine], attempt_number: int = 0
) -> None:
    LogEntry.objects.for_tenant(tenant).bulk_create(
        LogEntry(
            tenant=tenant,
            execution=execution,
            task_run_id=line.task_run_id or "",
            task_id=line.task_id or "",
            attempt_number=attempt_number,
            level=line.level,
            message=line.message,
            timestamp=line.timestamp,
        )
        for line in lines
    )


def execution_create(
    *,
    tenant: Tenant,
    namespace: str,
    flow_id: str,
    provided: Mapping[str, Any],
    labels: Iterable[tuple[str, str]] = (),
) -> Execution:
    """Start an execution of the flow's current revision. Every invalid input is reported
    together (422) and nothing is stored."""
    flow = flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    if flow.disabled:
        raise Conflict(f"Cannot execute disabled flow {namespace}.{flow_id}")
    reserved = [
        Violation(f"labels.{key}", "system labels other than system.correlationId are reserved")
        for key, _ in labels
        if key.startswith("system.") and key != "system.correlationId"
    ]
    if reserved:
        raise Unprocessable("Invalid labels", violations=reserved)
    execution_id = new_id()
    storage = LocalStorage(tenant.slug)
    files = InputFiles(storage, namespace, flow_id, execution_id)
    resolution = resolve_inputs(
        list(flow.spec.get("inputs") or []),
        provided,
        render=lambda template, variables: expressions_renderer(variables).render_typed(template),
        files=files,
    )
    if resolution.violations:
        raise Unprocessable(
            f"Invalid inputs: {len(resolution.violations)} problem(s)",
            violations=resolution.violations,
        )
    now = timezone.now()
    snap = new_execution(
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=flow.revision,
        now=now,
        execution_id=execution_id,
        inputs=resolution.nested(),
        flow_labels=[Label(item["key"], item["value"]) for item in flow_labels(flow.spec)],
        labels=[Label(k, v) for k, v in labels],
        tenant_id=tenant.slug,
    )
    with transaction.atomic():
        row = snapshots.save(tenant=tenant, before=None, after=snap, wake_at=None)
        _advance_on_commit(tenant, execution_id)
    return row


def _advance_on_commit(tenant: Tenant, execution_id: str, countdown: float = 0) -> None:
    from executions import tasks

    transaction.on_commit(
        lambda: tasks.advance_execution.apply_async((tenant.pk, execution_id), countdown=countdown)
    )


def _locked(tenant: Tenant, execution_id: str) -> tuple[Execution, Snapshot] | None:
    row = (
        Execution.objects.for_tenant(tenant)
        .select_for_update()
        .select_related("tenant")
        .filter(pk=execution_id)
        .first()
    )
    if row is None:
        return None
    runs = list(TaskRun.objects.for_tenant(tenant).filter(execution=row).order_by("position"))
    return row, snapshots.snapshot(row, runs)


def _progressed(actions: list[Action]) -> bool:
    return any(not isinstance(a, EmitLog | WakeUp) for a in actions)


def _next_wake(snap: Snapshot, actions: Iterable[Action]) -> datetime | None:
    dates = [a.at for a in actions if isinstance(a, WakeUp)]
    dates += [
        r.wake_at for r in snap.task_runs if r.current is State.RETRYING and r.wake_at is not None
    ]
    return min(dates) if dates else None


def execution_advance(*, tenant: Tenant, execution_id: str) -> None:
    """The executor's step: decide until nothing changes, write once, send what follows."""
    with transaction.atomic():
        locked = _locked(tenant, execution_id)
        if locked is None or locked[1].current.terminated:
            return
        row, before = locked
        spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
        services = _services(tenant, row.namespace, row.id)
        current, emitted, logs = before, [], []
        for _ in range(MAX_PASSES):
            now = timezone.now()
            actions = decide(spec, current, now, services=services)
            emitted.extend(actions)
            logs += [
                LogLine(a.level, a.message, now, a.task_run_id, _task_id(current, a.task_run_id))
                for a in actions
                if isinstance(a, EmitLog)
            ]
            current = apply_actions(current, actions, now)
            if current.current.terminated or not _progressed(actions):
                break
        wake = None if current.current.terminated else _next_wake(current, emitted)
        row = snapshots.save(tenant=tenant, before=before, after=current, wake_at=wake)
        _write_logs(tenant, row, logs)
        for retry in (a for a in emitted if isinstance(a, RetryExecution)):
            _replay(tenant, current, retry.at)
        _dispatch_on_commit(tenant, execution_id, emitted, wake)


def _task_id(snap: Snapshot, task_run_id: str | None) -> str | None:
    if task_run_id is None:
        return None
    return next((r.task_id for r in snap.task_runs if r.id == task_run_id), None)


def _replay(tenant: Tenant, failed: Snapshot, at: datetime) -> None:
    """Retry with behavior CREATE_NEW_EXECUTION: a new execution, started at `at`."""
    replay = replay_execution(failed, now=timezone.now(), schedule_date=at)
    snapshots.save(tenant=tenant, before=None, after=replay, wake_at=at)
    _advance_on_commit(tenant, replay.id, max(0.0, (at - timezone.now()).total_seconds()))


def task_run_execute(*, tenant: Tenant, execution_id: str, task_run_id: str) -> None:
    """The worker's step: claim the task run (a duplicate delivery finds it taken and stops),
    run it outside any transaction, then report the attempt once."""
    with transaction.atomic():
        locked = _locked(tenant, execution_id)
        if locked is None:
            return
        row, before = locked
        claim = commands.claim(before, task_run_id)
        if not claim:
            return
        now = timezone.now()
        claimed = apply_actions(before, claim, now)
        snapshots.save(tenant=tenant, before=before, after=claimed, wake_at=row.wake_at)
    spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
    services = _services(tenant, row.namespace, row.id)
    outcome = run_attempt(
        spec,
        claimed,
        task_run_id,
        clock=timezone.now,
        services=services,
        storage=services.storage,
        kv=services.kv_store,
    )
    with transaction.atomic():
        locked = _locked(tenant, execution_id)
        if locked is None:
            return
        row, current = locked
        accepted = commands.accept_result(current, outcome.action, outcome.attempt_number)
        if accepted:
            after = apply_actions(current, accepted, timezone.now())
            row = snapshots.save(tenant=tenant, before=current, after=after, wake_at=row.wake_at)
        _write_logs(tenant, row, outcome.logs, outcome.attempt_number)
        _advance_on_commit(tenant, execution_id)


def wait_for_terminal(*, tenant: Tenant, execution_id: str, timeout: timedelta) -> Execution:
    """Poll until the execution ends (for `?wait=true`); returns the row as it is then."""
    import time

    deadline = time.monotonic() + timeout.total_seconds()
    delay = 0.01
    while True:
        row = Execution.objects.for_tenant(tenant).get(pk=execution_id)
        if State(row.state).terminated or time.monotonic() >= deadline:
            return row
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
