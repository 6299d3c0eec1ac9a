"""The execution page's Pause, Resume, Start now (a queued one) and Kill buttons (each asks
first, in the browser), and the resume form of a paused Pause task's `onResume` inputs. Thin:
call the service, say what happened; invalid `onResume` values come back next to their
fields (422)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from executions import lifecycle
from executions.lifecycle_selectors import resume_form_for
from executions.selectors import execution_get
from tenants.errors import Conflict, Unprocessable
from tenants.views_base import tenant_page


def _back(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    return redirect("executions:detail", tenant=tenant.slug, execution_id=execution_id)


@tenant_page
@require_POST
def execution_kill_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        lifecycle.execution_kill(tenant=tenant, execution_id=execution_id)
    except Conflict as error:  # it ended meanwhile: said on its page
        messages.error(request, error.message)
    else:
        messages.success(request, f"Execution {execution_id} killed.")
    return _back(request, execution_id)


@tenant_page
@require_POST
def execution_unqueue_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        lifecycle.execution_unqueue(tenant=tenant, execution_id=execution_id)
    except Conflict as error:  # it left the queue meanwhile: said on its page
        messages.error(request, error.message)
    else:
        messages.success(request, f"Execution {execution_id} left the queue: it runs now.")
    return _back(request, execution_id)


@tenant_page
@require_POST
def execution_pause_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        lifecycle.execution_pause(tenant=tenant, execution_id=execution_id)
    except Unprocessable as error:  # no longer running
        messages.error(request, f"Execution {execution_id} cannot be paused: {error.message}.")
    else:
        messages.success(
            request,
            f"Execution {execution_id} paused: running tasks finish, nothing new starts "
            "until you resume it.",
        )
    return _back(request, execution_id)


@tenant_page
@require_http_methods(["GET", "POST"])
def execution_resume_view(request: HttpRequest, execution_id: str) -> HttpResponse:
    """GET: the resume form on a page of its own. POST: resume; invalid `onResume` values
    show that page again with each message next to its field."""
    tenant = request.tenant  # type: ignore[attr-defined]
    execution = execution_get(tenant=tenant, execution_id=execution_id)
    posted = request.method == "POST"
    paused, form = resume_form_for(
        tenant=tenant,
        execution=execution,
        data=request.POST if posted else None,
        files=request.FILES if posted else None,
    )
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.execution_resume(
                tenant=tenant, execution_id=execution_id, provided=form.provided()
            )
        except Unprocessable as caught:
            form.add_violations(caught.violations)
            error = caught
        except Conflict as caught:  # not paused (any more)
            messages.error(request, caught.message)
            return _back(request, execution_id)
        else:
            messages.success(request, f"Execution {execution_id} resumed.")
            return _back(request, execution_id)
    elif request.method == "GET" and execution.state != "PAUSED":
        messages.error(request, f"Execution {execution_id} is not paused, it is {execution.state}.")
        return _back(request, execution_id)
    context = {"execution": execution, "paused": paused, "form": form, "error": error}
    status = 200 if request.method == "GET" else 422
    return render(request, "executions/resume.html", context, status=status)
