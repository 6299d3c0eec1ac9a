"""What the execution page offers while an execution has not ended: pause, resume (with the
form of the paused Pause task's `onResume` inputs) and kill. Reads only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from executions.engine.flowables.waits import ON_EXPIRY, RESUME_AT, on_resume_definitions
from executions.engine.labels import is_read_only
from executions.engine.states import State
from executions.forms import ResumeForm
from executions.models import Execution, TaskRun
from executions.services import flow_spec
from tenants.errors import NotFound
from tenants.models import Tenant


@dataclass(frozen=True)
class Controls:
    """The life-cycle buttons of one unfinished execution. `paused_run` is the task run a
    resume goes on with (None for a manual pause); `form` its `onResume` inputs, if any."""

    state: str
    can_pause: bool
    can_resume: bool
    can_kill: bool
    paused_run: TaskRun | None = None
    form: ResumeForm | None = None
    resume_at: datetime | None = None  # when the paused task run goes on by itself
    fails_then: bool = False  # ...and then fails (a Pause's timeout)
    can_restart: bool = False  # paused by a task, not read-only: Kestra restarts it too
    can_unqueue: bool = False  # queued behind the flow's concurrency limit


def execution_controls(
    *, tenant: Tenant, execution: Execution, task_runs: Iterable[TaskRun]
) -> Controls | None:
    """None once the execution has ended (the page then offers restart, replay, delete)."""
    state = State(execution.state)
    if state.terminated:
        return None
    paused, definitions = _paused_pause(tenant, execution, task_runs)
    return Controls(
        state=state.value,
        can_pause=state is State.RUNNING,
        can_resume=state is State.PAUSED,
        can_kill=state is not State.KILLING,
        paused_run=paused,
        form=ResumeForm(definitions) if definitions else None,
        resume_at=_resume_at(paused),
        fails_then=paused is not None and paused.engine_state.get(ON_EXPIRY) == "FAILED",
        can_restart=paused is not None and not is_read_only(execution.labels),
        can_unqueue=state is State.QUEUED,
    )


def _resume_at(paused: TaskRun | None) -> datetime | None:
    raw = paused.engine_state.get(RESUME_AT) if paused is not None else None
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def resume_form_for(
    *, tenant: Tenant, execution: Execution, data: Any = None, files: Any = None
) -> tuple[TaskRun | None, ResumeForm]:
    """The paused task run and the form of its `onResume` inputs (empty for a manual
    pause), bound to `data`/`files` when given."""
    runs = TaskRun.objects.for_tenant(tenant).filter(execution=execution, state="PAUSED")
    paused, definitions = _paused_pause(tenant, execution, runs)
    if data is None:
        return paused, ResumeForm(definitions)
    return paused, ResumeForm(definitions, data, files)


def _paused_pause(
    tenant: Tenant, execution: Execution, task_runs: Iterable[TaskRun]
) -> tuple[TaskRun | None, list[Mapping[str, Any]]]:
    if State(execution.state) is not State.PAUSED:
        return None, []
    paused = _first_paused(task_runs)
    return paused, _on_resume(tenant, execution, paused) if paused is not None else []


def _first_paused(task_runs: Iterable[TaskRun]) -> TaskRun | None:
    """The first PAUSED task run in creation order, as a resume takes it."""
    paused = [run for run in task_runs if run.state == State.PAUSED.value]
    return min(paused, key=lambda run: run.position) if paused else None


def _on_resume(tenant: Tenant, execution: Execution, paused: TaskRun) -> list[Mapping[str, Any]]:
    try:  # cached per revision
        spec = flow_spec(tenant, execution.namespace, execution.flow_id, execution.flow_revision)
    except NotFound:
        return []
    return on_resume_definitions(spec.find(paused.task_id))
