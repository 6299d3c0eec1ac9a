"""Webhook triggers (`io.kestra.plugin.core.trigger.Webhook`): an HTTP call to
`/api/v1/{tenant}/executions/webhook/{namespace}/{flowId}/{key}` starts the flow.

There is no login: the key is the secret. It is found among the flow's webhook trigger rows
(kept in step with every flow save by `triggers_sync`), each key rendered first (it may be
`{{ secret('X') }}`) and compared in constant time. Everything that can go wrong before a
matching key is found answers the same kind of 404 Kestra gives, so a caller without the
key learns only whether the flow exists (as in Kestra).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings

from executions import services as execution_services
from executions.adapters import TenantKV, secret_lookup
from executions.engine.rendering import RenderError, Templates, expressions_renderer
from executions.engine.services import EngineServices
from executions.models import Execution
from flows.models import Flow
from flows.selectors import flow_get
from flows.spec import flow_labels
from tenants.errors import NotFound, Violation
from tenants.models import Tenant
from tenants.selectors import tenant_find
from triggers import rate_limits
from triggers.engine.conditions import ConditionContext, ConditionError, conditions_pass
from triggers.engine.webhook import KEY_MAX_LENGTH, WebhookCall, trigger_variables, waits
from triggers.models import WEBHOOK, Trigger

log = logging.getLogger("aviary.triggers")

FLOW_NOT_FOUND = "Flow not found"  # Kestra's messages
WEBHOOK_NOT_FOUND = "Webhook not found"


@dataclass(frozen=True)
class Webhook:
    """The flow and the trigger a key opened."""

    tenant: Tenant
    flow: Flow
    trigger: Trigger


def webhook_find(*, tenant_slug: str, namespace: str, flow_id: str, key: str) -> Webhook:
    """The webhook trigger of the flow whose rendered key is `key`. An unknown tenant or flow
    is "Flow not found"; a flow without such a key, or a key whose trigger or flow is
    disabled, "Webhook not found" (a disabled webhook stays as closed as a wrong key)."""
    tenant = tenant_find(slug=tenant_slug)
    if tenant is None:
        raise NotFound(FLOW_NOT_FOUND)
    try:
        flow = flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    except NotFound:
        raise NotFound(FLOW_NOT_FOUND) from None
    rows = Trigger.objects.for_tenant(tenant).filter(flow_row=flow, kind=WEBHOOK)
    matched = None
    if len(key) <= KEY_MAX_LENGTH:
        for row in rows.order_by("trigger_id"):
            rendered = _rendered_key(tenant, flow, row)
            # constant time: the comparison must not tell how much of a guess was right
            if rendered is not None and hmac.compare_digest(rendered.encode(), key.encode()):
                matched = matched or row
    if matched is None or flow.disabled or not matched.active:
        raise NotFound(WEBHOOK_NOT_FOUND)
    return Webhook(tenant, flow, matched)


def _rendered_key(tenant: Tenant, flow: Flow, row: Trigger) -> str | None:
    """The key as the flow declares it, rendered and trimmed; None when it cannot be
    rendered (Kestra ignores that trigger and logs why)."""
    template = row.spec.get("key")
    if not isinstance(template, str):
        return None
    variables = {"flow": _flow_variables(tenant, flow), "trigger": _trigger_identity(row)}
    try:
        rendered = _templates(tenant, flow, variables).render(template)
    except RenderError as error:
        log.warning("webhook %s: key not rendered, trigger ignored: %s", row, error)
        return None
    return str(rendered).strip()


def webhook_rate_check(webhook: Webhook) -> rate_limits.Decision:
    """Count this call against the flow's limit (`AVIARY["WEBHOOK_RATE_LIMIT"]` calls per
    `WEBHOOK_RATE_WINDOW_SECONDS`, 0: no limit). Only calls that gave the right key count,
    so strangers cannot use up a flow's allowance."""
    limit = int(settings.AVIARY["WEBHOOK_RATE_LIMIT"])
    if limit <= 0:
        return rate_limits.Decision(True, 0, 1)
    return rate_limits.hit(
        f"webhook:{webhook.tenant.pk}:{webhook.flow.pk}",
        limit=limit,
        window=int(settings.AVIARY["WEBHOOK_RATE_WINDOW_SECONDS"]),
    )


def webhook_execute(*, webhook: Webhook, call: WebhookCall) -> Execution | None:
    """Start the flow for this call, or None when the trigger's conditions do not all pass
    (a condition that cannot be evaluated counts as false and is logged, as in Kestra).
    Inputs are the trigger's `inputs` rendered with `trigger.body/headers/parameters` and
    checked like the API's; an invalid one gives a FAILED execution that says why. Labels
    are the flow's plus the trigger's own, rendered (corrections 6 and 16)."""
    tenant, flow, row = webhook.tenant, webhook.flow, webhook.trigger
    variables = {
        "flow": _flow_variables(tenant, flow),
        "trigger": trigger_variables(call),
        "labels": {item["key"]: item["value"] for item in flow_labels(flow.spec)},
    }
    templates = _templates(tenant, flow, variables)
    if not _conditions_pass(webhook, variables):
        return None
    inputs, problems = _inputs(row.spec.get("inputs"), templates)
    execution = execution_services.execution_create(
        tenant=tenant,
        namespace=flow.namespace.name,
        flow_id=flow.flow_id,
        provided=inputs,
        labels=_labels(row, templates),
        trigger={**_trigger_identity(row), "variables": variables["trigger"]},
        invalid_inputs_fail=True,
        problems=problems,
    )
    if waits(row.spec):
        timeout = timedelta(seconds=int(settings.AVIARY["WEBHOOK_WAIT_SECONDS"]))
        execution = execution_services.wait_for_terminal(
            tenant=tenant, execution_id=execution.id, timeout=timeout
        )
    return execution


def _conditions_pass(webhook: Webhook, variables: Mapping[str, Any]) -> bool:
    conditions = webhook.trigger.spec.get("conditions") or []
    if not conditions:
        return True
    flow = webhook.flow
    context = ConditionContext(
        # the execution about to start, as Kestra's condition context holds it
        execution={
            "namespace": flow.namespace.name,
            "flowId": flow.flow_id,
            "state": {"current": "CREATED"},
            "labels": flow_labels(flow.spec),
            "outputs": None,
            "taskRunList": [],
        },
        flow={"namespace": flow.namespace.name, "id": flow.flow_id},
        variables=variables,
        render=lambda template, values: _templates(webhook.tenant, flow, values).render_typed(
            template
        ),
    )
    try:
        return conditions_pass(conditions, context)
    except ConditionError as error:
        log.warning("webhook %s: condition not evaluated, no execution: %s", webhook.trigger, error)
        return False


def _inputs(declared: Any, templates: Templates) -> tuple[dict[str, Any], list[Violation]]:
    inputs: dict[str, Any] = {}
    problems: list[Violation] = []
    for name, value in (declared or {}).items() if isinstance(declared, Mapping) else ():
        try:
            inputs[name] = templates.render_value(value)
        except RenderError as error:
            problems.append(Violation(f"inputs.{name}", f"cannot be rendered: {error}"))
    return inputs, problems


def _labels(row: Trigger, templates: Templates) -> list[tuple[str, str]]:
    """The trigger's own labels, rendered; one that fails to render is left out (Kestra's
    LabelService.fromTrigger), and system labels are not the trigger's to set."""
    labels = []
    for item in flow_labels(row.spec):
        if item["key"].startswith("system."):
            continue
        try:
            labels.append((item["key"], str(templates.render(item["value"]))))
        except RenderError as error:
            log.warning("webhook %s: label %s not rendered: %s", row, item["key"], error)
    return labels


def _flow_variables(tenant: Tenant, flow: Flow) -> dict[str, Any]:
    return {
        "id": flow.flow_id,
        "namespace": flow.namespace.name,
        "revision": flow.revision,
        "tenantId": tenant.slug,
    }


def _trigger_identity(row: Trigger) -> dict[str, Any]:
    return {"id": row.trigger_id, "type": row.type}


def _templates(tenant: Tenant, flow: Flow, variables: Mapping[str, Any]) -> Templates:
    """Rendering with the flow's namespace behind secret() and kv()."""
    services = EngineServices(
        kv_store=TenantKV(tenant, flow.namespace.name), secrets=secret_lookup(tenant)
    )
    return expressions_renderer(variables, services)
