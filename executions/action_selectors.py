"""Reads behind the action forms of the execution page (restart, replay, change a task run's
state, label editor): which apply, and the choices they offer. Reads only, tenant first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from executions.engine.labels import is_read_only, is_system
from executions.engine.restart import MARKABLE_STATES
from executions.engine.states import State
from executions.models import Execution, TaskRun
from flows.selectors import flow_get, flow_revision_list
from tenants.errors import NotFound
from tenants.models import Tenant

CHANGEABLE = ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED")
EMPTY_LABEL_ROWS = 3


@dataclass(frozen=True)
class LabelRow:
    key: str = ""
    value: str = ""


@dataclass(frozen=True)
class ExecutionActions:
    """What the Actions card of an ended execution offers."""

    read_only: bool
    restartable: bool  # a FAILED task run exists
    revisions: list[int]  # the flow's revisions, newest first (empty: the flow is gone)
    current_revision: int
    changeable: list[TaskRun]  # task runs whose state may be forced, the FAILED ones first
    target_states: list[str] = field(default_factory=lambda: [s.value for s in MARKABLE_STATES])
    label_rows: list[LabelRow] = field(default_factory=list)
    system_labels: list[LabelRow] = field(default_factory=list)


def execution_actions(
    *, tenant: Tenant, execution: Execution, task_runs: Iterable[TaskRun]
) -> ExecutionActions | None:
    """None while the execution runs (nothing applies then, and the page refreshes often)."""
    if not State(execution.state).terminated:
        return None
    runs = list(task_runs)
    labels = [LabelRow(item["key"], item["value"]) for item in execution.labels]
    try:
        flow = flow_get(tenant=tenant, namespace=execution.namespace, flow_id=execution.flow_id)
    except NotFound:
        revisions: list[int] = []
    else:
        numbers = (
            flow_revision_list(tenant=tenant, flow=flow)
            .filter(deleted=False)
            .values_list("revision", flat=True)
        )
        revisions = sorted(numbers, reverse=True)
    return ExecutionActions(
        read_only=is_read_only(execution.labels),
        restartable=any(run.state == State.FAILED for run in runs),
        revisions=revisions,
        current_revision=execution.flow_revision,
        # the failed ones first: forcing a failure to SUCCESS is the usual reason to come
        changeable=sorted(
            (run for run in runs if run.state in CHANGEABLE), key=lambda run: run.state != "FAILED"
        ),
        label_rows=[row for row in labels if not is_system(row.key)]
        + [LabelRow() for _ in range(EMPTY_LABEL_ROWS)],
        system_labels=[row for row in labels if is_system(row.key)],
    )
