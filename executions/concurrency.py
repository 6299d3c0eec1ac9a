"""Flow-level `concurrency` (Kestra 0.20, research §1.2): at most `limit` executions of a flow
hold a slot at once. A slot is held by every execution of the flow that is neither terminated
nor QUEUED (CREATED, RUNNING, PAUSED, RETRYING, KILLING, RESTARTED).

An execution that finds every slot taken when it starts is, by `behavior`:
- QUEUE (the default): stored QUEUED (history CREATED, QUEUED) with the log line "Flow is
  queued due to concurrency limit exceeded, N running(s)"; it starts, RUNNING, when a slot
  frees, the oldest queued first;
- CANCEL: ended CANCELLED at once (history CREATED, CANCELLED);
- FAIL: ended FAILED at once, logging "Flow is FAILED due to concurrency limit exceeded".

Every decision is taken holding the flow row's lock (`SELECT ... FOR UPDATE`), so that
concurrent submissions and terminations of one flow are serialised: the admission of a new
execution (`admit`, in the create or in the executor's first step of a CREATED execution)
and the start of queued ones by the transaction that ends an execution holding a slot
(`released`, called by `snapshots.save`). Lock order is always the ended execution's row,
then the flow row, then queued rows (skipping a queued row another transaction holds),
so the two paths never wait on each other in a cycle. Flows without `concurrency` take no
lock and run no query here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from executions import snapshots
from executions.engine.actions import EmitLog, EndExecution, SetExecutionState
from executions.engine.apply import apply_actions
from executions.engine.flow import FlowSpec
from executions.engine.model import Execution as Snapshot
from executions.engine.states import State
from executions.engine.tasks.base import LogLine
from executions.models import Execution
from flows.models import Flow
from tenants.errors import NotFound
from tenants.models import Tenant

log = logging.getLogger("aviary.executor")

QUEUE, CANCEL, FAIL = "QUEUE", "CANCEL", "FAIL"
BEHAVIORS = (QUEUE, CANCEL, FAIL)
# the states that hold a slot: neither terminated nor waiting in the queue
HOLDING = tuple(s.value for s in State if not s.terminated and s is not State.QUEUED)
FAILED_MESSAGE = "Flow is FAILED due to concurrency limit exceeded"


@dataclass(frozen=True, slots=True)
class Rule:
    """A flow's `concurrency` block, as validated (`limit` ≥ 1, a known `behavior`)."""

    limit: int
    behavior: str = QUEUE


def rule_of(spec: FlowSpec) -> Rule | None:
    """The flow's concurrency rule, or None when it has none (or an unusable one, which
    validation refuses before a revision is stored)."""
    data = spec.data.get("concurrency") if spec.data else None
    if not isinstance(data, Mapping):
        return None
    limit, behavior = data.get("limit"), data.get("behavior") or QUEUE
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        return None
    return Rule(limit, str(behavior)) if behavior in BEHAVIORS else None


def held(
    created: Snapshot, rule: Rule, running: int, now: datetime
) -> tuple[Snapshot, list[LogLine]]:
    """What becomes of a CREATED execution that found `running` slots taken of `rule.limit`:
    (the execution as it must be stored, the executor's log lines), or (the execution
    unchanged, []) when a slot is free."""
    if running < rule.limit:
        return created, []
    if rule.behavior == QUEUE:
        message = f"Flow is queued due to concurrency limit exceeded, {running} running(s)"
        actions: list = [SetExecutionState(State.QUEUED), EmitLog("INFO", message)]
    elif rule.behavior == CANCEL:
        actions = [EndExecution(State.CANCELLED)]
    else:
        actions = [EmitLog("ERROR", FAILED_MESSAGE), EndExecution(State.FAILED)]
    lines = [LogLine(a.level, a.message, now) for a in actions if isinstance(a, EmitLog)]
    return apply_actions(created, actions, now), lines


def _lock_flow(tenant: Tenant, namespace: str, flow_id: str) -> None:
    """Serialise the concurrency decisions of one flow (its row, deleted or not)."""
    rows = Flow.objects.for_tenant(tenant).select_for_update(of=("self",))
    list(rows.filter(namespace__name=namespace, flow_id=flow_id).values_list("pk", flat=True))


def _running(tenant: Tenant, namespace: str, flow_id: str, exclude: str | None = None) -> int:
    rows = Execution.objects.for_tenant(tenant).filter(
        namespace=namespace, flow_id=flow_id, state__in=HOLDING
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.count()


def admit(
    *, tenant: Tenant, rule: Rule, created: Snapshot
) -> tuple[Snapshot, list[LogLine]] | None:
    """Inside the transaction that starts `created` (CREATED): lock the flow and count the
    slots taken. None: a slot is free and the caller starts the execution as usual, before
    its transaction commits. Otherwise the execution as it must be stored instead (QUEUED,
    CANCELLED or FAILED) and its log lines."""
    _lock_flow(tenant, created.namespace, created.flow_id)
    running = _running(tenant, created.namespace, created.flow_id, exclude=created.id)
    after, logs = held(created, rule, running, timezone.now())
    return None if after is created else (after, logs)


def released(*, tenant: Tenant, ended: Snapshot) -> None:
    """`ended` just left a slot (terminated) in the current transaction: when its flow
    queues, start the oldest queued executions while slots are free. A queued execution
    starts RUNNING (history CREATED, QUEUED, RUNNING) and the executor, sent after commit,
    creates its first task runs (its `wake_at` is now, so the scheduler's waker starts it
    should the message be lost)."""
    from executions.services import flow_spec  # services imports this module

    try:  # cached per revision: no query for the process that just decided the end
        spec = flow_spec(tenant, ended.namespace, ended.flow_id, ended.flow_revision)
    except NotFound:  # its revision is gone with the flow: nothing can be queued behind it
        return
    rule = rule_of(spec)
    if rule is None or rule.behavior != QUEUE:
        return
    _start_queued(tenant, ended.namespace, ended.flow_id, rule)


def _start_queued(tenant: Tenant, namespace: str, flow_id: str, rule: Rule) -> int:
    from executions import tasks

    _lock_flow(tenant, namespace, flow_id)
    free = rule.limit - _running(tenant, namespace, flow_id)
    if free <= 0:
        return 0
    queued = list(
        Execution.objects.for_tenant(tenant)
        .select_for_update(skip_locked=True)
        .filter(namespace=namespace, flow_id=flow_id, state=State.QUEUED.value)
        .order_by("start_date", "id")[:free]
    )
    now = timezone.now()
    for row in queued:
        row.tenant = tenant
        before = snapshots.snapshot(row, [])
        after = apply_actions(before, [SetExecutionState(State.RUNNING)], now)
        snapshots.save(tenant=tenant, row=row, before=before, after=after, wake_at=now)
        transaction.on_commit(
            lambda e=row.id: tasks.advance_execution.delay(tenant.pk, e)  # type: ignore[misc]
        )
        log.info("execution %s leaves the queue of %s.%s", row.id, namespace, flow_id)
    return len(queued)


def queued_start_due(*, limit: int = 100) -> int:
    """The scheduler's backstop: flows with QUEUED executions and a free slot (an execution
    that ended by a path that does not release, e.g. a row deleted while running) start
    their oldest queued ones. Returns how many started."""
    from executions.services import flow_spec
    from tenants.selectors import tenant_by_id

    flows = (
        Execution.all_tenants.filter(state=State.QUEUED.value)
        .values_list("tenant_id", "namespace", "flow_id")
        .distinct()[:limit]
    )
    started = 0
    for tenant_id, namespace, flow_id in list(flows):
        tenant = tenant_by_id(tenant_id=tenant_id)
        if tenant is None:
            continue
        oldest = (
            Execution.objects.for_tenant(tenant)
            .filter(namespace=namespace, flow_id=flow_id, state=State.QUEUED.value)
            .order_by("start_date", "id")
            .values_list("flow_revision", flat=True)
            .first()
        )
        if oldest is None:
            continue
        rule = rule_of(flow_spec(tenant, namespace, flow_id, oldest))
        if rule is None:  # cannot be: the revision that queued it has the rule
            continue
        with transaction.atomic():
            started += _start_queued(tenant, namespace, flow_id, rule)
    return started
