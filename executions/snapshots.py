"""Rows ↔ the engine's immutable snapshot. Saving writes only what changed: the execution
row, new task runs, and task runs whose content differs (so a loop of 1,000 iterations
updates a few rows per decision, not a growing document)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from executions import notify, subflows
from executions.engine.model import Attempt, Label
from executions.engine.model import Execution as Snapshot
from executions.engine.model import TaskRun as TaskRunSnapshot
from executions.engine.states import State, StateHistory, Transition
from executions.models import Execution, TaskRun
from tenants.models import Tenant


def _histories_json(history: StateHistory) -> list[list[str]]:
    return [[t.state.value, t.date.isoformat()] for t in history.histories]


def _history(rows: list[list[str]]) -> StateHistory:
    return StateHistory(tuple(Transition(State(s), datetime.fromisoformat(d)) for s, d in rows))


def task_run_snapshot(row: TaskRun) -> TaskRunSnapshot:
    return TaskRunSnapshot(
        id=row.id,
        task_id=row.task_id,
        state=_history(row.histories),
        parent_task_run_id=row.parent_task_run_id or None,
        value=row.value,
        iteration=row.iteration,
        attempts=tuple(Attempt(_history(a)) for a in row.attempts),
        outputs=row.outputs,
        wake_at=row.wake_at,
        engine_state=row.engine_state or {},
    )


def snapshot(row: Execution, task_runs: list[TaskRun]) -> Snapshot:
    return Snapshot(
        id=row.id,
        namespace=row.namespace,
        flow_id=row.flow_id,
        flow_revision=row.flow_revision,
        state=_history(row.histories),
        task_runs=tuple(task_run_snapshot(tr) for tr in task_runs),
        inputs=row.inputs,
        outputs=row.outputs,
        labels=tuple(Label(item["key"], item["value"]) for item in row.labels),
        variables=row.variables,
        tenant_id=row.tenant.slug,
        parent_id=row.parent_id or None,
        original_id=row.original_id or None,
        trigger=row.trigger,
        attempt_number=row.attempt_number,
        original_created_date=row.original_created_date,
        schedule_date=row.schedule_date,
    )


def _execution_fields(snap: Snapshot) -> dict[str, Any]:
    return {
        "namespace": snap.namespace,
        "flow_id": snap.flow_id,
        "flow_revision": snap.flow_revision,
        "state": snap.current.value,
        "histories": _histories_json(snap.state),
        "start_date": snap.state.start_date,
        "end_date": snap.state.end_date,
        "inputs": dict(snap.inputs),
        "outputs": dict(snap.outputs) if snap.outputs is not None else None,
        "labels": [label.to_kestra_json() for label in snap.labels],
        "variables": dict(snap.variables),
        "trigger": dict(snap.trigger) if snap.trigger is not None else None,
        "parent_id": snap.parent_id or "",
        "original_id": snap.original_id or "",
        "attempt_number": snap.attempt_number,
        "original_created_date": snap.original_created_date,
        "schedule_date": snap.schedule_date,
    }


def _task_run_fields(run: TaskRunSnapshot) -> dict[str, Any]:
    return {
        "task_id": run.task_id,
        "parent_task_run_id": run.parent_task_run_id or "",
        "value": run.value,
        "iteration": run.iteration,
        "state": run.current.value,
        "histories": _histories_json(run.state),
        "attempts": [_histories_json(a.state) for a in run.attempts],
        "outputs": dict(run.outputs) if run.outputs is not None else None,
        "wake_at": run.wake_at,
        "engine_state": dict(run.engine_state),
    }


def save(
    *,
    tenant: Tenant,
    before: Snapshot | None,
    after: Snapshot,
    wake_at: datetime | None,
    row: Execution | None = None,
    leases: Mapping[str, tuple[str, datetime | None]] | None = None,
) -> Execution:
    """Write `after`, given the `before` it was computed from (None: a new execution) and,
    for an existing one, its locked `row`, which is updated in memory rather than read
    again. Only what changed is written: the execution row when one of its fields did, new
    task runs in one INSERT, changed ones by id. `leases` sets a task run's lease owner and
    expiry in the same statement (a worker's claim, its report)."""
    fields = {**_execution_fields(after), "wake_at": wake_at}
    executions = Execution.objects.for_tenant(tenant)
    leases = leases or {}
    if before is None:
        row = executions.create(id=after.id, **fields)
    else:
        if row is None:
            row = executions.get(pk=after.id)
        changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
        if changed:
            executions.filter(pk=after.id).update(**changed)
            for name, value in changed.items():
                setattr(row, name, value)
    old = {run.id: run for run in before.task_runs} if before else {}
    task_runs = TaskRun.objects.for_tenant(tenant)
    new_rows = []
    for position, run in enumerate(after.task_runs):
        previous = old.get(run.id)
        lease = _lease_fields(leases, run.id)
        if previous is None:
            new_rows.append(
                TaskRun(
                    tenant=tenant,
                    id=run.id,
                    execution=row,
                    position=position,
                    **_task_run_fields(run),
                    **lease,
                )
            )
        elif previous != run or lease:
            task_runs.filter(pk=run.id).update(**_task_run_fields(run), **lease)
    if new_rows:
        task_runs.bulk_create(new_rows)
    notify.execution_changed(tenant=tenant, execution_id=row.id)  # on commit, once
    subflows.ended(tenant, before, after)  # a child that ends tells its parent, on commit
    if before is not None and _leaves_a_slot(before.current, after.current):
        from executions import concurrency  # it saves the queued executions it starts

        concurrency.released(tenant=tenant, ended=after)
    return row


def _leaves_a_slot(before: State, after: State) -> bool:
    """The execution stops holding a flow concurrency slot (see executions/concurrency.py)."""
    return after.terminated and not before.terminated and before is not State.QUEUED


def _lease_fields(
    leases: Mapping[str, tuple[str, datetime | None]], task_run_id: str
) -> dict[str, Any]:
    if task_run_id not in leases:
        return {}
    owner, until = leases[task_run_id]
    return {"lease_owner": owner, "lease_until": until}
