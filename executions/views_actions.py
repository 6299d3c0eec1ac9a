"""The action buttons of the execution page (restart, replay, change a task run's state, the
label editor) and the bulk actions of the executions list with their progress row. Thin:
each form posts here, the service decides, and the page comes back with what happened
(a refusal is shown as the service worded it)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from executions import bulk, page_selectors
from executions.engine.model import Label
from executions.forms import ExecutionFilterForm, filter_query_string, parse_labels
from executions.labels import execution_labels_set
from executions.models import BulkAction
from executions.restart import (
    execution_replay,
    execution_restart,
    parse_state,
    task_run_state_set,
)
from executions.selectors import execution_get
from tenants.errors import AviaryError, Conflict, Forbidden, InvalidInput, Unprocessable
from tenants.views_base import tenant_page

# What a service refuses is said on the page; a missing execution stays a 404.
REFUSALS = (Conflict, Unprocessable, InvalidInput, Forbidden)


def _refused(request: HttpRequest, error: AviaryError) -> None:
    details = "; ".join(str(violation) for violation in error.violations)
    messages.error(request, f"{error.message}{f' ({details})' if details else ''}")


def _detail(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    return redirect("executions:detail", tenant=tenant.slug, execution_id=execution_id)


def _revision(request: HttpRequest, current: str = "") -> int | None:
    raw = request.POST.get("revision", "")
    if not raw or raw == current:
        return None
    if not raw.isdigit():
        raise Unprocessable(f"Pick a revision number, not '{raw[:40]}'", field="revision")
    return int(raw)


@tenant_page
@require_POST
def execution_restart_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        revision = _revision(request, request.POST.get("current_revision", ""))
        row = execution_restart(tenant=tenant, execution_id=execution_id, revision=revision)
    except REFUSALS as error:
        _refused(request, error)
        return _detail(request, execution_id)
    if row.id == execution_id:
        messages.success(request, "Execution restarted: its failed or paused task runs go on.")
    else:
        messages.success(
            request, f"Execution {row.id} created from {execution_id} on revision {revision}."
        )
    return _detail(request, row.id)


@tenant_page
@require_POST
def execution_replay_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    task_run_id = request.POST.get("task_run_id") or None
    try:
        revision = _revision(request, request.POST.get("current_revision", ""))
        row = execution_replay(
            tenant=tenant, execution_id=execution_id, task_run_id=task_run_id, revision=revision
        )
    except REFUSALS as error:
        _refused(request, error)
        return _detail(request, execution_id)
    messages.success(request, f"Execution {row.id} replays execution {execution_id}.")
    return _detail(request, row.id)


@tenant_page
@require_POST
def execution_state_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    execution_get(tenant=tenant, execution_id=execution_id)  # another tenant's: a 404 first
    try:
        state = parse_state(request.POST.get("state", ""))
        task_run_state_set(
            tenant=tenant,
            execution_id=execution_id,
            task_run_id=request.POST.get("task_run_id", ""),
            state=state,
        )
    except REFUSALS as error:
        _refused(request, error)
    else:
        messages.success(request, f"Task run set to {state}: the execution goes on from there.")
    return _detail(request, execution_id)


@tenant_page
@require_POST
def execution_labels_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The label editor: every row with a key is kept, a row cleared is removed."""
    tenant = request.tenant  # type: ignore[attr-defined]
    keys, values = request.POST.getlist("key"), request.POST.getlist("value")
    rows = [(key.strip(), value.strip()) for key, value in zip(keys, values, strict=False)]
    labels = [Label(key, value) for key, value in rows if key or value]
    try:
        execution_labels_set(
            tenant=tenant, execution_id=execution_id, labels=labels, replace_all=True
        )
    except REFUSALS as error:
        _refused(request, error)
    else:
        messages.success(request, "Labels saved.")
    return _detail(request, execution_id)


# --- the list's bulk actions -------------------------------------------------------------


def _list_url(request: HttpRequest, shown: str, bulk_id: int | None = None) -> str:
    tenant = request.tenant  # type: ignore[attr-defined]
    url = reverse("executions:list", kwargs={"tenant": tenant.slug})
    query = "&".join(part for part in (shown, f"bulk={bulk_id}" if bulk_id else "") if part)
    return f"{url}?{query}" if query else url


@tenant_page
@require_POST
def bulk_start_view(request: HttpRequest) -> HttpResponse:
    """Apply an action to every execution the list's filters match (the `query` field holds
    them), then back to the list, which shows the progress."""
    tenant = request.tenant  # type: ignore[attr-defined]
    params = QueryDict(request.POST.get("query", ""))
    shown = filter_query_string(params)
    form = ExecutionFilterForm(params or None)
    if params and not form.is_valid():
        messages.error(request, "Fix the filters before applying an action to them.")
        return redirect(_list_url(request, shown))
    action = request.POST.get("action", "")
    try:
        parameters = {}
        if action == BulkAction.Action.LABELS:
            pairs = parse_labels(request.POST.get("labels", ""))
            parameters["labels"] = [{"key": key, "value": value} for key, value in pairs]
        elif action == BulkAction.Action.STATUS:
            parameters["status"] = request.POST.get("status", "")
        query = form.to_query() if params else page_selectors.ExecutionQuery()
        rows = page_selectors.execution_search(tenant=tenant, query=query, now=timezone.now())
        started = bulk.bulk_action_start(
            tenant=tenant,
            user=request.user,  # type: ignore[arg-type]
            action=action,
            execution_ids=bulk.ids_of(rows=rows),
            parameters=parameters,
        )
    except REFUSALS as error:
        _refused(request, error)
        return redirect(_list_url(request, shown))
    except ValidationError as error:  # the labels field
        messages.error(request, f"Labels: {' '.join(error.messages)}")
        return redirect(_list_url(request, shown))
    return redirect(_list_url(request, shown, started.pk))


@tenant_page
@require_GET
def bulk_progress_view(request: HttpRequest, bulk_id: str) -> HttpResponse:
    """The progress row of a bulk action (htmx polls it until the action is done)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    found = bulk.bulk_action_get(tenant=tenant, bulk_action_id=bulk_id)
    return render(request, "executions/_bulk_progress.html", {"bulk": found})
