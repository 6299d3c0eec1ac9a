"""Backfills of Schedule triggers (Kestra's `Backfill` on the trigger context, started from the
triggers page or the API): run the ticks of a past period, one execution per tick, with
their own inputs and labels on top of the trigger's.

Stored in `Trigger.backfill` with Kestra's field names (`start`, `end`, `currentDate`,
`paused`, `inputs`, `labels`, `previousNextExecutionDate`) plus `total` and `done` for the
progress. The scheduler walks it (triggers/engine/ticks.py): while it exists the trigger's
normal ticks wait, and they resume at `previousNextExecutionDate` when it ends or is deleted.
Each write locks the trigger row: the scheduler writes the same row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions.engine.inputs import resolve_inputs
from executions.engine.rendering import RenderError, expressions_renderer
from executions.services import engine_services
from tenants.errors import Conflict, InvalidInput, NotFound, Unprocessable, Violation
from tenants.models import Tenant
from triggers.engine.cron import CronError
from triggers.engine.schedule import Schedule, iso, parse_date, plain_variables
from triggers.engine.ticks import count_ticks, first_backfill_tick
from triggers.models import SCHEDULE, Trigger
from triggers.schedule_executions import render_variables
from triggers.scheduler import schedule_of

COUNT_LIMIT = 100_000  # ticks counted exactly for the progress; beyond, estimated by time

Labels = Mapping[str, Any] | Iterable[Mapping[str, Any]] | Iterable[tuple[str, Any]] | None


@transaction.atomic
def backfill_start(
    *,
    tenant: Tenant,
    trigger: Trigger,
    start: datetime | None,
    end: datetime | None = None,
    inputs: Mapping[str, Any] | None = None,
    labels: Labels = None,
) -> Trigger:
    """Start a backfill of the Schedule `trigger` over [start, end] (end: now when not
    given). Unprocessable (422) naming each field for a missing or future start, an end
    before the start or in the future, inputs the flow refuses, system labels; Conflict
    (409) when the trigger has a backfill already."""
    row = _locked(tenant, trigger)
    schedule = _schedule(row)
    now = timezone.now()
    end = end or now
    violations = _period_violations(start, end, now)
    label_list, label_violations = _labels(labels)
    violations += label_violations
    if start is not None and not violations:
        violations += _input_violations(row, schedule, start, dict(inputs or {}))
    if violations or start is None:  # a missing start is one of the violations
        raise Unprocessable("Invalid backfill", violations=violations)
    if row.backfill is not None:
        raise Conflict(
            f"Trigger {row.trigger_id} of flow {row.namespace}.{row.flow_id} has a backfill "
            "already: pause it, or delete it before starting another"
        )
    first = first_backfill_tick(schedule, start)
    total = count_ticks(schedule, start, end, COUNT_LIMIT)
    row.backfill = {
        "start": iso(schedule, start),
        "end": iso(schedule, end),
        "currentDate": iso(schedule, first) if first is not None else None,
        "paused": False,
        "inputs": dict(inputs or {}),
        "labels": label_list,
        "previousNextExecutionDate": iso(schedule, row.next_date) if row.next_date else None,
        "total": total,
        "done": 0,
    }
    row.next_date = first if first is not None and first <= end else now
    row.save(update_fields=["backfill", "next_date", "updated_at"])
    return row


@transaction.atomic
def backfill_set_paused(*, tenant: Tenant, trigger: Trigger, paused: bool) -> Trigger:
    """Pause (nothing runs, the normal ticks still wait) or resume the trigger's backfill.
    InvalidInput (400, Kestra's "No backfill found") when it has none."""
    row = _locked(tenant, trigger)
    backfill = _backfill(row)
    row.backfill = {**backfill, "paused": paused}
    # a paused backfill is not due; resumed, it runs from where it stopped
    row.next_date = None if paused else (parse_date(backfill.get("currentDate")) or row.next_date)
    row.save(update_fields=["backfill", "next_date", "updated_at"])
    return row


@transaction.atomic
def backfill_delete(*, tenant: Tenant, trigger: Trigger) -> Trigger:
    """Drop the trigger's backfill; its normal ticks resume where they were when it started.
    InvalidInput (400) when it has none."""
    row = _locked(tenant, trigger)
    backfill = _backfill(row)
    row.backfill = None
    row.next_date = parse_date(backfill.get("previousNextExecutionDate"))
    if row.next_date is None:
        row.next_date = _next_normal_tick(row)
    row.save(update_fields=["backfill", "next_date", "updated_at"])
    return row


def backfill_progress(trigger: Trigger) -> dict[str, Any] | None:
    """`{total, done, percent, currentDate, end, paused}` of the trigger's backfill (None:
    it has none). `total` counts the ticks from start to end (estimated from the elapsed
    time when there are more than 100,000), `done` those already evaluated."""
    backfill = trigger.backfill
    if not isinstance(backfill, dict):
        return None
    done = int(backfill.get("done") or 0)
    total = backfill.get("total")
    if total is None:
        total = _estimated_total(backfill, done)
    total = max(int(total), done)
    return {
        "total": total,
        "done": done,
        "percent": 100 if total == 0 else min(100, done * 100 // total),
        "currentDate": backfill.get("currentDate"),
        "end": backfill.get("end"),
        "paused": bool(backfill.get("paused")),
    }


def _estimated_total(backfill: Mapping[str, Any], done: int) -> int:
    start, end = parse_date(backfill.get("start")), parse_date(backfill.get("end"))
    current = parse_date(backfill.get("currentDate"))
    if start is None or end is None or current is None or done == 0 or current <= start:
        return max(done, COUNT_LIMIT)
    return int(done * (end - start).total_seconds() / (current - start).total_seconds())


# --- checks ------------------------------------------------------------------------------------


def _locked(tenant: Tenant, trigger: Trigger) -> Trigger:
    row = (
        Trigger.objects.for_tenant(tenant)
        .select_for_update(of=("self",))
        .select_related("tenant", "flow_row", "flow_row__namespace")
        .filter(pk=trigger.pk)
        .first()
    )
    if row is None:
        raise NotFound("Trigger not found")
    if row.kind != SCHEDULE:
        raise Unprocessable(
            f"Trigger {row.trigger_id} is a {row.get_kind_display()} trigger: "
            "only Schedule triggers can be backfilled",
            field="trigger",
        )
    return row


def _schedule(row: Trigger) -> Schedule:
    try:
        return schedule_of(row)
    except CronError as error:
        raise Unprocessable(str(error), field="cron") from error


def _backfill(row: Trigger) -> dict[str, Any]:
    if not isinstance(row.backfill, dict):
        raise InvalidInput("No backfill found", field="backfill")
    return row.backfill


def _next_normal_tick(row: Trigger) -> datetime | None:
    try:
        return schedule_of(row).cron.next(timezone.now())
    except CronError:
        return None


def _period_violations(start: datetime | None, end: datetime, now: datetime) -> list[Violation]:
    violations = []
    if start is None:
        violations.append(Violation("start", "a start date is required"))
    elif start.tzinfo is None:
        violations.append(Violation("start", "the start date needs a time zone or offset"))
    elif start > now:
        violations.append(Violation("start", f"must not be in the future, got {start}"))
    if end.tzinfo is None:
        violations.append(Violation("end", "the end date needs a time zone or offset"))
    elif start is not None and start.tzinfo is not None and end < start:
        violations.append(Violation("end", f"must not be before the start ({start}), got {end}"))
    elif end > now:
        # ticks still to come belong to the schedule itself, which waits during a backfill
        violations.append(Violation("end", f"must not be in the future, got {end}"))
    return violations


def _labels(labels: Labels) -> tuple[list[dict[str, str]], list[Violation]]:
    """`[{key, value}]` from a map, `{key, value}` items or pairs; system labels refused."""
    if labels is None:
        return [], []
    if isinstance(labels, Mapping):
        pairs: list[tuple[Any, Any]] = list(labels.items())
    else:
        pairs = [
            (item.get("key"), item.get("value")) if isinstance(item, Mapping) else tuple(item)
            for item in labels
        ]
    result, violations = [], []
    for index, (key, value) in enumerate(pairs):
        if not key or not isinstance(key, str):
            violations.append(Violation(f"labels[{index}].key", "a label needs a key"))
        elif key.startswith("system."):
            violations.append(
                Violation(
                    f"labels[{index}].key",
                    f"System labels can only be set by Kestra itself, offending label: {key}",
                )
            )
        else:
            result.append({"key": key, "value": "" if value is None else str(value)})
    return result, violations


def _input_violations(
    row: Trigger, schedule: Schedule, start: datetime, inputs: dict[str, Any]
) -> list[Violation]:
    """The backfill's inputs over the trigger's, typed and validated against the flow's
    inputs as the first backfilled execution will be (templates rendered for `start`)."""
    flow = row.flow_row
    variables = render_variables(row.tenant, flow, schedule, plain_variables(schedule, start))
    services = engine_services(tenant=row.tenant, namespace=row.namespace, execution_id="")
    templates = expressions_renderer(variables, services)
    provided: dict[str, Any] = {}
    violations = []
    for source in (schedule.inputs, inputs):
        for key, value in source.items():
            try:
                provided[key] = templates.render_value(value)
            except RenderError as error:
                violations.append(Violation(f"inputs.{key}", f"cannot be rendered: {error}"))
    resolution = resolve_inputs(
        list(flow.spec.get("inputs") or []),
        provided,
        render=lambda template, values: expressions_renderer(values).render_typed(template),
    )
    return violations + list(resolution.violations)
