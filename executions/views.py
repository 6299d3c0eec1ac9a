"""Execution pages: the list with its filter bar, a flow's Executions tab, the launch form of
a flow, and the execution page whose running parts follow the execution (htmx fetches a
fragment on each event of the page's stream, views_follow.py, and stops once the execution
has ended). Thin: read the request, call a selector or the service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services as account_services
from accounts.models import SavedSearch
from accounts.selectors import saved_search_list
from executions import deletion, page_selectors, services
from executions.action_selectors import execution_actions
from executions.engine.restart import STATUS_STATES
from executions.forms import (
    RANGE_CHOICES,
    ExecutionFilterForm,
    LaunchForm,
    SavedSearchForm,
    filter_query_string,
)
from executions.lifecycle_selectors import execution_controls
from executions.page_selectors import LEVELS, STATES, ExecutionQuery
from flows.selectors import flow_get
from tenants.errors import AviaryError, Conflict, Unprocessable
from tenants.models import Tenant
from tenants.views_base import tenant_page

DEFAULT_LEVEL = "INFO"


@tenant_page
def execution_list(request: HttpRequest) -> HttpResponse:
    context, status = _list_context(request)
    context.update(_saved_searches(request, request.GET, SavedSearchForm()))
    return render(request, "executions/list.html", context, status=status)


@tenant_page
def flow_executions(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    flow = flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    context, status = _list_context(request, namespace=namespace, flow_id=flow_id)
    chart = page_selectors.daily_chart(
        tenant=tenant,
        now=timezone.now(),
        list_url=request.path,
        namespace=namespace,
        flow_id=flow_id,
    )
    context.update(flow=flow, tab="executions", chart=chart)
    return render(request, "executions/flow_executions.html", context, status=status)


@tenant_page
@require_http_methods(["GET", "POST"])
def flow_execute(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    flow = flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    definitions = list(flow.spec.get("inputs") or [])
    error = None
    if request.method == "POST":
        form = LaunchForm(definitions, request.POST, request.FILES)
        if form.is_valid():
            try:
                execution = services.execution_create(
                    tenant=tenant,
                    namespace=namespace,
                    flow_id=flow_id,
                    provided=form.provided(),
                    labels=form.cleaned_data["labels"],
                )
            except Unprocessable as caught:
                form.add_violations(caught.violations)
                error = caught
            except AviaryError as caught:  # Conflict: the flow is disabled
                error = caught
            else:
                messages.success(request, f"Execution {execution.id} created.")
                return redirect("executions:detail", tenant=tenant.slug, execution_id=execution.id)
        status = error.status if error else 422
    else:
        form = LaunchForm(definitions)
        status = 200
    context = {"flow": flow, "form": form, "error": error, "tab": "execute"}
    return render(request, "executions/launch.html", context, status=status)


@tenant_page
def execution_detail(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    context = _live_context(request, execution_id)
    execution = context["live"].execution
    definitions = page_selectors.execution_input_definitions(tenant=tenant, execution=execution)
    context["inputs"] = page_selectors.execution_input_items(
        execution=execution, definitions=definitions
    )
    context["levels"] = LEVELS
    return render(request, "executions/detail.html", context)


@tenant_page
def execution_live(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The fragments of the execution page that change while it runs (htmx swaps them)."""
    return render(request, "executions/live.html", _live_context(request, execution_id))


def _list_context(
    request: HttpRequest, params: QueryDict | None = None, **fixed: str
) -> tuple[dict[str, object], int]:
    """The list with the filters in `params` (the request's query string by default)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    params = request.GET if params is None else params
    form = ExecutionFilterForm(params or None)
    query = form.to_query(**fixed) if form.is_valid() else ExecutionQuery(**fixed)
    page = page_selectors.execution_page(
        tenant=tenant, query=query, page=_int(params.get("page"), 1), now=timezone.now()
    )
    context = {
        "form": form,
        "page": page,
        "filtered": query != ExecutionQuery(**fixed),
        "query_string": _without_page(params),
        "states": STATES,
        "bulk_statuses": [state.value for state in STATUS_STATES],
        "selected_states": form.selected_states(),
        "range_choices": RANGE_CHOICES,
        "flow_filters": not fixed,
    }
    status = 422 if form.is_bound and not form.is_valid() else 200
    return context, status


@tenant_page
@require_POST
def saved_search_save(request: HttpRequest) -> HttpResponse:
    """The filter bar's "Save search": the filters (a hidden field) under a name. A name
    already taken asks first; the "Replace it" button posts again with `replace`."""
    tenant = request.tenant  # type: ignore[attr-defined]
    form = SavedSearchForm(request.POST)
    params = QueryDict(filter_query_string(QueryDict(request.POST.get("query", ""))))
    status = 422
    if form.is_valid() and not ExecutionFilterForm(params).is_valid():
        form.add_error(None, "Fix the filters before saving them.")
    elif form.is_valid():
        try:
            search, created = account_services.saved_search_save(
                tenant=tenant,
                user=request.user,  # type: ignore[arg-type]
                page=SavedSearch.Page.EXECUTIONS,
                name=form.cleaned_data["name"],
                query=params.urlencode(),
                replace=form.cleaned_data["replace"],
            )
        except Conflict as error:
            form.add_error("name", _sentence(error.message))
            form.name_taken = True  # type: ignore[attr-defined]
            status = error.status
        except Unprocessable as error:
            for violation in error.violations:
                field = violation.path if violation.path == "name" else None
                form.add_error(field, _sentence(violation.message))
        else:
            verb = "saved" if created else "replaced"
            messages.success(request, f"Search “{search.name}” {verb}.")
            return redirect(f"{_list_url(tenant)}?{search.query}")
    context, _ = _list_context(request, params)
    context.update(_saved_searches(request, params, form))
    return render(request, "executions/list.html", context, status=status)


@tenant_page
@require_POST
def saved_search_delete(request: HttpRequest, search_id: int) -> HttpResponse:
    """Delete one of the user's saved searches, back to the list as it was filtered."""
    tenant = request.tenant  # type: ignore[attr-defined]
    search = account_services.saved_search_delete(
        tenant=tenant,
        user=request.user,  # type: ignore[arg-type]
        search_id=search_id,
    )
    messages.success(request, f"Saved search “{search.name}” deleted.")
    shown = filter_query_string(QueryDict(request.POST.get("shown", "")))
    return redirect(f"{_list_url(tenant)}?{shown}" if shown else _list_url(tenant))


def _saved_searches(
    request: HttpRequest, params: QueryDict, form: SavedSearchForm
) -> dict[str, object]:
    """The user's saved searches of the list, and the form saving the filters shown."""
    searches = saved_search_list(
        tenant=request.tenant,  # type: ignore[attr-defined]
        user=request.user,  # type: ignore[arg-type]
        page=SavedSearch.Page.EXECUTIONS,
    )
    shown = filter_query_string(params)
    return {"saved_searches": searches, "save_form": form, "shown_query": shown}


def _list_url(tenant: Tenant) -> str:
    return reverse("executions:list", kwargs={"tenant": tenant.slug})


def _sentence(message: str) -> str:
    """A service's message ("a name is required") as the page shows it."""
    return f"{message[:1].upper()}{message[1:]}."


def _live_context(request: HttpRequest, execution_id: str) -> dict[str, object]:
    tenant = request.tenant  # type: ignore[attr-defined]
    level = request.GET.get("level") or DEFAULT_LEVEL
    level = level if level in LEVELS else DEFAULT_LEVEL
    search = request.GET.get("q", "")[:200]
    live = page_selectors.execution_live(
        tenant=tenant, execution_id=execution_id, min_level=level, q=search, now=timezone.now()
    )
    params = urlencode({"level": level, "q": search} if search else {"level": level})
    live_url = reverse(
        "executions:live", kwargs={"tenant": tenant.slug, "execution_id": live.execution.id}
    )
    actions = execution_actions(
        tenant=tenant, execution=live.execution, task_runs=(node.run for node in live.gantt)
    )
    controls = execution_controls(
        tenant=tenant, execution=live.execution, task_runs=(node.run for node in live.gantt)
    )
    return {
        "live": live,
        "level": level,
        "q": search,
        "live_url": f"{live_url}?{params}",
        "actions": actions,
        "controls": controls,
    }


def _without_page(params: QueryDict) -> str:
    pairs = [(key, value) for key, values in params.lists() if key != "page" for value in values]
    encoded = urlencode(pairs)
    return f"{encoded}&" if encoded else ""


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


@tenant_page
@require_POST
def execution_delete(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The page's Delete button (shown once the execution has ended): rows, logs and files."""
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        deletion.execution_delete(tenant=tenant, execution_id=execution_id)
    except Conflict as error:  # it is still running: say so on its page
        messages.error(request, error.message)
        return redirect("executions:detail", tenant=tenant.slug, execution_id=execution_id)
    messages.success(request, f"Execution {execution_id} deleted, with its logs and files.")
    return redirect("executions:list", tenant=tenant.slug)
