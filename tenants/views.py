"""Tenant pages: dashboard, namespaces, administration (members; tenants for superadmins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import member_list, user_find_by_email
from accounts.services import membership_add
from executions.page_selectors import daily_chart
from flows.selectors import FlowQuery, flow_list, flow_search
from tenants import kv_services, selectors, services
from tenants.errors import AviaryError, NotFound
from tenants.forms import (
    KVForm,
    MemberAddForm,
    NamespaceEditForm,
    NamespaceForm,
    SecretForm,
    TenantForm,
)
from tenants.models import Namespace
from tenants.secrets import services as secret_services
from tenants.views_base import tenant_page


@tenant_page
def dashboard(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    flows = flow_list(tenant=tenant)
    context = {
        "flow_count": flows.count(),
        "disabled_count": flows.filter(disabled=True).count(),
        "namespace_count": selectors.namespace_list(tenant=tenant).count(),
        "recent_flows": flows.order_by("-updated_at")[:8],
        "chart": daily_chart(
            tenant=tenant,
            now=timezone.now(),
            list_url=reverse("executions:list", kwargs={"tenant": tenant.slug}),
        ),
    }
    return render(request, "tenants/dashboard.html", context)


@tenant_page
def namespace_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:150]
    namespaces = selectors.namespace_list_with_counts(tenant=request.tenant, query=query)  # type: ignore[attr-defined]
    page = Paginator(namespaces, 50).get_page(request.GET.get("page"))
    context = {"page_obj": page, "q": query, "query_string": f"q={query}&" if query else ""}
    return render(request, "tenants/namespace_list.html", context)


@tenant_page
@require_http_methods(["GET", "POST"])
def namespace_new(request: HttpRequest) -> HttpResponse:
    form = NamespaceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                namespace = services.namespace_create(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    variables=form.cleaned_data["variables"],
                )
            except AviaryError as error:
                form.add_error("name", error.message)
                status = error.status
            else:
                messages.success(request, f"Namespace {namespace.name} created.")
                return redirect(
                    "tenants:namespace_detail",
                    tenant=request.tenant.slug,
                    name=namespace.name,  # type: ignore[attr-defined]
                )
        else:
            status = 422
    return render(request, "tenants/namespace_new.html", {"form": form}, status=status)


@tenant_page
@require_http_methods(["GET", "POST"])
def namespace_detail(request: HttpRequest, name: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    namespace = selectors.namespace_get(tenant=tenant, name=name)
    initial = {"description": namespace.description, "variables": namespace.variables}
    form = NamespaceEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.namespace_update(
                namespace=namespace,
                description=form.cleaned_data["description"],
                variables=form.cleaned_data["variables"],
            )
            messages.success(request, f"Namespace {namespace.name} saved.")
            return redirect("tenants:namespace_detail", tenant=tenant.slug, name=namespace.name)
        status = 422
    flows = flow_search(tenant=tenant, query=FlowQuery(namespace=namespace.name))
    context = {
        "namespace": namespace,
        "form": form,
        "flows": flows[:100],
        "children": selectors.namespace_children(tenant=tenant, name=namespace.name),
    }
    return render(request, "tenants/namespace_detail.html", context, status=status)


@tenant_page
@require_http_methods(["GET", "POST"])
def administration(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    member_form = MemberAddForm(request.POST if "add_member" in request.POST else None)
    tenant_form = TenantForm(request.POST if "create_tenant" in request.POST else None)
    status = 200
    if member_form.is_bound:
        status = _add_member(request, member_form)
        if status == 302:
            return redirect("tenants:administration", tenant=tenant.slug)
    if tenant_form.is_bound and request.user.is_superuser:
        status = _create_tenant(request, tenant_form)
        if status == 302:
            return redirect("tenants:administration", tenant=tenant.slug)
    context = {
        "members": member_list(tenant=tenant),
        "member_form": member_form,
        "tenant_form": tenant_form,
        "tenants": selectors.tenant_list_for_user(user=request.user)
        if request.user.is_superuser
        else [],
    }
    return render(request, "tenants/administration.html", context, status=status)


def _add_member(request: HttpRequest, form: MemberAddForm) -> int:
    if not form.is_valid():
        return 422
    user = user_find_by_email(email=form.cleaned_data["email"])
    if user is None:
        form.add_error("email", "No user has this email address")
        return 422
    membership_add(tenant=request.tenant, user=user)  # type: ignore[attr-defined]
    messages.success(request, f"{user.email} is now a member.")
    return 302


def _create_tenant(request: HttpRequest, form: TenantForm) -> int:
    if not form.is_valid():
        return 422
    try:
        tenant = services.tenant_create(
            slug=form.cleaned_data["slug"], name=form.cleaned_data["name"]
        )
    except AviaryError as error:
        form.add_error("slug", error.message)
        return error.status
    membership_add(tenant=tenant, user=request.user)  # type: ignore[arg-type]
    messages.success(request, f"Tenant {tenant.slug} created; you are its first member.")
    return 302


def _chosen_namespace(request: HttpRequest, namespaces: QuerySet[Namespace]) -> str:
    """The namespace a KV or secrets page shows: the one asked for, else the first."""
    chosen = request.GET.get("namespace") or request.POST.get("namespace") or ""
    if not chosen:
        first = namespaces.first()
        chosen = first.name if first is not None else ""
    return chosen


@tenant_page
@require_http_methods(["GET", "POST"])
def kv_store(request: HttpRequest) -> HttpResponse:
    """Keys of one namespace (chosen in the URL), and a form to add or replace one."""
    tenant = request.tenant  # type: ignore[attr-defined]
    namespaces = selectors.namespace_list(tenant=tenant)
    chosen = _chosen_namespace(request, namespaces)
    form = KVForm(request.POST or None, initial={"namespace": chosen})
    status = 200
    if request.method == "POST":
        status = _kv_save(request, form)
        if status == 302:
            return redirect(f"{request.path}?namespace={form.cleaned_data['namespace']}")
    entries = []
    if chosen:
        try:
            entries = list(kv_services.kv_list(tenant=tenant, namespace=chosen))
        except NotFound as error:
            messages.error(request, error.message)
    context = {"namespaces": namespaces, "chosen": chosen, "entries": entries, "form": form}
    return render(request, "tenants/kv.html", context, status=status)


def _kv_save(request: HttpRequest, form: KVForm) -> int:
    if not form.is_valid():
        return 422
    data = form.cleaned_data
    try:
        kv_services.kv_set(
            tenant=request.tenant,  # type: ignore[attr-defined]
            namespace=data["namespace"],
            key=data["key"],
            value=data["value"],
            kv_type=data["kv_type"],
            ttl=data["ttl"],
        )
    except AviaryError as error:
        form.add_error("value" if "value" in error.message.lower() else "key", error.message)
        return error.status
    messages.success(request, f"Key {data['key']} saved in {data['namespace']}.")
    return 302


@tenant_page
@require_POST
def kv_entry_delete(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    deleted = kv_services.kv_delete(tenant=tenant, namespace=namespace, keys=[key])
    if deleted:
        messages.success(request, f"Key {key} deleted from {namespace}.")
    else:
        messages.error(request, f"Key {key} was not found in {namespace}.")
    return redirect(
        f"{reverse('tenants:kv', kwargs={'tenant': tenant.slug})}?namespace={namespace}"
    )


@tenant_page
@require_http_methods(["GET", "POST"])
def secrets_page(request: HttpRequest) -> HttpResponse:
    """Secret keys of one namespace (values are never shown) and a form to set one."""
    tenant = request.tenant  # type: ignore[attr-defined]
    namespaces = selectors.namespace_list(tenant=tenant)
    chosen = _chosen_namespace(request, namespaces)
    form = SecretForm(request.POST or None, initial={"namespace": chosen})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            secret_services.secret_set(
                tenant=tenant,
                namespace=data["namespace"],
                key=data["key"],
                value=data["value"],
                description=data["description"],
            )
        except AviaryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Secret {data['key']} saved in {data['namespace']}.")
            return redirect(f"{request.path}?namespace={data['namespace']}")
    secrets = []
    if chosen:
        try:
            secrets = list(secret_services.secret_list(tenant=tenant, namespace=chosen))
        except NotFound as error:
            messages.error(request, error.message)
    context = {"namespaces": namespaces, "chosen": chosen, "secrets": secrets, "form": form}
    status = 422 if form.is_bound else 200
    return render(request, "tenants/secrets.html", context, status=status)


@tenant_page
@require_POST
def secret_delete(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    if secret_services.secret_delete(tenant=tenant, namespace=namespace, key=key):
        messages.success(request, f"Secret {key} deleted from {namespace}.")
    else:
        messages.error(request, f"Secret {key} was not found in {namespace}.")
    url = reverse("tenants:secrets", kwargs={"tenant": tenant.slug})
    return redirect(f"{url}?namespace={namespace}")
