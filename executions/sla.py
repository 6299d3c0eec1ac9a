"""Flow SLAs on the platform side (the engine decides: executions/engine/sla.py).

- A new execution of a flow with MAX_DURATION SLAs gets one `SlaMonitor` row per SLA, with
  its deadline, in the transaction that stores it or, for one stored without a decision, in
  the executor's first step (`monitors_create`).
- The scheduler process applies those whose deadline has passed (`monitors_process`, every
  `MONITOR_INTERVAL`): not the executor or the workers, which may all be busy running tasks,
  so a violation is applied within a second of its deadline whatever the load.
- EXECUTION_ASSERTION SLAs are evaluated by the engine on every decision; one it has found
  violated without ending the execution (behavior NONE) is recorded as a row without
  deadline, read back before each later decision (`with_violated`), so that it is logged
  and labelled once. A handled MAX_DURATION row that leaves the execution going loses its
  deadline the same way.
- When the execution ends, its rows are deleted (`changes_write`).

A flow without `sla` never reaches a query here. Lock order is the engine's: the
execution's row lock, then the SLA rows. The scheduler claims a due row first (`SKIP
LOCKED`, so that two schedulers never handle one row), then waits for the execution's lock;
so whoever ends an execution deletes only the rows nobody holds (`_purge`), and the
scheduler deletes the row it holds once it has the lock and finds the execution ended.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone

from executions import snapshots
from executions.engine.apply import apply_actions
from executions.engine.flow import FlowSpec
from executions.engine.model import Execution as Snapshot
from executions.engine.sla import (
    EXECUTION_ASSERTION,
    MAX_DURATION,
    deadlines,
    max_duration_violation,
    violation_actions,
)
from executions.engine.states import State
from executions.models import SlaMonitor
from tenants.models import Tenant
from tenants.selectors import tenant_by_id

log = logging.getLogger("aviary.scheduler")

# Seconds between two checks of due MAX_DURATION SLAs by the scheduler process.
MONITOR_INTERVAL = 0.2


def _leaves_rows(spec: FlowSpec) -> bool:
    """Executions of this flow may have SLA rows: a MAX_DURATION SLA, or an assertion with
    behavior NONE (the only violation after which an execution goes on)."""
    return any(
        sla.type == MAX_DURATION or (sla.type == EXECUTION_ASSERTION and sla.ends_as is None)
        for sla in spec.sla
    )


def _remembers_violations(spec: FlowSpec) -> bool:
    return any(sla.type == EXECUTION_ASSERTION and sla.ends_as is None for sla in spec.sla)


def monitors_create(*, tenant: Tenant, spec: FlowSpec, execution: Snapshot) -> None:
    """Store the MAX_DURATION deadlines of `execution`, a new one (nothing for one that has
    already ended, or that was made from another execution's history: see
    `engine.sla.deadlines`). Called where an execution is stored with its first decision,
    and by the executor for one still CREATED (stored by a path that decides nothing, such
    as a batch of Schedule ticks): a deadline already there, or already handled, stays."""
    if not spec.sla or execution.current.terminated:
        return
    due = deadlines(spec.sla, execution)
    if due:
        SlaMonitor.objects.for_tenant(tenant).bulk_create(
            [
                SlaMonitor(
                    tenant=tenant,
                    execution_id=execution.id,
                    sla_id=sla.id[:100],
                    position=sla.position,
                    deadline=at,
                )
                for sla, at in due
            ],
            ignore_conflicts=True,
        )


def with_violated(tenant: Tenant, spec: FlowSpec, execution: Snapshot) -> Snapshot:
    """`execution` knowing the SLAs it has already violated, for the engine: read only for
    a flow with an assertion that may have been violated while the execution went on, and
    an execution that has been decided on before (a CREATED one has not)."""
    if (
        not _remembers_violations(spec)
        or execution.current is State.CREATED
        or execution.current.terminated
    ):
        return execution
    positions = (
        SlaMonitor.objects.for_tenant(tenant)
        .filter(execution_id=execution.id, deadline__isnull=True)
        .values_list("position", flat=True)
    )
    return replace(execution, sla_violated=execution.sla_violated | frozenset(positions))


@dataclass(frozen=True)
class SlaChanges:
    """What a decision changed in an execution's SLA rows: SLAs newly violated, to record
    (their position and id), or the execution's end, which deletes them all."""

    execution_id: str
    violated: tuple[tuple[int, str], ...] = ()
    ended: bool = False


def changes(spec: FlowSpec, before: Snapshot, after: Snapshot) -> SlaChanges | None:
    """The rows to write for a decision that took `before` to `after` (None: nothing)."""
    if not _leaves_rows(spec):
        return None
    if after.current.terminated:
        ended = not before.current.terminated
        return SlaChanges(after.id, ended=True) if ended else None
    new = after.sla_violated - before.sla_violated
    if not new:
        return None
    ids = {sla.position: sla.id for sla in spec.sla}
    return SlaChanges(after.id, tuple((p, ids.get(p, "")) for p in sorted(new)))


def changes_write(tenant: Tenant, sla_changes: SlaChanges) -> None:
    """Write `changes`, in the transaction of the decision (which holds the lock)."""
    if sla_changes.ended:
        _purge(tenant, sla_changes.execution_id)
        return
    SlaMonitor.objects.for_tenant(tenant).bulk_create(
        [
            SlaMonitor(
                tenant=tenant,
                execution_id=sla_changes.execution_id,
                sla_id=sla_id[:100],
                position=position,
                deadline=None,
            )
            for position, sla_id in sla_changes.violated
        ],
        ignore_conflicts=True,
    )


def _purge(tenant: Tenant, execution_id: str) -> None:
    """Delete the SLA rows of an ended execution but those the scheduler holds: it is
    waiting for this execution's lock, and deletes its own once it has it."""
    rows = SlaMonitor.objects.for_tenant(tenant)
    unlocked = rows.filter(execution_id=execution_id).select_for_update(skip_locked=True)
    rows.filter(pk__in=unlocked.values("pk")).delete()


def monitors_process(*, limit: int = 100) -> int:
    """The scheduler's job: apply each MAX_DURATION SLA whose deadline has passed, one per
    transaction, under the execution's lock. Returns how many rows were handled."""
    handled = 0
    while handled < limit:
        with transaction.atomic():
            monitor = (
                SlaMonitor.all_tenants.select_for_update(skip_locked=True)
                .filter(deadline__lte=timezone.now())
                .order_by("deadline", "id")
                .first()
            )
            if monitor is None:
                break
            _handle(monitor)
        handled += 1
    return handled


def _handle(monitor: SlaMonitor) -> None:
    from executions import services  # it writes these rows with every decision

    tenant = tenant_by_id(tenant_id=monitor.tenant_id)
    locked = services._locked(tenant, monitor.execution_id) if tenant is not None else None
    if tenant is None or locked is None:  # deleted meanwhile
        monitor.delete()
        return
    row, before = locked
    if before.current.terminated or before.current is State.KILLING:
        monitor.delete()  # ended (or ending) by other means: nothing to do
        return
    spec = services.flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
    sla = next((s for s in spec.sla if s.position == monitor.position), None)
    if sla is None or sla.type != MAX_DURATION:
        monitor.delete()
        return
    log.info("Processing expired SLA monitor '%s' for execution '%s'", sla.id, row.id)
    now = timezone.now()
    violation = max_duration_violation(sla, before, now)
    actions = violation_actions([violation], before.current, before.task_runs)
    violated = apply_actions(before, actions, now)
    step = services._decide(
        spec, violated, services._services(tenant, row.namespace, row.id), tenant=tenant
    )
    row = snapshots.save(tenant=tenant, row=row, before=before, after=step.after, wake_at=step.wake)
    lines = services._executor_lines(before, actions, now) + step.logs
    services._write_logs(tenant, services._log_rows(tenant, row, lines))
    services._follow_up(tenant, step)
    if step.after.current.terminated:
        monitor.delete()
        _purge(tenant, row.id)
    else:  # it goes on (NONE): the row stays, as a violation already applied
        monitor.deadline = None
        monitor.save(update_fields=["deadline"])
