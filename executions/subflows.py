"""Subflows on the platform: the child executions a decision asks for (`StartSubflow`) are
made in the parent's transaction, their results go back to the parent when they end, and a
kill of the parent's task run goes down to them.

- `Launcher` (one per decision loop, see `services._decide`) finds each child flow in the
  parent's tenant (a child is always in its parent's tenant), makes the child with its
  inputs typed and validated, takes the child's first decision as `execution_create` does
  (a child of a flow with `concurrency`, or scheduled later, is left CREATED for the
  executor) and answers the parent (`subflow_started`). A child that ends within that first
  decision gives its result at once. The rows are written by `save`, inside the parent's
  transaction, with whatever the children started in turn.
- A child that ends later is noticed by `snapshots.save` (the transaction that ends it); after
  commit, `subflow_ended` (Celery) gives its result to the parent under the parent's lock:
  a message delivered twice finds the result taken and does nothing.
- `kill_children` kills the running children of a task run the parent asked to stop.

Lock order: a transaction holding one execution's lock never waits for another's (the
parent learns of a child's end, and a child of a kill, in a transaction of their own).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions import secret_inputs, snapshots
from executions.engine import commands
from executions.engine.actions import Action, EmitLog, KillTaskRun, StartSubflow
from executions.engine.apply import apply_actions
from executions.engine.flow import FlowSpec
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import Execution as Snapshot
from executions.engine.model import new_id
from executions.engine.rendering import RenderError, expressions_renderer
from executions.engine.subflows import (
    MAX_DEPTH,
    SUBFLOWS,
    SubflowError,
    accept_subflow_result,
    child_execution,
    launchable,
    not_found,
    parent_from_trigger,
    parent_id_of,
    subflow_result,
    subflow_started,
)
from executions.engine.tasks.base import LogLine
from executions.models import Execution, TaskRun
from flows.selectors import flow_get
from tenants.errors import AviaryError, Conflict, NotFound
from tenants.models import Tenant
from tenants.storage.local import LocalStorage

if TYPE_CHECKING:
    from executions.services import _Step

log = logging.getLogger("aviary.executor")


def max_depth() -> int:
    return int(settings.AVIARY.get("SUBFLOW_MAX_DEPTH", MAX_DEPTH))


def depth_of(tenant: Tenant, execution: Snapshot) -> int:
    """How many subflow levels sit above `execution` (0: nothing started it), counted along
    the stored chain of parents, at most one past the limit."""
    depth, parent_id = 0, parent_id_of(execution)
    rows = Execution.objects.for_tenant(tenant)
    limit = max_depth()
    while parent_id is not None and depth <= limit:
        depth += 1
        trigger = rows.filter(pk=parent_id).values_list("trigger", flat=True).first()
        parent_id = parent_from_trigger(trigger)
    return depth


def _child_flow(tenant: Tenant, request: StartSubflow) -> FlowSpec:
    from executions.services import flow_spec

    try:
        flow = flow_get(tenant=tenant, namespace=request.namespace, flow_id=request.flow_id)
    except NotFound:
        raise not_found(request.namespace, request.flow_id, request.revision) from None
    if flow.disabled:
        raise SubflowError(
            f"Cannot execute flow '{request.namespace}.{request.flow_id}': it is disabled"
        )
    revision = request.revision or flow.revision
    source = flow.source if revision == flow.revision else None
    try:
        return flow_spec(tenant, request.namespace, request.flow_id, revision, source=source)
    except NotFound:
        raise not_found(request.namespace, request.flow_id, request.revision) from None
    except AviaryError as error:
        raise SubflowError(f"Cannot execute an invalid flow: {error}") from None


@dataclass
class _Child:
    """A child made by a launcher, to be written: its first step, or None (left CREATED)."""

    created: Snapshot
    step: _Step | None


@dataclass
class Launcher:
    """Carries out the `StartSubflow` requests of one parent's decision loop."""

    tenant: Tenant
    depth: int | None = None  # the parent's; looked up on first use
    children: list[_Child] = field(default_factory=list)

    def start(self, parent: Snapshot, spec: FlowSpec, actions: list[Action]) -> list[Action]:
        """The parent's answers to the requests in `actions`, to apply after them."""
        answers: list[Action] = []
        current = parent
        for request in (a for a in actions if isinstance(a, StartSubflow)):
            if not launchable(current, request):
                continue
            answer = self._start_one(current, spec, request)
            answers += answer
            current = apply_actions(current, answer, timezone.now())
        return answers

    def _start_one(self, parent: Snapshot, spec: FlowSpec, request: StartSubflow) -> list[Action]:
        from executions.services import _decide, _services, flow_spec

        if self.depth is None:
            self.depth = depth_of(self.tenant, parent)
        child_id = new_id()
        try:
            child_flow = _child_flow(self.tenant, request)
            storage = LocalStorage(self.tenant.slug)
            child = child_execution(
                request,
                parent,
                child_flow,
                now=timezone.now(),
                execution_id=child_id,
                depth=self.depth,
                max_depth=max_depth(),
                files=ExecutionInputFiles(storage, child_flow.namespace, child_flow.id, child_id),
                render=_render_default,
                seal=secret_inputs.sealed,
            )
        except (SubflowError, RenderError) as error:
            return subflow_started(parent, request, None, str(error))
        answers = subflow_started(parent, request, child.id)
        later = child.schedule_date is not None and child.schedule_date > timezone.now()
        if child_flow.data.get("concurrency") or later:
            self.children.append(_Child(child, None))  # the executor admits or wakes it
            return answers
        services = _services(self.tenant, child.namespace, child.id)
        try:
            step = _decide(
                child_flow, child, services, launcher=Launcher(self.tenant, self.depth + 1)
            )
        except Exception:  # the executor meets it again and logs it in context
            log.exception("first decision of subflow execution %s deferred", child.id)
            self.children.append(_Child(child, None))
            return answers
        self.children.append(_Child(child, step))
        if not step.after.current.terminated:
            return answers
        started = apply_actions(parent, answers, timezone.now())
        parent_flow = flow_spec(self.tenant, parent.namespace, parent.flow_id, parent.flow_revision)
        result = subflow_result(
            parent_flow,
            started,
            child_flow,
            step.after,
            renderer=expressions_renderer,
            services=services,
            storage=services.storage,
        )
        return answers + (accept_subflow_result(started, result) if result else [])

    def save(self) -> None:
        """Write the children (and theirs), inside the parent's transaction."""
        from executions import sla
        from executions.services import (
            _advance_on_commit,
            _follow_up,
            _log_rows,
            _write_logs,
            flow_spec,
        )

        for child in self.children:
            created = child.created
            spec = flow_spec(self.tenant, created.namespace, created.flow_id, created.flow_revision)
            if child.step is None:
                snapshots.save(tenant=self.tenant, before=None, after=created, wake_at=None)
                sla.monitors_create(tenant=self.tenant, spec=spec, execution=created)
                _advance_on_commit(self.tenant, created.id)
                continue
            step = child.step
            row = snapshots.save(
                tenant=self.tenant, before=None, after=step.after, wake_at=step.wake
            )
            _write_logs(self.tenant, _log_rows(self.tenant, row, step.logs))
            _follow_up(self.tenant, step)
            sla.monitors_create(tenant=self.tenant, spec=spec, execution=step.after)
        self.children = []


def _render_default(template: str, variables: Any) -> Any:
    return expressions_renderer(variables).render_typed(template)


def follow_up(tenant: Tenant, step: _Step) -> None:
    """After a decision was saved: write the children it started, and have the children of
    the task runs it stops killed (after commit, each under its own lock)."""
    launcher = getattr(step, "launcher", None)
    if launcher is not None:
        launcher.save()
    stopped = [
        a.task_run_id
        for a in step.emitted
        if isinstance(a, KillTaskRun) and _has_children(step.after, a.task_run_id)
    ]
    if stopped:
        from executions import tasks

        execution_id = step.after.id
        transaction.on_commit(
            lambda: [
                tasks.kill_subflows.delay(tenant.pk, execution_id, task_run_id)
                for task_run_id in stopped
            ]
        )


def _has_children(execution: Snapshot, task_run_id: str) -> bool:
    try:
        entries = execution.task_run(task_run_id).engine_state.get(SUBFLOWS) or {}
    except KeyError:
        return False
    return any(entry.get("state") is None for entry in entries.values())


def ended(tenant: Tenant, before: Snapshot | None, after: Snapshot) -> None:
    """Called by `snapshots.save`: a child that has just ended tells its parent, after
    commit (no SQL here)."""
    if before is None or before.current.terminated or not after.current.terminated:
        return
    if parent_id_of(after) is None:
        return
    from executions import tasks

    transaction.on_commit(lambda: tasks.subflow_ended.delay(tenant.pk, after.id))


def subflow_ended(*, tenant: Tenant, execution_id: str) -> None:
    """Give the ended child `execution_id`'s result to its parent task run, then let the
    parent go on, in one transaction holding the parent's lock. Idempotent."""
    from executions.services import (
        _decide,
        _follow_up,
        _locked,
        _log_rows,
        _services,
        _write_logs,
        flow_spec,
    )

    child = _snapshot(tenant, execution_id)
    parent_id = parent_id_of(child) if child is not None else None
    if child is None or parent_id is None or not child.current.terminated:
        return
    child_flow = flow_spec(tenant, child.namespace, child.flow_id, child.flow_revision)
    child_services = _services(tenant, child.namespace, child.id)
    with transaction.atomic():
        locked = _locked(tenant, parent_id)
        if locked is None:
            return
        row, before = locked
        spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
        result = subflow_result(
            spec,
            before,
            child_flow,
            child,
            renderer=expressions_renderer,
            services=child_services,
            storage=child_services.storage,
        )
        answers = accept_subflow_result(before, result) if result is not None else []
        if not answers:
            return
        now = timezone.now()
        reported = apply_actions(before, answers, now)
        step = _decide(spec, reported, _services(tenant, row.namespace, row.id), tenant=tenant)
        lines = [
            LogLine(a.level, a.message, now, a.task_run_id, _task_id(before, a.task_run_id))
            for a in answers
            if isinstance(a, EmitLog)
        ]
        row = snapshots.save(
            tenant=tenant, row=row, before=before, after=step.after, wake_at=step.wake
        )
        _write_logs(tenant, _log_rows(tenant, row, lines + step.logs))
        _follow_up(tenant, step)


def kill_children(*, tenant: Tenant, execution_id: str, task_run_id: str) -> int:
    """Kill the running children of one task run (its parent killed it, or the parent was
    killed); each child in its own transaction. Returns how many were asked to stop."""
    from executions.services import (
        _decide,
        _follow_up,
        _locked,
        _log_rows,
        _services,
        _write_logs,
        flow_spec,
    )

    parent = _snapshot(tenant, execution_id)
    if parent is None:
        return 0
    try:
        entries = parent.task_run(task_run_id).engine_state.get(SUBFLOWS) or {}
    except KeyError:
        return 0
    killed = 0
    for child_id, entry in entries.items():
        if entry.get("state") is not None:
            continue
        with transaction.atomic():
            locked = _locked(tenant, child_id)
            if locked is None:
                continue
            row, before = locked
            try:
                kill = commands.kill(before)
            except Conflict:  # it ended meanwhile
                continue
            now = timezone.now()
            spec = flow_spec(tenant, row.namespace, row.flow_id, row.flow_revision)
            step = _decide(
                spec,
                apply_actions(before, kill, now),
                _services(tenant, row.namespace, row.id),
                tenant=tenant,
            )
            message = f"Killed with its parent execution {execution_id}"
            line = LogLine("INFO", message, now, None, None)
            row = snapshots.save(
                tenant=tenant, row=row, before=before, after=step.after, wake_at=step.wake
            )
            _write_logs(tenant, _log_rows(tenant, row, [line, *step.logs]))
            _follow_up(tenant, step)
            killed += 1
    return killed


def _snapshot(tenant: Tenant, execution_id: str) -> Snapshot | None:
    row = Execution.objects.for_tenant(tenant).filter(pk=execution_id).first()
    if row is None:
        return None
    row.tenant = tenant
    runs = list(TaskRun.objects.for_tenant(tenant).filter(execution=row).order_by("position"))
    return snapshots.snapshot(row, runs)


def _task_id(execution: Snapshot, task_run_id: str | None) -> str | None:
    if task_run_id is None:
        return None
    try:
        return execution.task_run(task_run_id).task_id
    except KeyError:
        return None
