"""The scheduler's Schedule triggers: claim the due ones, start their ticks' executions and
move them to their next tick, all in one transaction.

The claim is `SELECT ... FOR UPDATE SKIP LOCKED` over the due Schedule triggers (the partial
index `trigger_schedule_due`), in batches: two schedulers never hold the same trigger, and
the executions of a batch are written in the transaction that advances its triggers, so a
scheduler killed mid-batch leaves the batch as it found it (the next pass, or the other
scheduler, runs it) and a tick that was written is never run again. The executions' messages
leave after commit; should they be lost with the process, the waker starts the executions.

Kestra's trigger lock: a Schedule that started an execution is not evaluated again until that
execution ends (`AbstractScheduler.isExecutionNotRunning`), so a schedule never overlaps
itself and the ticks due meanwhile run one after the other once it ended. The lock is the
row's `execution_id`; it is released when the trigger is next due and its execution has
ended, or earlier by `schedule_locks_release` (one query a second), which also applies
`stopAfter`: an execution of the trigger that ended in one of those states disables it.
The triggers page's "unlock" clears `execution_id` by hand.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from executions.engine.rendering import expressions_renderer
from executions.engine.states import State
from executions.models import Execution
from executions.services import engine_services
from flows.models import Flow
from tenants.models import Tenant
from triggers.engine.cron import CronError
from triggers.engine.schedule import Conditions, Schedule, parse_schedule, recovered_next_date
from triggers.engine.ticks import FAIL, RUN, TickDecision, decide
from triggers.models import SCHEDULE, Trigger
from triggers.schedule_executions import (
    Batch,
    FlowInfo,
    flow_variables,
    messages_held,
    scheduled_execution,
    send_in_background,
)

log = logging.getLogger("aviary.scheduler")

BATCH_SIZE = 250  # triggers claimed and written per transaction
PASS_SECONDS = 5.0  # a pass stops claiming after this, so the loop's other jobs get their turn
IDLE_SECONDS = 1.0  # the longest the job goes without looking (flows saved, locks released)
MISSED_GRACE = timedelta(seconds=30)  # a tick due less than this ago is not "missed"
TERMINATED = [state.value for state in State if state.terminated]
_UPDATED = ["next_date", "last_date", "execution_id", "backfill", "disabled", "warning"]


def _due(now: datetime) -> QuerySet[Trigger]:
    """Active Schedule triggers whose tick has come (the partial index's predicate)."""
    return Trigger.all_tenants.filter(
        kind=SCHEDULE, disabled=False, spec_disabled=False, next_date__lte=now
    )


def _running() -> Exists:
    """The trigger's execution exists and has not ended: the trigger is locked."""
    return Exists(
        Execution.all_tenants.filter(pk=OuterRef("execution_id")).exclude(state__in=TERMINATED)
    )


def _claim(rows: QuerySet[Trigger], limit: int) -> list[Trigger]:
    """Lock up to `limit` rows, skipping those another scheduler holds; their state only."""
    return list(
        rows.select_for_update(skip_locked=True, of=("self",))
        .only(*_CLAIMED)
        .order_by("next_date")[:limit]
    )


# --- what a claimed row needs, cached per flow revision -----------------------------------
#
# The claim reads the rows' state only; a trigger's spec and its flow's revision never change
# (a flow save writes a new revision and re-syncs its triggers), so each process reads them
# once per revision, and the tenants once: a minute of 1,000 ticks then parses no spec.

_CACHE_MAX = 20_000
_SCHEDULES: dict[tuple[int, int], Schedule | CronError] = {}
_FLOWS: dict[tuple[int, int], FlowInfo] = {}
_TENANTS: dict[int, Tenant] = {}
_CLAIMED = (
    "id",
    "tenant_id",
    "flow_row_id",
    "kind",
    "namespace",
    "flow_id",
    "trigger_id",
    "flow_revision",
    "next_date",
    "last_date",
    "execution_id",
    "backfill",
    "disabled",
    "warning",
)


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.pop(next(iter(cache)))
    cache[key] = value


@dataclass(frozen=True)
class Target:
    """A claimed trigger's tenant, flow revision and parsed Schedule."""

    tenant: Tenant
    flow: FlowInfo
    schedule: Schedule


def _targets(rows: list[Trigger]) -> dict[int, Target | CronError]:
    """Each row's target (or the CronError that keeps it from running), reading only what
    this process has not seen: specs of new revisions, unknown tenants. A row missing from
    the answer has a flow already at a later revision: its sync will come."""
    missing_flows = {
        row.flow_row_id for row in rows if (row.flow_row_id, row.flow_revision) not in _FLOWS
    }
    if missing_flows:
        for flow in Flow.all_tenants.filter(pk__in=missing_flows).select_related("namespace"):
            info = FlowInfo.of(
                pk=flow.pk,
                namespace=flow.namespace.name,
                flow_id=flow.flow_id,
                revision=flow.revision,
                spec=flow.spec,
            )
            _remember(_FLOWS, (flow.pk, flow.revision), info)
    missing_specs = [row.pk for row in rows if (row.pk, row.flow_revision) not in _SCHEDULES]
    if missing_specs:
        specs = Trigger.all_tenants.filter(pk__in=missing_specs).values_list(
            "pk", "flow_revision", "flow_row_id", "spec"
        )
        for pk, revision, flow_pk, spec in specs:
            flow_info = _FLOWS.get((flow_pk, revision))
            defaults = flow_info.plugin_defaults if flow_info is not None else ()
            try:
                parsed: Schedule | CronError = parse_schedule(spec, defaults)
            except CronError as error:
                parsed = error
            _remember(_SCHEDULES, (pk, revision), parsed)
    missing_tenants = {row.tenant_id for row in rows} - _TENANTS.keys()
    for tenant in Tenant.objects.filter(pk__in=missing_tenants):
        _remember(_TENANTS, tenant.pk, tenant)
    targets: dict[int, Target | CronError] = {}
    for row in rows:
        schedule = _SCHEDULES.get((row.pk, row.flow_revision))
        flow_info = _FLOWS.get((row.flow_row_id, row.flow_revision))
        tenant = _TENANTS.get(row.tenant_id)
        if isinstance(schedule, CronError):
            targets[row.pk] = schedule
        elif schedule is not None and flow_info is not None and tenant is not None:
            targets[row.pk] = Target(tenant, flow_info, schedule)
    return targets


def schedule_of(row: Trigger) -> Schedule:
    """The Schedule of a fully read row (its flow's plugin defaults applied); `CronError`
    when it cannot be used."""
    spec = row.flow_row.spec
    return parse_schedule(row.spec, spec.get("pluginDefaults") or spec.get("taskDefaults"))


def conditions_of(tenant: Tenant, flow: FlowInfo) -> Conditions:
    """How the trigger's conditions render: with the tenant's secrets and KV at hand."""

    def render(template: str, variables: Any) -> Any:
        services = engine_services(tenant=tenant, namespace=flow.namespace, execution_id="")
        return expressions_renderer(variables, services).render_typed(template)

    return Conditions(flow=flow_variables(tenant, flow), render=render)


# --- the pass --------------------------------------------------------------------------------


def schedules_run_due(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Evaluate the due Schedule triggers: start each one's tick execution (or skip the
    tick), move it to its next tick. Batches follow one another until none is due at `now`
    (a trigger behind by several ticks, with none of them starting an execution, moves by
    one per batch) or `PASS_SECONDS` have passed. Returns how many executions were stored."""
    now = now or timezone.now()
    stored = 0
    deadline = time.monotonic() + PASS_SECONDS
    while time.monotonic() < deadline:
        with transaction.atomic():
            rows = _claim(_due(now).filter(Q(execution_id="") | ~_running()), batch_size)
            if not rows:
                break
            stored += _evaluate_batch(rows, now)
        if len(rows) < batch_size:
            break
    return stored


def _evaluate_batch(rows: list[Trigger], now: datetime) -> int:
    targets = _targets(rows)
    ended = _execution_states(rows)
    batch = Batch()
    for row in rows:
        target = targets.get(row.pk)
        if target is None:
            continue
        if isinstance(target, CronError):
            row.warning, row.next_date = str(target), None
            continue
        if row.execution_id:
            _release(row, target.schedule, ended.get(row.execution_id))
            if row.disabled:
                continue
        decision = decide(
            target.schedule,
            next_due=row.next_date,
            backfill=row.backfill,
            now=now,
            conditions=conditions_of(target.tenant, target.flow),
        )
        _apply(row, target, decision, batch)
    stored = batch.write()
    changed = timezone.now()
    for row in rows:
        row.updated_at = changed
    _update_rows(rows, [*_UPDATED, "updated_at"])
    return stored


def _apply(row: Trigger, target: Target, decision: TickDecision, batch: Batch) -> None:
    backfill = row.backfill
    if decision.action in (RUN, FAIL):
        snap, failed = scheduled_execution(
            tenant=target.tenant,
            flow=target.flow,
            schedule=target.schedule,
            tick_variables=decision.variables,
            backfill=backfill,
            batch=batch,
            error=decision.reason if decision.action == FAIL else None,
        )
        if failed:
            # ended at once: nothing to wait for; stopAfter applies now (Kestra's reset)
            row.disabled = row.disabled or State.FAILED.value in target.schedule.stop_after
        else:
            row.execution_id = snap.id
    row.warning = decision.reason if decision.action == FAIL else ""
    row.last_date = decision.tick or row.last_date
    row.next_date = decision.next_date
    if backfill is not None:
        row.backfill = decision.backfill


def _update_rows(rows: list[Trigger], fields: list[str]) -> None:
    """Write `fields` of every row in one statement. Django's `bulk_update` builds a CASE per
    field and row, which costs seconds of Python for a batch of a few hundred; PostgreSQL
    takes the new values as arrays (`UPDATE ... FROM unnest(...)`), other databases one
    pipelined statement per row."""
    model = Trigger._meta
    columns = [model.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table, key = quote(model.db_table), quote(model.pk.column)
    if connection.vendor == "postgresql":
        values = [[row.pk for row in rows]]
        casts = [f"%s::{model.pk.db_type(connection)}[]"]
        assignments = []
        for column in columns:
            name = quote(column.column)
            if column.get_internal_type() == "JSONField":  # sent as text, read back as jsonb
                values.append([_json_text(getattr(row, column.attname)) for row in rows])
                casts.append("%s::text[]")
                assignments.append(f"{name} = v.{name}::jsonb")
            else:
                values.append([getattr(row, column.attname) for row in rows])
                casts.append(f"%s::{column.db_type(connection)}[]")
                assignments.append(f"{name} = v.{name}")
        names = ", ".join([key, *(quote(column.column) for column in columns)])
        statement = (  # names from the model, values as parameters
            f"UPDATE {table} AS t SET {', '.join(assignments)} "  # noqa: S608
            f"FROM unnest({', '.join(casts)}) AS v({names}) WHERE t.{key} = v.{key}"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, values)
        return
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    statement = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608
    params = [
        [column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, params)


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _execution_states(rows: Iterable[Trigger]) -> dict[str, str]:
    ids = [row.execution_id for row in rows if row.execution_id]
    if not ids:
        return {}
    return dict(Execution.all_tenants.filter(pk__in=ids).values_list("id", "state"))


def _release(row: Trigger, schedule: Schedule, state: str | None) -> None:
    """The trigger's execution ended (`state`) or is gone (None): release the lock; an end
    state listed in `stopAfter` disables the trigger. (Kestra's `resetExecution` re-enables a
    trigger a person disabled when the state is not listed; Aviary keeps it disabled.)"""
    if state is not None and state in schedule.stop_after:
        row.disabled = True
        log.info(
            "trigger %s.%s.%s disabled: its execution %s ended %s (stopAfter)",
            row.namespace,
            row.flow_id,
            row.trigger_id,
            row.execution_id,
            state,
        )
    row.execution_id = ""


def schedule_locks_release(*, limit: int = 500) -> int:
    """Release the Schedule triggers whose execution ended, applying `stopAfter`, without
    waiting for their next tick (the triggers page shows them free, or disabled, at once).
    Returns how many were released."""
    with transaction.atomic():
        locked = Trigger.all_tenants.filter(kind=SCHEDULE).exclude(execution_id="")
        rows = _claim(locked.exclude(_running()), limit)
        if not rows:
            return 0
        targets = _targets(rows)
        states = _execution_states(rows)
        changed = timezone.now()
        for row in rows:
            target = targets.get(row.pk)
            if isinstance(target, Target):
                _release(row, target.schedule, states.get(row.execution_id))
            else:
                row.execution_id = ""
            row.updated_at = changed
        _update_rows(rows, ["execution_id", "disabled", "updated_at"])
    return len(rows)


def schedules_recover_missed(*, now: datetime | None = None) -> int:
    """At scheduler start (Kestra: when its scheduler starts), apply each trigger's
    `recoverMissedSchedules` to the ticks missed while no scheduler ran: `LAST` keeps only
    the latest, `NONE` none. Ticks due within `MISSED_GRACE` are left to the running
    schedulers. Returns how many triggers moved."""
    now = now or timezone.now()
    moved = 0
    with transaction.atomic():
        rows = _claim(_due(now - MISSED_GRACE).filter(backfill__isnull=True), 100_000)
        targets = _targets(rows)
        for row in rows:
            target = targets.get(row.pk)
            if not isinstance(target, Target):
                continue
            conditions = conditions_of(target.tenant, target.flow)
            wanted = recovered_next_date(
                target.schedule, row.next_date, now, conditions, grace=MISSED_GRACE
            )
            if wanted != row.next_date:
                log.info(
                    "trigger %s.%s.%s: recoverMissedSchedules %s moves its next tick from %s to %s",
                    row.namespace,
                    row.flow_id,
                    row.trigger_id,
                    target.schedule.recover,
                    row.next_date,
                    wanted,
                )
                row.next_date = wanted
                row.save(update_fields=["next_date", "updated_at"])
                moved += 1
    return moved


def next_due_date() -> datetime | None:
    """The earliest tick to come among active Schedule triggers (None: none)."""
    rows = Trigger.all_tenants.filter(
        kind=SCHEDULE, disabled=False, spec_disabled=False, next_date__gt=timezone.now()
    )
    return rows.aggregate(earliest=Min("next_date"))["earliest"]


class ScheduleJob:
    """The scheduler process's Schedule triggers: recovers missed ticks once, then runs each
    due tick as soon as it comes (called every 50 ms by its thread; the database is read
    when the earliest known tick comes, and at least once a second for flows saved
    meanwhile and triggers released)."""

    POLL_SECONDS = 0.05

    def __init__(self) -> None:
        self.recovered = False
        self.wake_at = 0.0  # epoch seconds
        send_in_background()

    def __call__(self) -> None:
        if not self.recovered:
            schedules_recover_missed()
            self.recovered = True
        current = time.time()
        if current < self.wake_at:
            if self.wake_at - current > self.POLL_SECONDS:
                return
            time.sleep(self.wake_at - current)  # closer than the loop's tick: be on time
        started = time.monotonic()
        with messages_held():  # sent once the pass is over
            stored = schedules_run_due()
        if stored:
            elapsed = (time.monotonic() - started) * 1000
            log.info("Schedule triggers: %s execution(s) stored in %.0f ms", stored, elapsed)
        upcoming = next_due_date()
        self.wake_at = time.time() + IDLE_SECONDS
        if upcoming is not None:
            self.wake_at = min(self.wake_at, upcoming.timestamp())

    def serve_in_thread(self, stopping: threading.Event) -> threading.Thread:
        """Run until `stopping` is set, in a thread with its own database connection. A
        failure is logged and retried at the next call, like the loop's jobs."""

        def serve() -> None:
            log.info("Schedule triggers: running")
            while not stopping.is_set():
                try:
                    self()
                except Exception:  # a broken pass must not stop the schedules
                    log.exception("Schedule triggers: the pass failed")
                    close_old_connections()  # closes a connection left unusable
                stopping.wait(self.POLL_SECONDS)
            connection.close()

        thread = threading.Thread(target=serve, name="schedule-triggers", daemon=True)
        thread.start()
        return thread
