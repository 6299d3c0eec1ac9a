"""When to send the Flow-trigger evaluator a message: after a commit that wrote transitions,
for tenants that have a Flow trigger (`Tenant.has_flow_triggers`, read from the tenant row the
caller already holds: no query). The scheduler sweeps every transition anyway, so a stale
row only delays the evaluation. And the tenant's `flow_triggers_version`, which tells the
evaluators that their in-memory copy of its Flow triggers is out of date."""

from __future__ import annotations

from django.db.models import F

from tenants.models import Tenant
from triggers.models import FLOW, Trigger


def flag_sync(tenant: Tenant) -> None:
    """Set `has_flow_triggers` after the tenant's triggers changed."""
    has = Trigger.objects.for_tenant(tenant).filter(kind=FLOW).exists()
    if has != tenant.has_flow_triggers:
        Tenant.objects.filter(pk=tenant.pk).update(has_flow_triggers=has)
        tenant.has_flow_triggers = has


def transitions_committed(tenant: Tenant) -> None:
    if tenant.has_flow_triggers:
        from triggers.tasks import evaluate_flow_triggers

        evaluate_flow_triggers.delay()


def flow_triggers_changed(tenant: Tenant) -> None:
    """A Flow trigger of the tenant was added, changed, enabled, disabled or removed: in the
    transaction of that change, so that an evaluator reading the new version finds it."""
    Tenant.objects.filter(pk=tenant.pk).update(flow_triggers_version=F("flow_triggers_version") + 1)
