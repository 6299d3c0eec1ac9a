"""Upstream flows that a Flow trigger's `preconditions` name but that do not exist. Kestra
accepts them (the flow may be deployed later), so they are warnings: returned by the
validate API and kept on the trigger row for the triggers page, refreshed whenever the
trigger's flow or a flow it names is saved or deleted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flows.models import Flow
from tenants.errors import Violation
from tenants.models import Tenant
from triggers.models import FLOW, FlowTriggerKey, Trigger


def named_upstreams(trigger: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    """(path, index, namespace, flow id) of each `preconditions.flows` entry with a flow id."""
    preconditions = trigger.get("preconditions")
    if not isinstance(preconditions, dict):
        return []
    named = []
    for index, entry in enumerate(preconditions.get("flows") or []):
        if isinstance(entry, dict) and entry.get("namespace") and entry.get("flowId"):
            path = f"preconditions.flows[{index}]"
            named.append((path, index, str(entry["namespace"]), str(entry["flowId"])))
    return named


def missing_upstreams(tenant: Tenant, spec: dict[str, Any]) -> list[Violation]:
    """Warnings for the flow `spec` about to be saved (paths from the flow's root)."""
    found = []
    for index, trigger in enumerate(spec.get("triggers") or []):
        if not isinstance(trigger, dict):
            continue
        for path, _, namespace, flow_id in named_upstreams(trigger):
            if not _exists(tenant, namespace, flow_id, spec):
                found.append(Violation(f"triggers[{index}].{path}", _message(namespace, flow_id)))
    return found


def refresh(tenant: Tenant, rows: Iterable[Trigger]) -> None:
    """Recompute the `warning` of these Flow trigger rows."""
    for row in rows:
        if row.kind != FLOW:
            continue
        problems = [
            f"{path}: {_message(namespace, flow_id)}"
            for path, _, namespace, flow_id in named_upstreams(row.spec)
            if not _exists(tenant, namespace, flow_id)
        ]
        warning = "\n".join(problems)
        if warning != row.warning:
            row.warning = warning
            Trigger.objects.for_tenant(tenant).filter(pk=row.pk).update(warning=warning)


def naming(tenant: Tenant, namespace: str, flow_id: str) -> list[Trigger]:
    """The Flow triggers whose index keys name this flow."""
    ids = FlowTriggerKey.objects.for_tenant(tenant).filter(namespace=namespace, flow_id=flow_id)
    return list(
        Trigger.objects.for_tenant(tenant).filter(pk__in=ids.values("trigger_id"), kind=FLOW)
    )


def _exists(tenant: Tenant, namespace: str, flow_id: str, saving: dict | None = None) -> bool:
    if saving is not None and (saving.get("namespace"), saving.get("id")) == (namespace, flow_id):
        return True
    return (
        Flow.objects.for_tenant(tenant)
        .filter(namespace__name=namespace, flow_id=flow_id, deleted=False)
        .exists()
    )


def _message(namespace: str, flow_id: str) -> str:
    return (
        f"flow {namespace}.{flow_id} does not exist (yet): this precondition cannot be met "
        "until it is created"
    )
