"""Writes of trigger rows. `triggers_sync` runs in the transaction of every flow save or
delete, so the rows always describe the flow's current revision."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from flows.models import Flow
from flows.tasktypes import registry
from tenants.models import Tenant
from triggers import dispatch, schedules, upstreams
from triggers.engine.keys import match_keys
from triggers.models import FLOW, SCHEDULE, WEBHOOK, FlowTriggerKey, Trigger

KIND_OF_TYPE = {
    "io.kestra.plugin.core.trigger.Schedule": SCHEDULE,
    "io.kestra.plugin.core.trigger.Flow": FLOW,
    "io.kestra.plugin.core.trigger.Webhook": WEBHOOK,
}


def kind_of(type_name: Any) -> str | None:
    """The kind of a trigger type (canonical name or legacy alias); None for other types."""
    known = registry.get(type_name)
    return KIND_OF_TYPE.get(known.name) if known is not None else None


def triggers_sync(*, tenant: Tenant, flow: Flow) -> None:
    """Make the flow's trigger rows match its current revision. A trigger that keeps its id
    and kind keeps its state (next tick, backfill, disabled from the API); a Schedule whose
    cron or time zone changed starts again from now; removed triggers, and every trigger of
    a deleted flow, are deleted with their state."""
    rows = Trigger.objects.for_tenant(tenant)
    # locked: the scheduler moves these rows on (next tick, lock, backfill) meanwhile, and a
    # save of a copy read before its commit would bring a tick back
    existing = {row.trigger_id: row for row in rows.select_for_update().filter(flow_row=flow)}
    wanted = {} if flow.deleted else _declared(flow.spec)
    if any(row.kind == FLOW for row in existing.values()) or any(
        kind == FLOW for kind, _ in wanted.values()
    ):
        dispatch.flow_triggers_changed(tenant)
    stale = [row.pk for key, row in existing.items() if key not in wanted]
    if stale:
        rows.filter(pk__in=stale).delete()
    now = timezone.now()
    for trigger_id, (kind, spec) in wanted.items():
        row = existing.get(trigger_id)
        if row is not None and row.kind != kind:
            row.delete()
            row = None
        fresh = row is None
        if fresh:
            row = Trigger(tenant=tenant, flow_row=flow, trigger_id=trigger_id, kind=kind)
        retimed = kind == SCHEDULE and (fresh or _timing(row.spec) != _timing(spec))
        row.namespace = flow.namespace.name
        row.flow_id = flow.flow_id
        row.type = str(spec.get("type"))
        row.spec = spec
        row.flow_revision = flow.revision
        row.spec_disabled = bool(flow.disabled or spec.get("disabled") is True)
        if retimed:
            row.next_date = schedules.first_next_date(spec, now, flow.spec.get("pluginDefaults"))
        row.save()
        if kind == FLOW:
            _index(tenant, row)
    # this flow's own Flow triggers, and those naming it (it may just have come or gone)
    named = upstreams.naming(tenant, flow.namespace.name, flow.flow_id)
    upstreams.refresh(tenant, [*rows.filter(flow_row=flow, kind=FLOW), *named])
    dispatch.flag_sync(tenant)


def _declared(spec: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    declared = {}
    for trigger in spec.get("triggers") or []:
        if not isinstance(trigger, dict):
            continue
        kind = kind_of(trigger.get("type"))
        if kind is not None and isinstance(trigger.get("id"), str):
            declared[trigger["id"]] = (kind, trigger)
    return declared


def _timing(spec: dict[str, Any]) -> tuple[Any, ...]:
    return (spec.get("cron"), spec.get("withSeconds"), spec.get("timezone"))


def _index(tenant: Tenant, row: Trigger) -> None:
    keys = FlowTriggerKey.objects.for_tenant(tenant)
    keys.filter(trigger=row).delete()
    keys.bulk_create(
        FlowTriggerKey(tenant=tenant, trigger=row, namespace=ns, flow_id=fid, state=state)
        for ns, fid, state in match_keys(row.spec)
    )
