"""Rows ↔ the engine's immutable snapshot. Saving writes only what changed: the execution
row, new task runs, and task runs whose content differs (so a loop of 1,000 iterations
updates a few rows per decision, not a growing document)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from executions import notify, subflows, transitions
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
    return snapshot_of(row, tuple(task_run_snapshot(tr) for tr in task_runs))


def snapshot_of(row: Execution, task_runs: tuple[TaskRunSnapshot, ...]) -> Snapshot:
    return Snapshot(
        id=row.id,
        namespace=row.namespace,
        flow_id=row.flow_id,
        flow_revision=row.flow_revision,
        state=_history(row.histories),
        task_runs=task_runs,
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


TASK_RUN_FIELDS = (
    "task_id",
    "parent_task_run_id",
    "value",
    "iteration",
    "state",
    "histories",
    "attempts",
    "outputs",
    "wake_at",
    "engine_state",
)


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
    fields = {
        **_execution_fields(after),
        "wake_at": wake_at,
        "task_run_count": len(after.task_runs),
    }
    executions = Execution.objects.for_tenant(tenant)
    leases = leases or {}
    if before is None:
        version = 1
        row = executions.create(id=after.id, version=version, **fields)
    else:
        if row is None:
            row = executions.get(pk=after.id)
        version = row.version + 1  # the row is locked: no other writer between read and write
        changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
        changed["version"] = version
        executions.filter(pk=after.id).update(**changed)
        for name, value in changed.items():
            setattr(row, name, value)
    old = {run.id: run for run in before.task_runs} if before else {}
    task_runs = TaskRun.objects.for_tenant(tenant)
    new_rows = []
    changed: dict[bool, list[TaskRun]] = {False: [], True: []}  # by "has a lease to set"
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
                    version=version,
                    **_task_run_fields(run),
                    **lease,
                )
            )
        elif (previous is not run and previous != run) or lease:
            fields = {**_task_run_fields(run), **lease}
            changed[bool(lease)].append(TaskRun(id=run.id, version=version, **fields))
    for with_lease, rows in changed.items():
        _update_task_runs(tenant, task_runs, rows, with_lease)
    if new_rows:
        task_runs.bulk_create(new_rows)
    if before is None or after.state is not before.state:
        transitions.record(tenant, before, after)
    _remember_on_commit(tenant, after.id, version, after.task_runs)
    notify.execution_changed(tenant=tenant, execution_id=row.id)  # on commit, once
    subflows.ended(tenant, before, after)  # a child that ends tells its parent, on commit
    if before is not None and _leaves_a_slot(before.current, after.current):
        from executions import concurrency  # it saves the queued executions it starts

        concurrency.released(tenant=tenant, ended=after)
    return row


def insert_created(*, tenant: Tenant, created: list[Snapshot], wake_at: datetime | None) -> None:
    """New CREATED executions in one statement (the scheduler's batch of ticks): a COPY on
    PostgreSQL, two to three times faster than the INSERT of `bulk_create`. Of what `save`
    does for a new execution nothing else applies: no task runs yet, CREATED is not a
    transition, and nobody follows an execution that did not exist; the executor, sent
    after commit, takes the first decision (concurrency limits included)."""
    if any(snap.current is not State.CREATED or snap.task_runs for snap in created):
        raise ValueError("insert_created takes new CREATED executions without task runs")
    values = [
        {
            "tenant_id": tenant.pk,
            "id": snap.id,
            "version": 1,
            "wake_at": wake_at,
            "task_run_count": 0,
            **_execution_fields(snap),
        }
        for snap in created
    ]
    if connection.vendor != "postgresql":
        Execution.objects.for_tenant(tenant).bulk_create(Execution(**row) for row in values)
        return
    fields = Execution._meta.concrete_fields
    # every column, the ones not set here at their model default (no model instance built)
    plan = [
        (field.attname, field.get_internal_type() == "JSONField", field.get_default())
        for field in fields
    ]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(Execution._meta.db_table)} ({names}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row([_copy_value(row.get(name, default), js) for name, js, default in plan])


def _copy_value(value: Any, is_json: bool) -> Any:
    if is_json and value is not None:
        return json.dumps(value)  # COPY's text format: jsonb reads it back
    return value


def _update_task_runs(
    tenant: Tenant, task_runs: Any, rows: list[TaskRun], with_lease: bool
) -> None:
    """One UPDATE per changed task run, or one for all of them when there are several (a
    worker's batch of results: one statement instead of one per task run)."""
    if not rows:
        return
    fields = [*TASK_RUN_FIELDS, "version", *(("lease_owner", "lease_until") if with_lease else ())]
    if len(rows) == 1:
        only = rows[0]
        task_runs.filter(pk=only.id).update(**{name: getattr(only, name) for name in fields})
        return
    _update_from_values(tenant, rows, fields)


def _update_from_values(tenant: Tenant, rows: list[TaskRun], names: list[str]) -> None:
    """`UPDATE ... FROM (VALUES ...)`: each row its own values, one statement (Django's
    bulk_update builds a CASE per column and row, which costs more to compile than the
    statement saves). Identifiers come from the model; every value is a parameter."""
    fields = [TaskRun._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    pk = TaskRun._meta.pk
    columns = [pk.column, *(f.column for f in fields)]
    casts = [pk.db_type(connection), *(f.db_type(connection) for f in fields)]
    row_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    params: list[Any] = []
    for row in rows:
        params.append(row.pk)
        params.extend(f.get_db_prep_value(getattr(row, f.attname), connection) for f in fields)
    params.append(tenant.pk)
    assignments = ", ".join(f"{quote(column)} = v.{quote(column)}" for column in columns[1:])
    statement = (
        f"UPDATE {quote(TaskRun._meta.db_table)} AS t SET {assignments} "  # noqa: S608 - model names
        f"FROM (VALUES {', '.join([row_sql] * len(rows))}) "
        f"AS v({', '.join(quote(column) for column in columns)}) "
        f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)} AND t.tenant_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


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


# --- the engine's read of an execution it holds locked ------------------------------------
#
# A step of the engine (a claim, a report, an executor pass) needs the execution's every
# task run. Reading and converting them all on every step costs n rows per step, n² over a
# loop of n iterations. Each process keeps, per execution, the task runs of the last version
# it saw committed; a step then reads only the task runs written since (the `version` each
# save stamps), or none when the version has not moved, as when one worker runs a
# sequential flow. A count that disagrees (task runs deleted by a restart) or a version gone
# backwards means: read them all.

CACHED_EXECUTIONS = 512


@dataclass
class _Known:
    version: int
    task_runs: tuple[TaskRunSnapshot, ...]


_known: OrderedDict[tuple[int, str], _Known] = OrderedDict()
_known_lock = threading.Lock()


def _remember(tenant_pk: int, execution_id: str, known: _Known) -> None:
    key = (tenant_pk, execution_id)
    with _known_lock:
        current = _known.get(key)
        if current is not None and current.version > known.version:
            return  # a later version is already known
        _known[key] = known
        _known.move_to_end(key)
        while len(_known) > CACHED_EXECUTIONS:
            _known.popitem(last=False)


def _remember_on_commit(
    tenant: Tenant, execution_id: str, version: int, task_runs: tuple[TaskRunSnapshot, ...]
) -> None:
    """Known once committed: a rolled-back save must not be taken for the row's content."""
    known = _Known(version, task_runs)
    transaction.on_commit(lambda: _remember(tenant.pk, execution_id, known))


def forget_all() -> None:
    with _known_lock:
        _known.clear()


def known_taken(tenant: Tenant, execution_id: str, task_run_id: str) -> bool:
    """This process last saw the task run past CREATED (claimed by a batch, ended). Only a
    hint, maybe stale: the caller checks the row before acting on it."""
    known = _known.get((tenant.pk, execution_id))
    if known is None:
        return False
    for run in known.task_runs:
        if run.id == task_run_id:
            return run.current is not State.CREATED
    return False


def locked_snapshot(tenant: Tenant, row: Execution) -> Snapshot:
    """The snapshot of `row`, an execution row this transaction holds locked (`SELECT ...
    FOR UPDATE`: no writer can move its version meanwhile), from what this process knows
    plus the task runs written since."""
    key = (tenant.pk, row.id)
    with _known_lock:
        known = _known.get(key)
    runs = TaskRun.objects.for_tenant(tenant).filter(execution=row)
    task_runs: tuple[TaskRunSnapshot, ...] | None = None
    if known is not None and known.version == row.version:
        task_runs = known.task_runs
    elif known is not None and known.version < row.version:
        changed = [
            task_run_snapshot(r)
            for r in runs.filter(version__gt=known.version).order_by("position")
        ]
        merged = _merged(known.task_runs, changed)
        if len(merged) == row.task_run_count:
            task_runs = merged
    if task_runs is None:
        task_runs = tuple(task_run_snapshot(r) for r in runs.order_by("position"))
    _remember(tenant.pk, row.id, _Known(row.version, task_runs))
    return snapshot_of(row, task_runs)


def _merged(
    known: tuple[TaskRunSnapshot, ...], changed: list[TaskRunSnapshot]
) -> tuple[TaskRunSnapshot, ...]:
    """`known` with each changed task run replaced in place, the new ones appended in their
    order (a task run's position never changes but in a restart, which deletes some and
    so fails the caller's count check)."""
    replaced = {run.id: run for run in changed}
    ids = {run.id for run in known}
    merged = [replaced.get(run.id, run) for run in known]
    merged += [run for run in changed if run.id not in ids]
    return tuple(merged)
