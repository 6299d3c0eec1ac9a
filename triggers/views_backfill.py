"""The backfill of a Schedule trigger from the triggers pages: the dialog's form (also a page
of its own, where a refused form comes back with each problem next to its field), pause,
resume, delete, and the progress fragment the row polls while the backfill runs. Thin: the
backfill services (triggers/backfills.py) do the work; the scheduler runs the ticks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenants.errors import Conflict, InvalidInput, Unprocessable, Violation
from tenants.models import Tenant
from tenants.views_base import tenant_page
from triggers import backfills, selectors
from triggers.forms import BackfillForm
from triggers.models import SCHEDULE, Trigger
from triggers.views import back_url, progress_query


def _trigger(request: HttpRequest, namespace: str, flow_id: str, trigger_id: str) -> Trigger:
    return selectors.trigger_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        namespace=namespace,
        flow_id=flow_id,
        trigger_id=trigger_id,
    )


@tenant_page
@require_http_methods(["GET", "POST"])
def backfill_view(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    """GET: the form (what the dialog holds, for a browser without script). POST: start the
    backfill and go back, or show the form again with what to fix (422)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    trigger = _trigger(request, namespace, flow_id, trigger_id)
    back = back_url(request, tenant)
    if trigger.kind != SCHEDULE:
        messages.error(request, f"Trigger {trigger_id} is not a Schedule: it has no backfill.")
        return redirect(back)
    status = 200
    if request.method == "POST":
        form = BackfillForm(trigger, request.POST)
        status = 422
        if form.is_valid():
            try:
                started = backfills.backfill_start(
                    tenant=tenant,
                    trigger=trigger,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                    inputs=form.inputs(),
                    labels=form.cleaned_data["labels"],
                )
            except Unprocessable as error:
                form.add_violations(
                    error.violations or [Violation(error.field or "", error.message)]
                )
            except Conflict as error:  # one runs already (started from elsewhere meanwhile)
                messages.error(request, f"{error.message}.")
                return redirect(back)
            else:
                messages.success(request, _started_message(started))
                return redirect(back)
    else:
        form = BackfillForm(trigger)
    context = {"trigger": trigger, "form": form, "back": back}
    return render(request, "triggers/backfill.html", context, status=status)


@tenant_page
@require_POST
def backfill_pause_view(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    return _control(request, namespace, flow_id, trigger_id, "pause")


@tenant_page
@require_POST
def backfill_resume_view(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    return _control(request, namespace, flow_id, trigger_id, "resume")


@tenant_page
@require_POST
def backfill_delete_view(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    return _control(request, namespace, flow_id, trigger_id, "delete")


def _control(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str, action: str
) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    trigger = _trigger(request, namespace, flow_id, trigger_id)
    try:
        if action == "delete":
            backfills.backfill_delete(tenant=tenant, trigger=trigger)
            done = "deleted: the schedule resumes its own ticks"
        else:
            paused = action == "pause"
            backfills.backfill_set_paused(tenant=tenant, trigger=trigger, paused=paused)
            done = "paused" if paused else "resumed"
    except (InvalidInput, Unprocessable):  # no backfill any more
        messages.info(request, f"Trigger {trigger_id} has no backfill: it ended or was deleted.")
    else:
        messages.success(request, f"Backfill of {trigger_id} {done}.")
    return redirect(back_url(request, tenant))


@tenant_page
def backfill_progress_view(
    request: HttpRequest, namespace: str, flow_id: str, trigger_id: str
) -> HttpResponse:
    """The progress the row polls every second while the backfill runs. Once the scheduler
    has removed the backfill (its last tick ran), the fragment says how many executions ran
    its ticks, from the period the row was shown with (`start`, `end`, `total`)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    trigger = _trigger(request, namespace, flow_id, trigger_id)
    progress = backfills.backfill_progress(trigger)
    context: dict[str, Any] = {
        "trigger": trigger,
        "progress": progress,
        "progress_query": progress_query(trigger, progress),
        "back": back_url(request, tenant),
    }
    if progress is None:
        context["ended"] = _ended(tenant, trigger, request.GET)
    return render(request, "triggers/_backfill_progress.html", context)


def _ended(tenant: Tenant, trigger: Trigger, params: QueryDict) -> dict[str, Any] | None:
    start, end = _moment(params.get("start")), _moment(params.get("end"))
    try:
        total = max(0, min(int(params.get("total") or 0), 1_000_000))
    except ValueError:
        total = 0
    if start is None or end is None:
        return None
    executions = selectors.backfill_executions_count(
        tenant=tenant, trigger=trigger, start=start, end=end, ticks=total
    )
    percent = 100 if total == 0 else min(100, executions * 100 // total)
    return {
        "start": params["start"],  # as the running backfill showed them
        "end": params["end"],
        "total": total,
        "executions": executions,
        "percent": percent,
    }


def _moment(text: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _started_message(trigger: Trigger) -> str:
    progress = backfills.backfill_progress(trigger) or {}
    backfill = trigger.backfill or {}
    ticks = progress.get("total")
    count = f"{ticks} tick{'s' if ticks != 1 else ''}" if ticks is not None else "its ticks"
    return (
        f"Backfill of {trigger.trigger_id} started: {count} from {backfill.get('start')} "
        f"to {backfill.get('end')}."
    )
