"""Restart, replay, a task run's change of state and an execution's change of status (Kestra's
`POST /executions/{id}/restart`, `/replay`, `/state` and `/change-status`).

The rules are pure (executions/engine/restart.py); here each command reads the execution
under its row lock (the executor and the workers wait for it), writes the result and, once
committed, asks the executor to decide: a RESTARTED execution becomes RUNNING and its
restarted task runs go to the workers; a replay from the start is CREATED, and goes through
the flow's concurrency limit like any new execution.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from executions import services, sla, snapshots
from executions.engine import restart as rules
from executions.engine.flow import FlowSpec
from executions.engine.labels import refuse_read_only
from executions.engine.model import Execution as Snapshot
from executions.engine.model import new_id, replay_execution
from executions.engine.states import State
from executions.models import Execution, TaskRun
from tenants.errors import NotFound, Unprocessable, Violation
from tenants.models import Tenant


def _locked(tenant: Tenant, execution_id: str) -> tuple[Execution, Snapshot]:
    locked = services._locked(tenant, execution_id)
    if locked is None:
        raise NotFound(f"Execution {execution_id} not found")
    return locked


def _revision_spec(tenant: Tenant, row: Execution, revision: int | None) -> FlowSpec:
    """The flow revision to run: the execution's own, or `revision` (404 when the flow has
    no such revision)."""
    number = row.flow_revision if revision is None else revision
    return services.flow_spec(tenant, row.namespace, row.flow_id, number)


def _store_in_place(tenant: Tenant, row: Execution, before: Snapshot, after: Snapshot) -> None:
    """Write a restarted execution over itself: the task runs it dropped are deleted and
    the others renumbered so that positions stay 0..n-1 (the next task run created takes
    position n). Renumbering in increasing order never meets a taken position: each row only
    moves down, to a place the rows before it have left."""
    kept = {run.id for run in after.task_runs}
    dropped = [run.id for run in before.task_runs if run.id not in kept]
    runs = TaskRun.objects.for_tenant(tenant).filter(execution_id=row.id)
    if dropped:
        runs.filter(pk__in=dropped).delete()
        positions = runs.order_by("position").values_list("id", "position")
        for index, (task_run_id, position) in enumerate(list(positions)):
            if position != index:
                runs.filter(pk=task_run_id).update(position=index)
    snapshots.save(tenant=tenant, row=row, before=before, after=after, wake_at=None)


def execution_restart(
    *, tenant: Tenant, execution_id: str, revision: int | None = None
) -> Execution:
    """Restart an ended execution from its FAILED task runs, or a PAUSED one from its paused
    task runs (409 while it runs, 422 when there is nothing to restart from). Without
    `revision` the same execution goes on, with new attempts of the failed task runs; with
    one, as in Kestra, a new execution of that revision is created from this one (its
    `parentId`), which stays as it ended."""
    with transaction.atomic():
        row, before = _locked(tenant, execution_id)
        refuse_read_only(f"Execution {execution_id}", before.labels)
        spec = _revision_spec(tenant, row, revision)
        now = timezone.now()
        if revision is None:
            after = rules.restart(spec, before, now)
            _store_in_place(tenant, row, before, after)
            result = row
        else:
            after = rules.restart(spec, before, now, new_execution_id=new_id())
            result = snapshots.save(tenant=tenant, before=None, after=after, wake_at=None)
        services._advance_on_commit(tenant, after.id)
    return result


def execution_replay(
    *,
    tenant: Tenant,
    execution_id: str,
    task_run_id: str | None = None,
    revision: int | None = None,
) -> Execution:
    """A new execution from this one: from its start (any execution), or from one of its
    task runs (an ended execution). The original is not changed."""
    with transaction.atomic():
        row, before = _locked(tenant, execution_id)
        spec = _revision_spec(tenant, row, revision)
        now = timezone.now()
        if task_run_id is None:
            after = replace(replay_execution(before, now=now), flow_revision=spec.revision)
        else:
            after = rules.replay(spec, before, task_run_id, now)
        created = snapshots.save(tenant=tenant, before=None, after=after, wake_at=None)
        sla.monitors_create(tenant=tenant, spec=spec, execution=after)  # from the start only
        services._advance_on_commit(tenant, after.id)
    return created


def parse_state(
    raw: object, field: str = "state", allowed: tuple[State, ...] = rules.MARKABLE_STATES
) -> State:
    """A state name as the API receives it (422 naming `field` otherwise)."""
    names = ", ".join(state.value for state in allowed)
    try:
        return State(str(raw))
    except ValueError:
        raise Unprocessable(
            f"Unknown state '{str(raw)[:40]}': expected one of {names}",
            field=field,
            violations=[Violation(field, f"expected one of {names}, got '{str(raw)[:40]}'")],
        ) from None


def task_run_state_set(
    *, tenant: Tenant, execution_id: str, task_run_id: str, state: State
) -> Execution:
    """Force an ended task run of an ended execution to SUCCESS, WARNING or FAILED; the
    execution is RESTARTED and the executor decides again what follows from it."""
    with transaction.atomic():
        row, before = _locked(tenant, execution_id)
        refuse_read_only(f"Execution {execution_id}", before.labels)
        spec = _revision_spec(tenant, row, None)
        after = rules.mark_task_run(spec, before, task_run_id, state, timezone.now())
        _store_in_place(tenant, row, before, after)
        services._advance_on_commit(tenant, after.id)
    return row


def execution_status_change(*, tenant: Tenant, execution_id: str, status: State) -> Execution:
    """Give an ended execution another end (Kestra's `change-status`); nothing runs again."""
    with transaction.atomic():
        row, before = _locked(tenant, execution_id)
        refuse_read_only(f"Execution {execution_id}", before.labels)
        after = rules.change_status(before, status, timezone.now())
        return snapshots.save(tenant=tenant, row=row, before=before, after=after, wake_at=None)
