"""When to send the Flow-trigger evaluator a message: after a commit that wrote transitions,
for tenants that have a Flow trigger (`Tenant.has_flow_triggers`, read from the tenant row the
caller already holds: no query). The scheduler sweeps every transition anyway, so a stale
row only delays the evaluation."""

from __future__ import annotations

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
