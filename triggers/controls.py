"""What people do to trigger rows from the triggers page and the API: disable and enable
them, unlock a Schedule held by its execution. Each write locks the row first: the scheduler
writes the same rows (next tick, lock, backfill), and only the fields named here change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tenants.errors import Conflict, NotFound
from tenants.models import Tenant
from triggers import dispatch
from triggers.engine.cron import CronError
from triggers.engine.schedule import recovered_next_date
from triggers.models import FLOW, SCHEDULE, Trigger
from triggers.schedule_executions import FlowInfo
from triggers.scheduler import conditions_of, schedule_of

TriggerKey = tuple[str, str, str]  # (namespace, flow id, trigger id)


@transaction.atomic
def trigger_set_disabled(*, tenant: Tenant, trigger: Trigger, disabled: bool) -> Trigger:
    """Disable or enable the trigger (Kestra's trigger context `disabled`); the YAML's own
    `disabled` stays as written. Enabling a Schedule again applies its
    `recoverMissedSchedules` to the ticks missed meanwhile, as Kestra does."""
    row = _locked(tenant, trigger.pk)
    _apply_disabled(tenant, row, disabled, timezone.now())
    return row


@transaction.atomic
def triggers_set_disabled(*, tenant: Tenant, keys: Iterable[TriggerKey], disabled: bool) -> int:
    """The same for several triggers, all or none: an unknown one is a NotFound naming it and
    nothing changes. Returns how many triggers were named."""
    wanted = list(dict.fromkeys(keys))
    rows = {
        (row.namespace, row.flow_id, row.trigger_id): row
        for row in Trigger.objects.for_tenant(tenant)
        .select_for_update()
        .filter(flow_row__deleted=False)
        .filter(namespace__in={k[0] for k in wanted}, flow_id__in={k[1] for k in wanted})
        .order_by("pk")
    }
    for key in wanted:
        if key not in rows:
            namespace, flow_id, trigger_id = key
            raise NotFound(f"Trigger {trigger_id} of flow {namespace}.{flow_id} not found")
    now = timezone.now()
    for key in wanted:
        _apply_disabled(tenant, rows[key], disabled, now)
    return len(wanted)


@transaction.atomic
def trigger_unlock(*, tenant: Tenant, trigger: Trigger) -> Trigger:
    """Forget the execution that holds a Schedule trigger (Kestra's unlock), so its next tick
    runs even though that execution has not ended, e.g. one stuck or deleted."""
    row = _locked(tenant, trigger.pk)
    if not row.execution_id:
        raise Conflict(
            f"Trigger {row.trigger_id} of flow {row.namespace}.{row.flow_id} is not locked: "
            "no execution it started is running"
        )
    row.execution_id = ""
    row.save(update_fields=["execution_id", "updated_at"])
    return row


def _locked(tenant: Tenant, pk: int) -> Trigger:
    row = Trigger.objects.for_tenant(tenant).select_for_update().filter(pk=pk).first()
    if row is None:  # deleted with its flow since it was read
        raise NotFound("Trigger not found")
    return row


def _apply_disabled(tenant: Tenant, row: Trigger, disabled: bool, now: datetime) -> None:
    if row.disabled == disabled:
        return
    fields = ["disabled", "updated_at"]
    missed = row.next_date is not None and row.next_date < now
    if not disabled and row.kind == SCHEDULE and missed and row.backfill is None:
        row.next_date = _recovered_next_date(tenant, row, now)
        fields.append("next_date")
    row.disabled = disabled
    row.save(update_fields=fields)
    if row.kind == FLOW:
        dispatch.flow_triggers_changed(tenant)


def _recovered_next_date(tenant: Tenant, row: Trigger, now: datetime) -> datetime | None:
    """The tick to run next when a Schedule comes back with ticks missed: every one of them
    (`ALL`, Kestra's default), only the latest (`LAST`), or none (`NONE`): the scheduler's
    rule for ticks missed while no scheduler ran."""
    try:
        schedule = schedule_of(row)
    except CronError:  # the sync and the scheduler report it; nothing to move
        return row.next_date
    flow = row.flow_row
    info = FlowInfo.of(
        pk=flow.pk,
        namespace=row.namespace,
        flow_id=row.flow_id,
        revision=flow.revision,
        spec=flow.spec,
    )
    return recovered_next_date(schedule, row.next_date, now, conditions_of(tenant, info))
