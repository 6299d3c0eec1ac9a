"""The state transitions of executions, written in the transaction that makes them (see
`ExecutionTransition`): what Flow triggers react to. CREATED is not written, as no trigger
can match it (Kestra's triggers react to changes, and an execution is born CREATED)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from executions.engine.model import Execution as Snapshot
from executions.engine.states import State
from executions.models import ExecutionTransition
from tenants.models import Tenant

# Called once per committed transaction that wrote transitions, with the tenant: the trigger
# evaluator registers itself here (triggers.apps), so that this module needs no import of it.
listeners: list[Callable[[Tenant], None]] = []


def record(tenant: Tenant, before: Snapshot | None, after: Snapshot) -> None:
    """Write the states `after` entered since `before` (every one, in order: a decision can
    pass through several, e.g. RUNNING → PAUSED → RUNNING)."""
    known = len(before.state.histories) if before is not None else 0
    entered = after.state.histories[known:]
    rows = [
        ExecutionTransition(
            tenant=tenant,
            execution_id=after.id,
            namespace=after.namespace,
            flow_id=after.flow_id,
            state=entry.state.value,
            at=entry.date,
        )
        for entry in entered
        if entry.state is not State.CREATED
    ]
    if not rows:
        return
    ExecutionTransition.objects.for_tenant(tenant).bulk_create(rows)
    if listeners:
        transaction.on_commit(lambda: _tell(tenant))


def _tell(tenant: Tenant) -> None:
    for listener in listeners:
        listener(tenant)
