"""The executions a Schedule tick starts, written by the batch: Kestra's scheduled execution
(`TriggerService.generateScheduledExecution` + `Schedule.evaluate`) built from the trigger,
its tick variables and, during a backfill, the backfill's inputs and labels.

- labels: the flow's labels (no `system.*`), then the trigger's own, rendered (one that fails
  to render is left out, as Kestra's `LabelService.fromTrigger` does), then the backfill's;
  the later wins on a clash; `system.correlationId` is the execution's own id;
- inputs: the trigger's `inputs` rendered, the backfill's on top, then typed and validated
  against the flow's inputs like the API's. An input that cannot be rendered or is invalid
  gives a FAILED execution whose log says why (Aviary's rule for every trigger);
- trigger: `{id, type, variables: {date, next, previous}}`, the variables also in the
  execution's `variables` as `schedule` (Kestra keeps that name for old flows).

Templates see `flow`, `trigger` (id, type and the tick variables) and `schedule`.

A valid execution is stored CREATED, in one INSERT per tenant and batch, and the executor
starts it on the message sent after commit; the rare FAILED ones are saved one by one.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions import secret_inputs, snapshots
from executions.engine.inputs import resolve_inputs
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.model import Execution as Snapshot
from executions.engine.model import Label, new_execution, new_id
from executions.engine.rendering import RenderError, expressions_renderer
from executions.engine.states import EXECUTION_TRANSITIONS, State
from executions.models import LogEntry
from executions.services import engine_services
from flows.spec import flow_labels
from tenants.errors import Violation
from tenants.models import Tenant
from tenants.storage.local import LocalStorage
from triggers.engine.schedule import Schedule

log = logging.getLogger("aviary.scheduler")
SYSTEM_PREFIX = "system."
# A CREATED execution is started by the message sent after commit; should the scheduler die
# between commit and send, the scheduler's waker sends it once this has passed. Long enough
# for a backlog of a few thousand executions to drain first: the waker sends again every
# second for each execution still due, which would flood the executor's queue.
LOST_MESSAGE_BACKSTOP = timedelta(minutes=10)


@dataclass(frozen=True)
class FlowInfo:
    """What a tick's execution needs of its flow's revision (read once per revision)."""

    pk: int
    namespace: str
    flow_id: str
    revision: int
    inputs: tuple[Mapping[str, Any], ...]
    labels: tuple[Label, ...]
    plugin_defaults: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, *, pk: int, namespace: str, flow_id: str, revision: int, spec: Any) -> FlowInfo:
        spec = spec if isinstance(spec, dict) else {}
        defaults = spec.get("pluginDefaults") or spec.get("taskDefaults") or []
        return cls(
            pk=pk,
            namespace=namespace,
            flow_id=flow_id,
            revision=revision,
            inputs=tuple(i for i in spec.get("inputs") or [] if isinstance(i, Mapping)),
            labels=tuple(Label(item["key"], item["value"]) for item in flow_labels(spec)),
            plugin_defaults=tuple(d for d in defaults if isinstance(d, Mapping)),
        )


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


class _Renderer:
    """Renders the trigger's templates with the tick's variables; built on first use, as
    most triggers hold none."""

    def __init__(
        self, tenant: Tenant, flow: FlowInfo, variables: Mapping[str, Any], execution_id: str
    ) -> None:
        self.tenant = tenant
        self.flow = flow
        self.variables = variables
        self.execution_id = execution_id
        self._templates: Any = None

    def value(self, value: Any) -> Any:
        if not _templated(value):
            return value
        if self._templates is None:
            services = engine_services(
                tenant=self.tenant,
                namespace=self.flow.namespace,
                execution_id=self.execution_id,
            )
            self._templates = expressions_renderer(self.variables, services)
        return self._templates.render_value(value)


def render_variables(
    tenant: Tenant, flow: FlowInfo, schedule: Schedule, tick_variables: Mapping[str, str]
) -> dict[str, Any]:
    """What the trigger's templates (labels, inputs) see."""
    return {
        "flow": flow_variables(tenant, flow),
        "trigger": {"id": schedule.trigger_id, "type": schedule.type, **tick_variables},
        "schedule": dict(tick_variables),
    }


def flow_variables(tenant: Tenant, flow: FlowInfo) -> dict[str, Any]:
    return {
        "id": flow.flow_id,
        "namespace": flow.namespace,
        "revision": flow.revision,
        "tenantId": tenant.slug,
    }


@dataclass
class Batch:
    """The executions of one claimed batch, written together before the trigger rows."""

    created: dict[int, tuple[Tenant, list[Snapshot]]] = field(default_factory=dict)
    failed: list[tuple[Tenant, Snapshot, list[str]]] = field(default_factory=list)

    def add_created(self, tenant: Tenant, snap: Snapshot) -> None:
        self.created.setdefault(tenant.pk, (tenant, []))[1].append(snap)

    def add_failed(self, tenant: Tenant, snap: Snapshot, messages: list[str]) -> None:
        self.failed.append((tenant, snap, messages))

    def write(self) -> int:
        """Store everything (inside the caller's transaction); the CREATED executions'
        messages leave after commit. Returns how many executions were stored."""
        now = timezone.now()
        for tenant, snaps in self.created.values():
            snapshots.insert_created(
                tenant=tenant, created=snaps, wake_at=now + LOST_MESSAGE_BACKSTOP
            )
            transaction.on_commit(_sender(tenant.pk, [snap.id for snap in snaps]))
        for tenant, snap, messages in self.failed:
            _store_failed(tenant, snap, messages, now)
        return sum(len(snaps) for _, snaps in self.created.values()) + len(self.failed)


def _sender(tenant_pk: int, execution_ids: list[str]) -> Callable[[], None]:
    def send() -> None:
        if _background is not None:
            _background.put((tenant_pk, execution_ids))
        else:
            _send(tenant_pk, execution_ids)

    return send


def _send(tenant_pk: int, execution_ids: list[str]) -> None:
    from executions import tasks

    for execution_id in execution_ids:
        tasks.advance_execution.delay(tenant_pk, execution_id)


class BackgroundSender:
    """Sends the executor's messages from a thread of its own, in the scheduler process: a
    thousand broker round trips must not hold back the next batch's commit. Messages still
    queued when the process ends are sent at exit; if it is killed, the executions' wake-up
    date (`LOST_MESSAGE_BACKSTOP`) has the waker send them."""

    HOLD_SECONDS = 5.0  # the longest a pass holds the messages back

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[int, list[str]] | None] = queue.SimpleQueue()
        self.open = threading.Event()
        self.open.set()
        self.thread = threading.Thread(target=self._run, name="schedule-sender", daemon=True)
        self.thread.start()
        atexit.register(self.close)

    def put(self, item: tuple[int, list[str]]) -> None:
        self.queue.put(item)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Send nothing meanwhile: building a message is Python work, which would take turns
        with the pass (one interpreter lock) and delay the last batches' commits."""
        self.open.clear()
        try:
            yield
        finally:
            self.open.set()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            self.open.wait(timeout=self.HOLD_SECONDS)
            try:
                _send(*item)
            except Exception:  # a broker error must not stop the thread; the waker resends
                log.exception("executor messages for %s execution(s) not sent", len(item[1]))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)


_background: BackgroundSender | None = None


def send_in_background() -> None:
    """From now on, this process sends the executions' messages from a thread."""
    global _background  # one per process, started by the scheduler command
    if _background is None:
        _background = BackgroundSender()


@contextmanager
def messages_held() -> Iterator[None]:
    """While a pass runs, the background sender (if any) waits."""
    if _background is None:
        yield
        return
    with _background.hold():
        yield


def _store_failed(tenant: Tenant, snap: Snapshot, messages: list[str], now: datetime) -> None:
    failed = replace(snap, state=snap.state.moved_to(State.FAILED, now, EXECUTION_TRANSITIONS))
    row = snapshots.save(tenant=tenant, before=None, after=failed, wake_at=None)
    LogEntry.objects.for_tenant(tenant).bulk_create(
        LogEntry(tenant=tenant, execution=row, level="ERROR", message=message, timestamp=now)
        for message in messages
    )


def scheduled_execution(
    *,
    tenant: Tenant,
    flow: FlowInfo,
    schedule: Schedule,
    tick_variables: Mapping[str, str],
    backfill: Mapping[str, Any] | None,
    batch: Batch,
    error: str | None = None,
) -> tuple[Snapshot, bool]:
    """Build the tick's execution and add it to `batch`: CREATED, or FAILED (with the
    reasons logged) when `error` is given (conditions that could not be evaluated) or an
    input is invalid. Returns it and whether it failed."""
    execution_id = new_id()
    variables = render_variables(tenant, flow, schedule, tick_variables)
    renderer = _Renderer(tenant, flow, variables, execution_id)
    labels = _labels(schedule.data, renderer) + _labels(backfill or {}, renderer)
    problems: list[Violation] = []
    provided: dict[str, Any] = {}
    for source in (schedule.inputs, (backfill or {}).get("inputs") or {}):
        for key, value in source.items():
            try:
                provided[key] = renderer.value(value)
            except RenderError as render_error:
                problems.append(Violation(f"inputs.{key}", f"cannot be rendered: {render_error}"))
    resolution = resolve_inputs(
        list(flow.inputs),
        provided,
        render=lambda template, values: expressions_renderer(values).render_typed(template),
        files=ExecutionInputFiles(
            LocalStorage(tenant.slug), flow.namespace, flow.flow_id, execution_id
        )
        if any(definition.get("type") == "FILE" for definition in flow.inputs)
        else None,
    )
    violations = [*problems, *resolution.violations]
    snap = new_execution(
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        flow_revision=flow.revision,
        now=timezone.now(),
        execution_id=execution_id,
        inputs=secret_inputs.sealed(resolution.nested(), resolution.secret_ids)
        if not violations and error is None
        else {},
        flow_labels=flow.labels,
        labels=labels,
        variables={"schedule": dict(tick_variables)},
        tenant_id=tenant.slug,
        trigger={
            "id": schedule.trigger_id,
            "type": schedule.type,
            "variables": dict(tick_variables),
        },
    )
    messages = [error] if error else []
    messages += [f"Invalid input '{v.path}': {v.message}" for v in violations]
    if messages:
        batch.add_failed(tenant, snap, messages)
    else:
        batch.add_created(tenant, snap)
    return snap, bool(messages)


def _labels(data: Mapping[str, Any], renderer: _Renderer) -> list[Label]:
    labels = []
    for item in flow_labels(dict(data)):
        if item["key"].startswith(SYSTEM_PREFIX):
            continue  # validation refuses them; rows written before stay harmless
        try:
            value = renderer.value(item["value"])
        except RenderError:
            continue
        labels.append(Label(item["key"], value if isinstance(value, str) else str(value)))
    return labels
