"""Writes of executions: create (typed inputs, nothing stored when one is invalid), advance
(the executor: decide and apply in one transaction holding the execution's row lock), and
run a task run (the worker: claim, run outside any transaction, report). Celery messages
carry ids only and leave on commit; every step is idempotent."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from executions import snapshots
from executions.adapters import TenantKV, secret_lookup
from executions.engine import commands
from executions.engine.actions import (
    Action,
    EmitLog,
    FinishAttempt,
    RetryExecution,
    RunTaskRun,
    StartAttempt,
)
from executions.engine.apply import apply_actions
from executions.engine.decide import decide
from executions.engine.flow import FlowSpec, load_flow
from executions.engine.inputs import resolve_inputs
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import Execution as Snapshot
from executions.engine.model import Label, new_execution, new_id, replay_execution
from executions.engine.progress import next_wake, progressed, task_id_of
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
from tenants.selectors import tenant_by_id
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
    files = ExecutionInputFiles(storage, namespace, flow_id, execution_id)
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
                LogLine(a.level, a.message, now, a.task_run_id, task_id_of(current, a.task_run_id))
                for a in actions
                if isinstance(a, EmitLog)
            ]
            current = apply_actions(current, actions, now)
            if current.current.terminated or not progressed(actions):
                break
        wake = None if current.current.terminated else next_wake(current, emitted)
        row = snapshots.save(tenant=tenant, before=before, after=current, wake_at=wake)
        _write_logs(tenant, row, logs)
        for retry in (a for a in emitted if isinstance(a, RetryExecution)):
            _replay(tenant, current, retry.at)
        _dispatch_on_commit(tenant, execution_id, emitted, wake)


def _replay(tenant: Tenant, failed: Snapshot, at: datetime) -> None:
    """Retry with behavior CREATE_NEW_EXECUTION: a new execution, started at `at`."""
    replay = replay_execution(failed, now=timezone.now(), schedule_date=at)
    snapshots.save(tenant=tenant, before=None, after=replay, wake_at=at)
    _advance_on_commit(tenant, replay.id, max(0.0, (at - timezone.now()).total_seconds()))


def _lease_seconds() -> int:
    return int(settings.AVIARY["TASK_LEASE_SECONDS"])


def _lease(tenant: Tenant, task_run_id: str, owner: str) -> None:
    until = timezone.now() + timedelta(seconds=_lease_seconds()) if owner else None
    TaskRun.objects.for_tenant(tenant).filter(pk=task_run_id).update(
        lease_owner=owner, lease_until=until
    )


def _take(
    tenant: Tenant, execution_id: str, task_run_id: str, owner: str, takeover: bool
) -> tuple[Execution, Snapshot] | None:
    """Claim the task run for this worker: a CREATED one gets its first attempt; with
    `takeover`, a RUNNING one whose previous worker was lost (no owner) is adopted. Anything
    else (a duplicate delivery, a killed run) gives None."""
    with transaction.atomic():
        locked = _locked(tenant, execution_id)
        if locked is None:
            return None
        row, before = locked
        claim = commands.claim(before, task_run_id)
        if claim:
            claimed = apply_actions(before, claim, timezone.now())
            snapshots.save(tenant=tenant, before=before, after=claimed, wake_at=row.wake_at)
        elif takeover and _unowned(tenant, before, task_run_id):
            claimed = before
        else:
            return None
        _lease(tenant, task_run_id, owner)
        return row, claimed


def _unowned(tenant: Tenant, snap: Snapshot, task_run_id: str) -> bool:
    run = snap.task_run(task_run_id)
    last = run.last_attempt
    if run.current is not State.RUNNING or last is None or last.state.current is not State.RUNNING:
        return False
    owner = (
        TaskRun.objects.for_tenant(tenant)
        .filter(pk=task_run_id)
        .values_list("lease_owner", flat=True)
        .first()
    )
    return owner == ""


class _Heartbeat(threading.Thread):
    """Renews the lease while the attempt runs, so the sweeper knows this worker lives."""

    def __init__(self, tenant: Tenant, task_run_id: str, owner: str) -> None:
        super().__init__(daemon=True, name=f"lease-{task_run_id}")
        self.tenant, self.task_run_id, self.owner = tenant, task_run_id, owner
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(_lease_seconds() / 3):
                _lease(self.tenant, self.task_run_id, self.owner)
        finally:
            connection.close()


def task_run_execute(
    *, tenant: Tenant, execution_id: str, task_run_id: str, takeover: bool = False
) -> None:
    """The worker's step: claim the task run (a duplicate delivery finds it taken and stops),
    run it outside any transaction while renewing its lease, then report the attempt once."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    taken = _take(tenant, execution_id, task_run_id, owner, takeover)
    if taken is None:
        return
    row, claimed = taken
    spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
    services = _services(tenant, row.namespace, row.id)
    heartbeat = _Heartbeat(tenant, task_run_id, owner)
    heartbeat.start()
    try:
        outcome = run_attempt(
            spec,
            claimed,
            task_run_id,
            clock=timezone.now,
            services=services,
            storage=services.storage,
            kv=services.kv_store,
        )
    finally:
        heartbeat.stopping.set()
        heartbeat.join()
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
        _lease(tenant, task_run_id, "")
        _advance_on_commit(tenant, execution_id)


def task_runs_recover_lost(*, limit: int = 100) -> int:
    """The sweeper: a RUNNING task run whose lease ran out lost its worker (killed, machine
    gone). Its attempt ends KILLED and a new attempt is sent to another worker: the task is
    neither lost nor run twice at once. Returns how many were recovered."""
    from executions import tasks

    now = timezone.now()
    lost = list(
        TaskRun.all_tenants.filter(state="RUNNING", lease_until__lt=now).values_list(
            "tenant_id", "execution_id", "id"
        )[:limit]
    )
    recovered = 0
    for tenant_id, execution_id, task_run_id in lost:
        tenant = tenant_by_id(tenant_id=tenant_id)
        if tenant is None:
            continue
        with transaction.atomic():
            locked = _locked(tenant, execution_id)
            if locked is None:
                continue
            row, before = locked
            still_lost = (
                TaskRun.objects.for_tenant(tenant)
                .filter(pk=task_run_id, state="RUNNING", lease_until__lt=now)
                .exists()
            )
            last = before.task_run(task_run_id).last_attempt
            if not still_lost or last is None or last.state.current is not State.RUNNING:
                continue
            actions = [FinishAttempt(task_run_id, State.KILLED), StartAttempt(task_run_id)]
            after = apply_actions(before, actions, now)
            row = snapshots.save(tenant=tenant, before=before, after=after, wake_at=row.wake_at)
            message = "The worker running this task was lost; it runs again as a new attempt"
            task_id = before.task_run(task_run_id).task_id
            _write_logs(tenant, row, [LogLine("WARN", message, now, task_run_id, task_id)])
            _lease(tenant, task_run_id, "")  # unowned: the next worker adopts it
            transaction.on_commit(
                lambda t=tenant_id, e=execution_id, r=task_run_id: tasks.run_task_run.apply_async(
                    (t, e, r), {"takeover": True}
                )
            )
            recovered += 1
    return recovered


def executions_wake_due(*, limit: int = 500) -> int:
    """Backstop for delayed executor messages (a retry date, a timeout) lost with a worker:
    send `advance` for every unfinished execution whose wake-up date has passed."""
    from executions import tasks

    due = list(
        Execution.all_tenants.filter(wake_at__lte=timezone.now())
        .exclude(state__in=[s.value for s in State if s.terminated])
        .values_list("tenant_id", "id")[:limit]
    )
    for tenant_id, execution_id in due:
        tasks.advance_execution.delay(tenant_id, execution_id)
    return len(due)


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
