"""Trigger pages: the Triggers page (every trigger of the tenant, filterable), a flow's
Triggers tab (its triggers and the executions each started), and the row actions: enable or
disable, unlock; a Schedule's backfill dialog and progress are views_backfill.py's. Thin:
read the request, call a selector or a service, render or redirect back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from flows.selectors import flow_get
from tenants.errors import Conflict
from tenants.models import Tenant
from tenants.views_base import tenant_page
from triggers import backfills, controls, selectors
from triggers.forms import BackfillForm, TriggerFilterForm
from triggers.models import SCHEDULE, Trigger
from triggers.selectors import PreconditionState

PAGE_SIZE = 25


@dataclass
class TriggerRow:
    """What a row of the triggers table shows about one trigger."""

    trigger: Trigger
    preconditions: list[PreconditionState] = field(default_factory=list)
    last: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    progress_query: str = ""
    backfill_form: BackfillForm | None = None
    history: list[Any] = field(default_factory=list)


def trigger_rows(
    tenant: Tenant, triggers: Sequence[Trigger], *, history: bool = False
) -> list[TriggerRow]:
    """Rows for a page of triggers: preconditions and last executions read once for all."""
    states = selectors.precondition_states(tenant=tenant, triggers=triggers, now=timezone.now())
    last = selectors.last_executions(tenant=tenant, triggers=triggers)
    rows = []
    for trigger in triggers:
        row = TriggerRow(
            trigger=trigger, preconditions=states.get(trigger.pk, []), last=last.get(trigger.pk)
        )
        if trigger.kind == SCHEDULE and trigger.backfill is None:
            row.backfill_form = BackfillForm(trigger)
        elif trigger.kind == SCHEDULE:
            row.progress = backfills.backfill_progress(trigger)
            row.progress_query = progress_query(trigger, row.progress)
        if history:
            row.history = selectors.trigger_history(tenant=tenant, trigger=trigger)
        rows.append(row)
    return rows


@tenant_page
def trigger_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = TriggerFilterForm(request.GET or None)
    query = form.to_query() if form.is_valid() else selectors.TriggerQuery()
    triggers = selectors.trigger_search(tenant=tenant, query=query)
    page = Paginator(triggers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "rows": trigger_rows(tenant, list(page.object_list)),
        "filtered": query != selectors.TriggerQuery(),
        "query_string": _without_page(request.GET),
        "back": request.get_full_path(),
    }
    status = 422 if form.is_bound and not form.is_valid() else 200
    return render(request, "triggers/list.html", context, status=status)


@tenant_page
def flow_triggers(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    """A flow's Triggers tab: its triggers with the same actions, and the executions each one
    started, newest first."""
    tenant = request.tenant  # type: ignore[attr-defined]
    flow = flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    triggers = list(selectors.trigger_list_for_flow(tenant=tenant, flow=flow))
    context = {
        "flow": flow,
        "tab": "triggers",
        "rows": trigger_rows(tenant, triggers, history=True),
        "back": request.get_full_path(),
        "history_size": selectors.HISTORY_SIZE,
    }
    return render(request, "triggers/flow_triggers.html", context)


@tenant_page
@require_POST
def trigger_disabled_view(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    """The row's Enabled switch: posts `disabled=true|false`."""
    tenant = request.tenant  # type: ignore[attr-defined]
    trigger = selectors.trigger_get(
        tenant=tenant, namespace=namespace, flow_id=flow_id, trigger_id=trigger_id
    )
    disabled = request.POST.get("disabled") == "true"
    controls.trigger_set_disabled(tenant=tenant, trigger=trigger, disabled=disabled)
    verb = "disabled" if disabled else "enabled"
    note = ""
    if not disabled and trigger.spec_disabled:
        note = " It stays off while its flow or its YAML says `disabled: true`."
    messages.success(request, f"Trigger {trigger_id} of {namespace}.{flow_id} {verb}.{note}")
    return redirect(back_url(request, tenant))


@tenant_page
@require_POST
def trigger_unlock_view(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    trigger = selectors.trigger_get(
        tenant=tenant, namespace=namespace, flow_id=flow_id, trigger_id=trigger_id
    )
    try:
        controls.trigger_unlock(tenant=tenant, trigger=trigger)
    except Conflict as error:  # unlocked meanwhile: its execution ended
        messages.info(request, f"{error.message}.")
    else:
        messages.success(request, f"Trigger {trigger_id} unlocked: its next tick will run.")
    return redirect(back_url(request, tenant))


def progress_query(trigger: Trigger, progress: dict[str, Any] | None) -> str:
    """What the progress fragment needs to describe the backfill once it has ended and the
    scheduler has removed it: its period and its number of ticks."""
    backfill = trigger.backfill if isinstance(trigger.backfill, dict) else {}
    return urlencode(
        {
            "start": str(backfill.get("start") or ""),
            "end": str(backfill.get("end") or ""),
            "total": str((progress or {}).get("total") or 0),
        }
    )


def back_url(request: HttpRequest, tenant: Tenant) -> str:
    """Where a row action returns: the page it came from (`next`, a path of this tenant's
    pages only), else the triggers page."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
    if safe and wanted.startswith(f"/ui/{tenant.slug}/"):
        return wanted
    return reverse("triggers:list", kwargs={"tenant": tenant.slug})


def _without_page(params: QueryDict) -> str:
    pairs = [(key, value) for key, values in params.lists() if key != "page" for value in values]
    encoded = urlencode(pairs)
    return f"{encoded}&" if encoded else ""
