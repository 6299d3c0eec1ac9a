"""Flow pages: list with filters, the editor (new and existing), revisions with a diff, delete,
import and export. Thin: read the request, call a service or selector, render."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from flows import selectors, services
from flows.archive import import_files
from flows.forms import FlowFilterForm, FlowImportForm
from tenants.errors import AviaryError, Conflict, FlowSpecError
from tenants.views_base import tenant_page

PAGE_SIZE = 25
NEW_FLOW_TEMPLATE = """id: {flow_id}
namespace: {namespace}

tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello World! 🚀
"""


@tenant_page
def flow_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = FlowFilterForm(request.GET or None)
    query = form.to_query() if form.is_valid() else selectors.FlowQuery()
    flows = selectors.flow_search(tenant=tenant, query=query).prefetch_related("label_rows")
    page = Paginator(flows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "filtered": bool(query.q or query.namespace or query.labels),
        "query_string": _without_page(request.GET),
        "import_form": FlowImportForm(),
        "export_url": reverse("flows:export", kwargs={"tenant": tenant.slug})
        + "?"
        + _without_page(request.GET),
    }
    status = 422 if form.is_bound and not form.is_valid() else 200
    return render(request, "flows/list.html", context, status=status)


@tenant_page
@require_http_methods(["GET", "POST"])
def flow_new(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    namespace = request.GET.get("namespace", "company.team")[:150]
    source = _posted_source(request) or NEW_FLOW_TEMPLATE.format(
        flow_id="my-flow", namespace=namespace
    )
    error = None
    if request.method == "POST":
        try:
            flow = services.flow_create(tenant=tenant, user=request.user, source=source)  # type: ignore[arg-type]
        except AviaryError as caught:
            error = caught
        else:
            messages.success(request, f"Flow {flow} created (revision {flow.revision}).")
            return _redirect_to(flow)
    context = {"source": source, "error": error, "flow": None, "tab": "editor"}
    return render(request, "flows/editor.html", context, status=error.status if error else 200)


@tenant_page
@require_http_methods(["GET", "POST"])
def flow_detail(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    flow = selectors.flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    source = flow.source
    error = None
    if request.method == "POST":
        source = _posted_source(request)
        try:
            saved = services.flow_update(
                tenant=tenant,
                user=request.user,  # type: ignore[arg-type]
                namespace=namespace,
                flow_id=flow_id,
                source=source,
            )
        except AviaryError as caught:
            error = caught
        else:
            if saved.revision == flow.revision:
                messages.info(request, "No change: the flow is identical to its last revision.")
            else:
                messages.success(request, f"Flow saved as revision {saved.revision}.")
            return _redirect_to(saved)
    context = {"source": source, "error": error, "flow": flow, "tab": "editor"}
    return render(request, "flows/editor.html", context, status=error.status if error else 200)


@tenant_page
def flow_revisions(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    flow = selectors.flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    revisions = list(selectors.flow_revision_list(tenant=tenant, flow=flow))
    numbers = [r.revision for r in revisions]
    right = _int(request.GET.get("right"), numbers[-1])
    left = _int(request.GET.get("left"), numbers[-2] if len(numbers) > 1 else right)
    by_number = {r.revision: r for r in revisions}
    if left not in by_number or right not in by_number:
        messages.error(request, f"Pick revisions between {numbers[0]} and {numbers[-1]}.")
        left, right = (numbers[-2] if len(numbers) > 1 else numbers[-1]), numbers[-1]
    diff = difflib.HtmlDiff(tabsize=2, wrapcolumn=80).make_table(
        by_number[left].source.splitlines(),
        by_number[right].source.splitlines(),
        fromdesc=f"Revision {left}",
        todesc=f"Revision {right}",
        context=max(len(by_number[left].source), len(by_number[right].source)) > 20_000,
    )
    context = {
        "flow": flow,
        "revisions": list(reversed(revisions)),
        "left": left,
        "right": right,
        "diff": diff,
        "same": by_number[left].source == by_number[right].source,
        "tab": "revisions",
    }
    return render(request, "flows/revisions.html", context)


@tenant_page
@require_POST
def flow_delete(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        flow = services.flow_delete(
            tenant=tenant,
            user=request.user,  # type: ignore[arg-type]
            namespace=namespace,
            flow_id=flow_id,
        )
    except Conflict as error:  # a read-only flow
        messages.error(request, error.message)
        return redirect("flows:detail", tenant=tenant.slug, namespace=namespace, flow_id=flow_id)
    messages.success(request, f"Flow {flow} deleted.")
    return redirect("flows:list", tenant=tenant.slug)


@tenant_page
@require_POST
def flow_import(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = FlowImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a .zip, .yml or .yaml file to import.")
        return redirect("flows:list", tenant=tenant.slug)
    upload = form.cleaned_data["file"]
    try:
        files = import_files(upload.name, upload.read(form.max_bytes + 1))
        flows = services.flow_import(tenant=tenant, user=request.user, files=files)  # type: ignore[arg-type]
    except FlowSpecError as error:
        problems = "; ".join(str(v) for v in error.violations[:10])
        messages.error(request, f"{error.message}: {problems}")
    except AviaryError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Imported {len(flows)} flow(s).")
    return redirect("flows:list", tenant=tenant.slug)


@tenant_page
def flow_export(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = FlowFilterForm(request.GET or None)
    query = form.to_query() if form.is_valid() else selectors.FlowQuery()
    data = selectors.flow_export_zip(flows=selectors.flow_search(tenant=tenant, query=query))
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{tenant.slug}-flows.zip"'
    return response


def _redirect_to(flow: object) -> HttpResponse:
    return redirect(
        "flows:detail",
        tenant=flow.tenant.slug,  # type: ignore[attr-defined]
        namespace=flow.namespace.name,  # type: ignore[attr-defined]
        flow_id=flow.flow_id,  # type: ignore[attr-defined]
    )


def _posted_source(request: HttpRequest) -> str:
    """The editor's YAML. Browsers send a textarea's line breaks as CRLF (HTML spec); the
    user typed LF, so that is what is stored."""
    return request.POST.get("source", "").replace("\r\n", "\n")


def _without_page(params: QueryDict) -> str:
    pairs = [(key, value) for key, values in params.lists() if key != "page" for value in values]
    encoded = urlencode(pairs)
    return f"{encoded}&" if encoded else ""


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default
