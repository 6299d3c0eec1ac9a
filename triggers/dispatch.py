"""When to send the Flow-trigger evaluator a message: after a commit that wrote transitions,
for tenants that have at least one enabled Flow trigger (known per process for a second;
the scheduler sweeps every transition anyway, so a stale answer only delays)."""

from __future__ import annotations

from config.ttl_cache import TtlCache
from tenants.models import Tenant
from triggers.models import FLOW, Trigger

_HAS_FLOW_TRIGGERS: TtlCache[bool] = TtlCache(lambda: 1.0)


def has_flow_triggers(tenant: Tenant) -> bool:
    known = _HAS_FLOW_TRIGGERS.get(tenant.pk)
    if known is None:
        known = (
            Trigger.objects.for_tenant(tenant)
            .filter(kind=FLOW, disabled=False, spec_disabled=False)
            .exists()
        )
        _HAS_FLOW_TRIGGERS.put(tenant.pk, known)
    return known


def forget(tenant: Tenant) -> None:
    """A Flow trigger was saved in this process: tell the next commit at once."""
    _HAS_FLOW_TRIGGERS.discard(tenant.pk)


def transitions_committed(tenant: Tenant) -> None:
    if has_flow_triggers(tenant):
        from triggers.tasks import evaluate_flow_triggers

        evaluate_flow_triggers.delay()
