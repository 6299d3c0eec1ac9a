"""A user's commands on a running execution: kill, manual pause, resume (Kestra 0.20's
`ExecutionService.kill`, `pause` and `resume`).

Each runs in one transaction holding the execution's row lock, like the executor and the
workers, so a command never interleaves with a decision: the command's actions are applied,
the executor decides at once on the result (a kill is KILLED in that same transaction, its
created task runs too; a resume starts what comes next), and the messages that follow (task
runs to run, a wake-up, the kill of subflow executions) leave after commit. A running task
learns of a kill through its worker's `KillWatch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions import secret_inputs, services, snapshots
from executions.engine import commands
from executions.engine.actions import Action, SetExecutionState
from executions.engine.apply import apply_actions
from executions.engine.flowables.waits import on_resume_definitions
from executions.engine.inputs import InputResolution, resolve_inputs
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import Execution as Snapshot
from executions.engine.rendering import expressions_renderer
from executions.engine.states import State
from executions.engine.tasks.base import LogLine
from executions.engine.variables import run_variables
from executions.models import Execution, TaskRun
from tenants.errors import Conflict, NotFound, Unprocessable
from tenants.models import Tenant
from tenants.storage.local import LocalStorage


def execution_kill(*, tenant: Tenant, execution_id: str) -> Execution:
    """Kill an unfinished execution: KILLING, then KILLED in the same transaction; its
    created task runs are KILLED, a paused one's pauses too, and its running tasks are told
    to stop (their attempts end KILLED when their workers answer; subflow executions are
    killed in turn). A finished execution is a Conflict (409)."""
    with transaction.atomic():
        row, before = _lock(tenant, execution_id)
        return _apply(tenant, row, before, commands.kill(before), "Kill requested by a user")


def execution_pause(*, tenant: Tenant, execution_id: str) -> Execution:
    """Pause a RUNNING execution: the task runs already sent to workers finish and are
    recorded, nothing new starts until it is resumed. Not running: Unprocessable (422, as
    Kestra answers)."""
    with transaction.atomic():
        row, before = _lock(tenant, execution_id)
        return _apply(tenant, row, before, commands.pause(before), "Paused by a user")


def execution_unqueue(*, tenant: Tenant, execution_id: str) -> Execution:
    """Start a QUEUED execution now, whatever its flow's concurrency limit (Kestra's
    `unqueue`: the user takes the extra slot). Not queued: Conflict (409)."""
    with transaction.atomic():
        row, before = _lock(tenant, execution_id)
        if before.current is not State.QUEUED:
            raise Conflict(
                f"Execution {execution_id} is {before.current.value}: only a QUEUED execution "
                "can be unqueued"
            )
        actions = [SetExecutionState(State.RUNNING)]
        return _apply(tenant, row, before, actions, "Unqueued by a user")


def execution_force_run(*, tenant: Tenant, execution_id: str) -> Execution:
    """Kestra's `force-run`: a CREATED execution starts, a QUEUED one is unqueued, a PAUSED
    one resumed (without `onResume` values: a form that requires one is a 422), any other
    unfinished one is handed to the executor again (a lost message, a stuck decision). An
    ended execution is a Conflict (409)."""
    row = Execution.objects.for_tenant(tenant).filter(pk=execution_id).first()
    if row is None:
        raise NotFound(f"Execution {execution_id} not found")
    state = State(row.state)
    if state.terminated:
        raise Conflict(
            f"Execution {execution_id} has ended ({state.value}): only an unfinished execution "
            "can be forced to run; restart or replay it instead"
        )
    if state is State.QUEUED:
        return execution_unqueue(tenant=tenant, execution_id=execution_id)
    if state is State.PAUSED:
        return execution_resume(tenant=tenant, execution_id=execution_id)
    with transaction.atomic():
        row, before = _lock(tenant, execution_id)
        if before.current is State.CREATED:
            actions = [SetExecutionState(State.RUNNING)]
            return _apply(tenant, row, before, actions, "Forced to run by a user")
        services._advance_on_commit(tenant, execution_id)
        return row


@dataclass(frozen=True)
class ResumePrompt:
    """What resuming a PAUSED execution asks for: the paused task run and the `onResume`
    input definitions of its Pause (none for a manual pause or a Pause without them)."""

    task_run_id: str | None
    task_id: str | None
    definitions: list[Mapping[str, Any]]


def resume_prompt(*, execution: Snapshot, tenant: Tenant) -> ResumePrompt:
    """What a resume of `execution` (a snapshot, PAUSED or not) would ask for."""
    paused = commands.first_paused(execution)
    if paused is None:
        return ResumePrompt(None, None, [])
    spec = services.flow_spec(
        tenant, execution.namespace, execution.flow_id, execution.flow_revision
    )
    return ResumePrompt(paused.id, paused.task_id, on_resume_definitions(spec.find(paused.task_id)))


def execution_resume(
    *, tenant: Tenant, execution_id: str, provided: Mapping[str, Any] | None = None
) -> Execution:
    """Resume a PAUSED execution. Paused by a Pause task, its first paused task run goes on
    and the Pause's `onResume` inputs are typed and validated like flow inputs (files are
    stored with the execution, SECRET values encrypted): every invalid one is reported
    together (422) and nothing changes. Not paused: Conflict (409)."""
    with transaction.atomic():
        row, before = _lock(tenant, execution_id)
        if before.current is not State.PAUSED:
            raise Conflict(
                f"Execution {execution_id} is not paused, it is {before.current.value}: "
                "only a paused execution can be resumed"
            )
        spec = services.flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
        resolution = _on_resume(tenant, before, provided or {})
        values = None
        if resolution is not None:  # SECRET values are stored sealed, as flow inputs are
            values = secret_inputs.sealed(resolution.nested(), resolution.secret_ids)
        actions = commands.resume(before, spec, values)
        return _apply(tenant, row, before, actions, "Resumed by a user")


@dataclass(frozen=True)
class CheckedInput:
    """One `onResume` input as a validation sees it: typed value, or why it is refused."""

    definition: Mapping[str, Any]
    value: Any
    enabled: bool
    errors: list[str]


@dataclass(frozen=True)
class CheckedResume:
    flow_id: str
    namespace: str
    items: list[CheckedInput]


def execution_resume_validate(
    *, tenant: Tenant, execution_id: str, provided: Mapping[str, Any]
) -> CheckedResume:
    """Type and validate `onResume` values without resuming (Kestra's `resume/validate`):
    each input with its value or its errors. Files are checked, not stored. Not paused:
    Conflict (409)."""
    row = Execution.objects.for_tenant(tenant).filter(pk=execution_id).first()
    if row is None:
        raise NotFound(f"Execution {execution_id} not found")
    if State(row.state) is not State.PAUSED:
        raise Conflict(f"Execution {execution_id} is not paused, it is {row.state}")
    runs = TaskRun.objects.for_tenant(tenant).filter(execution=row).order_by("position")
    snap = snapshots.snapshot(row, list(runs))
    prompt = resume_prompt(execution=snap, tenant=tenant)
    files = ExecutionInputFiles(_DryRun(), snap.namespace, snap.flow_id, snap.id)
    resolution = resolve_inputs(
        prompt.definitions, provided, render=_renderer(snap, tenant), files=files, path="onResume"
    )
    errors: dict[str, list[str]] = {}
    for violation in resolution.violations:
        errors.setdefault(violation.path.removeprefix("onResume."), []).append(violation.message)
    items = []
    for definition in prompt.definitions:
        input_id = str(definition.get("id") or definition.get("name"))
        items.append(
            CheckedInput(
                definition=definition,
                value=resolution.values.get(input_id),
                enabled=input_id not in resolution.skipped,
                errors=errors.get(input_id, []),
            )
        )
    return CheckedResume(row.flow_id, row.namespace, items)


class _DryRun:
    """A storage that keeps nothing: a validation names the file it would store."""

    def put(self, name: str, data: bytes) -> str:
        return f"kestra:///{name}"


def _lock(tenant: Tenant, execution_id: str) -> tuple[Execution, Snapshot]:
    locked = services._locked(tenant, execution_id)
    if locked is None:
        raise NotFound(f"Execution {execution_id} not found")
    return locked


def _on_resume(
    tenant: Tenant, execution: Snapshot, provided: Mapping[str, Any]
) -> InputResolution | None:
    """The typed `onResume` values of the paused Pause; None when it declares none."""
    prompt = resume_prompt(execution=execution, tenant=tenant)
    if not prompt.definitions:
        return None
    storage = LocalStorage(tenant.slug)
    files = ExecutionInputFiles(storage, execution.namespace, execution.flow_id, execution.id)
    resolution = resolve_inputs(
        prompt.definitions,
        provided,
        render=_renderer(execution, tenant),
        files=files,
        path="onResume",
    )
    if resolution.violations:
        raise Unprocessable(
            f"Invalid onResume inputs: {len(resolution.violations)} problem(s)",
            field="onResume",
            violations=resolution.violations,
        )
    return resolution


def _renderer(execution: Snapshot, tenant: Tenant) -> Any:
    """Templated defaults of `onResume` inputs see the execution (its inputs, outputs...)."""
    spec = services.flow_spec(
        tenant, execution.namespace, execution.flow_id, execution.flow_revision
    )
    context = run_variables(spec, execution, unseal=secret_inputs.unseal)

    def render(template: str, variables: Mapping[str, Any]) -> Any:
        return expressions_renderer({**context, **variables}).render_typed(template)

    return render


def _apply(
    tenant: Tenant, row: Execution, before: Snapshot, actions: list[Action], message: str
) -> Execution:
    """Apply the command, let the executor decide on the result, write both, and send what
    follows after commit."""
    now = timezone.now()
    commanded = apply_actions(before, actions, now)
    spec = services.flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
    step = services._decide(
        spec, commanded, services._services(tenant, row.namespace, row.id), tenant=tenant
    )
    row = snapshots.save(tenant=tenant, row=row, before=before, after=step.after, wake_at=step.wake)
    line = LogLine("INFO", message, now, None, None)
    services._write_logs(tenant, services._log_rows(tenant, row, [line, *step.logs]))
    services._follow_up(tenant, step)
    return row
