"""Writes of executions: create (typed inputs, nothing stored when one is invalid), advance
(the executor: decide and apply in one transaction holding the execution's row lock), and
run a task run (the worker: claim, run outside any transaction, report). Celery messages
carry ids only and leave on commit; every step is idempotent."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from executions import concurrency, notify, secret_inputs, sla, snapshots, subflows
from executions.adapters import TenantKV, secret_lookup
from executions.engine import commands
from executions.engine.actions import (
    Action,
    EmitLog,
    FinishAttempt,
    RetryExecution,
    RunTaskRun,
    StartAttempt,
    StartSubflow,
)
from executions.engine.apply import apply_actions
from executions.engine.decide import decide
from executions.engine.flow import FlowSpec, load_flow
from executions.engine.inputs import resolve_inputs
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import Execution as Snapshot
from executions.engine.model import Label, new_execution, new_id, replay_execution
from executions.engine.progress import next_wake, progressed, task_id_of
from executions.engine.rendering import RenderError, expressions_renderer
from executions.engine.services import EngineServices
from executions.engine.states import EXECUTION_TRANSITIONS, State
from executions.engine.tasks.base import LogLine
from executions.engine.variables import base_variables
from executions.engine.worker import AttemptOutcome, run_attempt
from executions.kill_watch import KillWatch
from executions.models import Execution, LogEntry, TaskRun
from executions.reconnect import with_reconnect
from flows.selectors import flow_get, flow_revision_source
from flows.spec import flow_labels
from tenants.errors import Conflict, Unprocessable, Violation
from tenants.models import Tenant
from tenants.selectors import tenant_by_id
from tenants.storage.local import LocalStorage

log = logging.getLogger("aviary.executor")
MAX_PASSES = 200  # decisions applied in one executor message before it yields


_SPECS: dict[tuple[int, str, str, int], FlowSpec] = {}
_SPECS_MAX = 512


def flow_spec(
    tenant: Tenant, namespace: str, flow_id: str, revision: int, source: str | None = None
) -> FlowSpec:
    """The engine's view of one revision. A revision never changes once written (a flow's
    update or deletion appends the next one), so each process keeps what it has loaded and
    reads a revision's source at most once; `source` spares even that when the caller holds
    it (the flow row of the current revision)."""
    key = (tenant.pk, namespace, flow_id, revision)
    spec = _SPECS.get(key)
    if spec is None:
        if source is None:
            source = flow_revision_source(
                tenant=tenant, namespace=namespace, flow_id=flow_id, revision=revision
            )
        spec = load_flow(source, revision=revision)
        if len(_SPECS) >= _SPECS_MAX:
            _SPECS.pop(next(iter(_SPECS)))  # the oldest entry: dicts keep insertion order
        _SPECS[key] = spec
    return spec


def _services(tenant: Tenant, namespace: str, execution_id: str) -> EngineServices:
    return EngineServices(
        kv_store=TenantKV(tenant, namespace),
        storage=LocalStorage(tenant.slug),
        secrets=secret_lookup(tenant),
        errors=lambda: _error_logs(tenant, execution_id),
        unseal=secret_inputs.unseal,
    )


def engine_services(*, tenant: Tenant, namespace: str, execution_id: str) -> EngineServices:
    """The engine's ports for renders outside a decision (a Flow trigger's conditions and
    inputs rendered in the upstream execution's context)."""
    return _services(tenant, namespace, execution_id)


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


FANOUT = 4


def _dispatch_on_commit(
    tenant: Tenant, execution_id: str, actions: Iterable[Action], wake: datetime | None
) -> None:
    from executions import tasks  # Celery app import stays out of model loading

    runs = [a.task_run_id for a in actions if isinstance(a, RunTaskRun)]
    # many at once (a loop's iterations): a worker's batch may take a task run before its
    # message arrives, which the flag tells the receiver to check cheaply first
    options = {"fanout": True} if len(runs) > FANOUT else {}

    def send() -> None:
        for task_run_id in runs:
            tasks.run_task_run.apply_async((tenant.pk, execution_id, task_run_id), options)
        if wake is not None:
            delay = max(0.0, (wake - timezone.now()).total_seconds())
            tasks.advance_execution.apply_async((tenant.pk, execution_id), countdown=delay)

    transaction.on_commit(send)


def _log_rows(
    tenant: Tenant, execution: Execution, lines: Iterable[LogLine], attempt_number: int = 0
) -> list[LogEntry]:
    return [
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
    ]


def _write_logs(tenant: Tenant, rows: list[LogEntry]) -> None:
    if rows:
        LogEntry.objects.for_tenant(tenant).bulk_create(rows)
        notify.execution_changed(tenant=tenant, execution_id=rows[0].execution_id)


def execution_create(
    *,
    tenant: Tenant,
    namespace: str,
    flow_id: str,
    provided: Mapping[str, Any],
    labels: Iterable[tuple[str, str]] = (),
    trigger: Mapping[str, Any] | None = None,
    schedule_date: datetime | None = None,
    invalid_inputs_fail: bool = False,
    problems: Iterable[Violation] = (),
) -> Execution:
    """Start an execution of the flow's current revision. Every invalid input is reported
    together (422) and nothing is stored, unless `invalid_inputs_fail`: then (a trigger
    started it, and nobody is there to read a 422) the execution is stored FAILED with a
    log line naming each problem. `trigger` is Kestra's `{id, type, variables}`, read by
    templates as `trigger.*`. `problems` are the caller's own (e.g. a trigger's inputs that
    could not be rendered), reported with the inputs' violations."""
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
    violations = [*problems, *resolution.violations]
    if violations and not invalid_inputs_fail:
        raise Unprocessable(
            f"Invalid inputs: {len(violations)} problem(s)",
            violations=violations,
        )
    now = timezone.now()
    snap = new_execution(
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=flow.revision,
        now=now,
        execution_id=execution_id,
        inputs=secret_inputs.sealed(resolution.nested(), resolution.secret_ids)
        if not violations
        else {},
        flow_labels=[Label(item["key"], item["value"]) for item in flow_labels(flow.spec)],
        labels=[Label(k, v) for k, v in labels],
        tenant_id=tenant.slug,
        trigger=trigger,
        schedule_date=schedule_date,
    )
    if violations:
        return _store_failed(tenant, snap, violations, now)
    spec = flow_spec(tenant, namespace, flow_id, flow.revision, source=flow.source)
    rule = concurrency.rule_of(spec)  # a limited flow decides under its lock, below
    step = _first_step(tenant, spec, snap) if rule is None else None  # nothing stored yet
    with transaction.atomic():
        if rule is not None:
            held = concurrency.admit(tenant=tenant, rule=rule, created=snap)
            if held is not None:
                row = snapshots.save(tenant=tenant, before=None, after=held[0], wake_at=None)
                _write_logs(tenant, _log_rows(tenant, row, held[1]))
                sla.monitors_create(tenant=tenant, spec=spec, execution=held[0])
                return row
            step = _first_step(tenant, spec, snap)
        if step is None:
            row = snapshots.save(tenant=tenant, before=None, after=snap, wake_at=None)
            _advance_on_commit(tenant, execution_id)
        else:
            row = snapshots.save(tenant=tenant, before=None, after=step.after, wake_at=step.wake)
            _write_logs(tenant, _log_rows(tenant, row, step.logs))
            _follow_up(tenant, step)
        sla.monitors_create(tenant=tenant, spec=spec, execution=step.after if step else snap)
    return row


def _store_failed(
    tenant: Tenant, snap: Snapshot, violations: list[Violation], now: datetime
) -> Execution:
    failed = replace(snap, state=snap.state.moved_to(State.FAILED, now, EXECUTION_TRANSITIONS))
    lines = [LogLine("ERROR", f"Invalid input '{v.path}': {v.message}", now) for v in violations]
    with transaction.atomic():
        row = snapshots.save(tenant=tenant, before=None, after=failed, wake_at=None)
        _write_logs(tenant, _log_rows(tenant, row, lines))
    return row


def _first_step(tenant: Tenant, spec: FlowSpec, created: Snapshot) -> _Step | None:
    """The executor's first decision, taken here rather than one broker message later: the
    execution is stored RUNNING with its first task runs already sent. Should deciding fail
    unexpectedly, the execution is stored CREATED and the executor decides as usual."""
    try:
        services = _services(tenant, created.namespace, created.id)
        return _decide(spec, created, services, tenant=tenant)
    except Exception:  # the executor will meet the same error, and log it with its context
        log.exception("first decision of execution %s deferred to the executor", created.id)
        return None


def _advance_on_commit(tenant: Tenant, execution_id: str, countdown: float = 0) -> None:
    from executions import tasks

    transaction.on_commit(
        lambda: tasks.advance_execution.apply_async((tenant.pk, execution_id), countdown=countdown)
    )


def _locked(
    tenant: Tenant, execution_id: str, *, skip_locked: bool = False
) -> tuple[Execution, Snapshot] | None:
    """The execution row locked (None when it does not exist, or, with `skip_locked`, when
    another transaction holds it) and its snapshot."""
    rows = Execution.objects.for_tenant(tenant).select_for_update(skip_locked=skip_locked)
    row = rows.filter(pk=execution_id).first()
    if row is None:
        return None
    row.tenant = tenant  # known already: no join, no second read
    return row, snapshots.locked_snapshot(tenant, row)


@dataclass
class _Step:
    """What deciding until nothing changes gave: the new snapshot, every action emitted on
    the way, the executor's log lines and when to look again."""

    after: Snapshot
    emitted: list[Action]
    logs: list[LogLine]
    wake: datetime | None
    launcher: subflows.Launcher | None = None  # the child executions to write with it
    sla_changes: sla.SlaChanges | None = None  # the SLA rows to write with it


def _executor_lines(current: Snapshot, actions: list[Action], now: datetime) -> list[LogLine]:
    return [
        LogLine(a.level, a.message, now, a.task_run_id, task_id_of(current, a.task_run_id))
        for a in actions
        if isinstance(a, EmitLog)
    ]


def _decide(
    spec: FlowSpec,
    current: Snapshot,
    services: EngineServices,
    *,
    tenant: Tenant | None = None,
    launcher: subflows.Launcher | None = None,
) -> _Step:
    """Decide until nothing changes. The child executions a decision asks for (Subflow,
    ForEachItem) are made at once by the `launcher` (one for `tenant` by default), whose
    answers are applied before the next pass; `_follow_up` writes them."""
    if launcher is None and tenant is not None:
        launcher = subflows.Launcher(tenant)
    if spec.sla and tenant is not None:
        current = sla.with_violated(tenant, spec, current)
    first = current
    emitted: list[Action] = []
    logs: list[LogLine] = []
    for _ in range(MAX_PASSES):
        now = timezone.now()
        actions = decide(spec, current, now, services=services)
        emitted.extend(actions)
        logs += _executor_lines(current, actions, now)
        current = apply_actions(current, actions, now)
        if launcher is not None and any(isinstance(a, StartSubflow) for a in actions):
            answers = launcher.start(current, spec, actions)
            emitted.extend(answers)
            logs += _executor_lines(current, answers, now)
            current = apply_actions(current, answers, now)
        if current.current.terminated or not progressed(actions):
            break
    wake = None if current.current.terminated else next_wake(current, emitted)
    sla_changes = sla.changes(spec, first, current) if spec.sla else None
    return _Step(current, emitted, logs, wake, launcher, sla_changes)


def execution_advance(*, tenant: Tenant, execution_id: str) -> None:
    """The executor's step: decide until nothing changes, write once, send what follows."""
    with transaction.atomic():
        locked = _locked(tenant, execution_id)
        if locked is None or locked[1].current.terminated:
            return
        row, before = locked
        spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
        if before.current is State.CREATED:  # stored without a decision (Schedule ticks)
            sla.monitors_create(tenant=tenant, spec=spec, execution=before)
        if _held(tenant, spec, row, before):
            return
        step = _decide(spec, before, _services(tenant, row.namespace, row.id), tenant=tenant)
        row = snapshots.save(
            tenant=tenant, row=row, before=before, after=step.after, wake_at=step.wake
        )
        _write_logs(tenant, _log_rows(tenant, row, step.logs))
        _follow_up(tenant, step)


def _held(tenant: Tenant, spec: FlowSpec, row: Execution, before: Snapshot) -> bool:
    """A CREATED execution of a flow with `concurrency` (a replay, a deferred first
    decision) starts only when a slot is free; otherwise it is stored QUEUED, CANCELLED or
    FAILED here and True is returned."""
    rule = concurrency.rule_of(spec) if before.current is State.CREATED else None
    schedule = before.schedule_date
    if rule is None or (schedule is not None and schedule > timezone.now()):
        return False
    held = concurrency.admit(tenant=tenant, rule=rule, created=before)
    if held is None:
        return False
    row = snapshots.save(tenant=tenant, row=row, before=before, after=held[0], wake_at=None)
    _write_logs(tenant, _log_rows(tenant, row, held[1]))
    return True


def _follow_up(
    tenant: Tenant, step: _Step, claimed: set[str] | frozenset[str] = frozenset()
) -> None:
    """After a decision: replays for CREATE_NEW_EXECUTION retries, then, once committed, the
    messages for the task runs to run (but `claimed`, which this process runs itself) and
    the wake-up."""
    subflows.follow_up(tenant, step)
    if step.sla_changes is not None:
        sla.changes_write(tenant, step.sla_changes)
    for retry in (a for a in step.emitted if isinstance(a, RetryExecution)):
        _replay(tenant, step.after, retry.at)
    actions = [
        a for a in step.emitted if not (isinstance(a, RunTaskRun) and a.task_run_id in claimed)
    ]
    _dispatch_on_commit(tenant, step.after.id, actions, step.wake)


def _replay(tenant: Tenant, failed: Snapshot, at: datetime) -> None:
    """Retry with behavior CREATE_NEW_EXECUTION: a new execution, started at `at`."""
    replay = replay_execution(failed, now=timezone.now(), schedule_date=at)
    snapshots.save(tenant=tenant, before=None, after=replay, wake_at=at)
    spec = flow_spec(tenant, replay.namespace, replay.flow_id, replay.flow_revision)
    sla.monitors_create(tenant=tenant, spec=spec, execution=replay)
    _advance_on_commit(tenant, replay.id, max(0.0, (at - timezone.now()).total_seconds()))


def _lease_seconds() -> int:
    return int(settings.AVIARY["TASK_LEASE_SECONDS"])


def _lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=_lease_seconds())


def _lease(tenant: Tenant, task_run_id: str, owner: str) -> None:
    TaskRun.objects.for_tenant(tenant).filter(pk=task_run_id).update(
        lease_owner=owner, lease_until=_lease_until() if owner else None
    )


def _renew(tenant: Tenant, task_run_id: str, owner: str) -> None:
    """Extend a lease this owner still holds: once a report released it (the attempt
    ended), a late beat changes nothing."""
    TaskRun.objects.for_tenant(tenant).filter(pk=task_run_id, lease_owner=owner).update(
        lease_until=_lease_until()
    )


@dataclass
class _Claim:
    """The task runs this worker holds (one, or a batch of quick ones of one execution,
    claimed together): the snapshot they were claimed in, to run them with."""

    row: Execution
    snapshot: Snapshot
    task_run_ids: tuple[str, ...]


def _take(
    tenant: Tenant,
    execution_id: str,
    task_run_id: str,
    owner: str,
    takeover: bool,
    fanout: bool = False,
) -> _Claim | None:
    """Claim the task run for this worker: a CREATED one gets its first attempt; with
    `takeover`, a RUNNING one whose previous worker was lost (no owner) is adopted. Anything
    else (a duplicate delivery, a killed run) gives None."""
    if (
        not takeover
        and (fanout or snapshots.known_taken(tenant, execution_id, task_run_id))
        and not _may_claim(tenant, task_run_id)
    ):
        return None  # a batch took it: no lock for nothing
    with transaction.atomic():
        locked = _locked(tenant, execution_id, skip_locked=True)
        if locked is None:
            # another worker holds the execution (it may be claiming this very run in a
            # batch): wait for the lock only if the run is still there to take
            if not takeover and not _may_claim(tenant, task_run_id):
                return None
            locked = _locked(tenant, execution_id)
        if locked is None:
            return None
        row, before = locked
        claim = commands.claim(before, task_run_id)
        if claim:
            claimed = apply_actions(before, claim, timezone.now())
            leases = {task_run_id: (owner, _lease_until())}
            snapshots.save(
                tenant=tenant,
                row=row,
                before=before,
                after=claimed,
                wake_at=row.wake_at,
                leases=leases,
            )
        elif takeover and _unowned(tenant, before, task_run_id):
            claimed = before
            _lease(tenant, task_run_id, owner)
        else:
            return None
        return _Claim(row, claimed, (task_run_id,))


def _may_claim(tenant: Tenant, task_run_id: str) -> bool:
    """Still CREATED, read without the execution's lock: a message for a task run a batch
    already took ends here instead of queueing for the lock."""
    state = (
        TaskRun.objects.for_tenant(tenant)
        .filter(pk=task_run_id)
        .values_list("state", flat=True)
        .first()
    )
    return state == State.CREATED.value


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


class _Heartbeats:
    """Renews the leases of the attempts this process runs, so the sweeper knows its worker
    lives: one thread per process, started with the first attempt, rather than one per
    attempt (thousands of quick attempts would each pay for a thread)."""

    def __init__(self) -> None:
        self._running: dict[str, tuple[Tenant, str]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, tenant: Tenant, task_run_id: str, owner: str) -> None:
        with self._lock:
            self._running[task_run_id] = (tenant, owner)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._beat, daemon=True, name="leases")
                self._thread.start()

    def discard(self, task_run_id: str) -> None:
        with self._lock:
            self._running.pop(task_run_id, None)

    def _beat(self) -> None:
        while True:
            time.sleep(_lease_seconds() / 3)
            with self._lock:
                running = list(self._running.items())
            for task_run_id, (tenant, owner) in running:
                if task_run_id not in self._running:
                    continue  # ended meanwhile: its report cleared the lease
                try:
                    _renew(tenant, task_run_id, owner)
                except DatabaseError:  # the database restarts: renew at the next beat
                    connection.close()
            connection.close()  # nothing to hold between beats


heartbeats = _Heartbeats()


# A worker that reports a result and finds the next task run of the same execution ready
# claims and runs it itself, in the report's transaction, instead of sending it through the
# broker: a sequential flow then costs one commit and no message per task. Bounded, so that
# one long flow does not hold a worker process while other executions wait.
CHAIN_MAX_TASKS = 100
CHAIN_MAX_SECONDS = 2.0


def task_run_execute(
    *,
    tenant: Tenant,
    execution_id: str,
    task_run_id: str,
    takeover: bool = False,
    fanout: bool = False,
) -> None:
    """The worker's step: claim the task run (a duplicate delivery finds it taken and stops),
    run it outside any transaction while renewing its lease, then report the attempt and
    decide what follows, as the executor would, in one transaction holding the execution's
    lock; a next task run ready to run is claimed in that same transaction and run here."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    claim = with_reconnect(_take, tenant, execution_id, task_run_id, owner, takeover, fanout)
    began, ran, batch = time.monotonic(), 0, 1
    while claim is not None:
        started = time.monotonic()
        shared = _shared_base(tenant, claim) if len(claim.task_run_ids) > 1 else None
        outcomes = [
            (run_id, _run(tenant, claim, run_id, owner, shared)) for run_id in claim.task_run_ids
        ]
        ran += len(outcomes)
        batch = _batch_size((time.monotonic() - started) / len(outcomes))
        chain = ran < CHAIN_MAX_TASKS and time.monotonic() - began < CHAIN_MAX_SECONDS
        claim = with_reconnect(
            _report,
            tenant,
            claim,
            outcomes,
            owner if chain else None,
            min(batch, CHAIN_MAX_TASKS - ran),
        )


# Quick task runs ready together (the iterations of a loop, parallel branches) are claimed
# and reported in batches: one lock, one decision and one commit for several results, so
# an execution with many of them is not bound by its row lock. A batch lasts about
# BATCH_SECONDS, judged from the last attempts' duration: slow tasks go one by one.
BATCH_MAX = 16
BATCH_SECONDS = 0.05


def _batch_size(seconds_per_task: float) -> int:
    return max(1, min(BATCH_MAX, int(BATCH_SECONDS / max(seconds_per_task, 0.001))))


def _shared_base(tenant: Tenant, claim: _Claim) -> dict[str, Any] | None:
    """The batch's base variables, computed once (outputs of every task run merged: the
    costly part of starting an attempt in a big execution). None when they cannot be
    computed: each attempt then meets, and reports, the error itself."""
    row = claim.row
    spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
    try:
        return base_variables(spec, claim.snapshot, unseal=secret_inputs.unseal)
    except RenderError:
        return None


def _run(
    tenant: Tenant,
    claim: _Claim,
    task_run_id: str,
    owner: str,
    shared_base: dict[str, Any] | None = None,
) -> AttemptOutcome:
    row = claim.row
    spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
    services = _services(tenant, row.namespace, row.id)
    heartbeats.add(tenant, task_run_id, owner)
    try:
        return run_attempt(
            spec,
            claim.snapshot,
            task_run_id,
            clock=timezone.now,
            services=services,
            storage=services.storage,
            kv=services.kv_store,
            cancelled=KillWatch(tenant, row.id, task_run_id),
            shared_base=shared_base,
        )
    finally:
        heartbeats.discard(task_run_id)


def _report(
    tenant: Tenant,
    claim: _Claim,
    outcomes: list[tuple[str, AttemptOutcome]],
    chain_owner: str | None,
    batch: int = 1,
) -> _Claim | None:
    """Apply the attempts' results once each (a stale or duplicate one changes nothing),
    decide what follows, and claim up to `batch` ready task runs for `chain_owner` when
    given."""
    execution_id = claim.row.id
    with transaction.atomic():
        locked = _locked(tenant, execution_id)
        if locked is None:
            return None
        row, current = locked
        leases: dict[str, tuple[str, datetime | None]] = {
            run_id: ("", None) for run_id, _ in outcomes
        }
        logs = [
            entry
            for _, outcome in outcomes
            for entry in _log_rows(tenant, row, outcome.logs, outcome.attempt_number)
        ]
        accepted = [
            action
            for _, outcome in outcomes
            for action in commands.accept_result(current, outcome.action, outcome.attempt_number)
        ]
        if not accepted or current.current.terminated:
            after = apply_actions(current, accepted, timezone.now()) if accepted else current
            if accepted:  # an ended execution (killed) still ends the task run it reports on
                spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
                after = _decide(spec, after, _services(tenant, row.namespace, row.id)).after
            snapshots.save(
                tenant=tenant,
                row=row,
                before=current,
                after=after,
                wake_at=row.wake_at,
                leases=leases,
            )
            _write_logs(tenant, logs)
            _advance_on_commit(tenant, execution_id)
            return None
        reported = apply_actions(current, accepted, timezone.now())
        spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
        step = _decide(spec, reported, _services(tenant, row.namespace, row.id), tenant=tenant)
        like = frozenset(claim.snapshot.task_run(run_id).task_id for run_id, _ in outcomes)
        next_runs = _next_runnable(step, batch, like) if chain_owner else ()
        if next_runs and chain_owner:
            claim_next = [a for run_id in next_runs for a in commands.claim(step.after, run_id)]
            step.after = apply_actions(step.after, claim_next, timezone.now())
            until = _lease_until()
            leases.update({run_id: (chain_owner, until) for run_id in next_runs})
        row = snapshots.save(
            tenant=tenant,
            row=row,
            before=current,
            after=step.after,
            wake_at=step.wake,
            leases=leases,
        )
        _write_logs(tenant, logs + _log_rows(tenant, row, step.logs))
        _follow_up(tenant, step, claimed=set(next_runs))
    return _Claim(row, step.after, next_runs) if next_runs else None


def _next_runnable(step: _Step, batch: int, like: frozenset[str]) -> tuple[str, ...]:
    """The task runs this worker goes on with: the first one this decision sent (as a
    sequential flow needs), then, up to `batch`, more task runs of the tasks in `like` (the
    ones just run, so known to be quick: a loop's iterations), from those this decision sent
    and then from those sent earlier that no worker took yet, from the end of the list (the
    other workers take the messages from the start). Other tasks are left to other
    workers: a quick task must not pull a slow sibling into its batch."""
    if step.after.current is not State.RUNNING or batch < 1:
        return ()
    chosen: list[str] = []
    for action in step.emitted:
        if not isinstance(action, RunTaskRun) or action.task_run_id in chosen:
            continue
        run = step.after.task_run(action.task_run_id)
        if run.current is State.CREATED and (not chosen or run.task_id in like):
            chosen.append(run.id)
            if len(chosen) >= batch:
                return tuple(chosen)
    if len(chosen) < batch and like:
        for run in reversed(step.after.task_runs):
            if run.task_id not in like or run.current is not State.CREATED or run.attempts:
                continue
            if run.id not in chosen:
                chosen.append(run.id)
                if len(chosen) >= batch:
                    break
    return tuple(chosen)


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
            # unowned: the next worker adopts it
            row = snapshots.save(
                tenant=tenant,
                row=row,
                before=before,
                after=after,
                wake_at=row.wake_at,
                leases={task_run_id: ("", None)},
            )
            message = "The worker running this task was lost; it runs again as a new attempt"
            task_id = before.task_run(task_run_id).task_id
            line = LogLine("WARN", message, now, task_run_id, task_id)
            _write_logs(tenant, _log_rows(tenant, row, [line]))
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
    deadline = time.monotonic() + timeout.total_seconds()
    delay = 0.01
    while True:
        row = Execution.objects.for_tenant(tenant).get(pk=execution_id)
        if State(row.state).terminated or time.monotonic() >= deadline:
            return row
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
