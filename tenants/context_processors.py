"""Navigation context for every admin page: the tenant switcher and the sidebar."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from tenants.selectors import tenant_list_for_user

# (label, url name or None when the feature has not landed yet, the section it lights up)
SIDEBAR = [
    ("Dashboard", "tenants:dashboard", "dashboard"),
    ("Flows", "flows:list", "flows"),
    ("Executions", "executions:list", "executions"),
    ("Triggers", "triggers:list", "triggers"),
    ("Logs", None, "logs"),
    ("Namespaces", "tenants:namespaces", "namespaces"),
    ("KV Store", "tenants:kv", "kv"),
    ("Secrets", "tenants:secrets", "secrets"),
    ("Apps", None, "apps"),
    ("Administration", "tenants:administration", "administration"),
]


def tenant_navigation(request: HttpRequest) -> dict[str, object]:
    if not request.user.is_authenticated:
        return {}
    tenant = getattr(request, "tenant", None)
    choices = list(tenant_list_for_user(user=request.user))
    if tenant is None:  # account pages: keep the sidebar of the tenant last visited
        last = request.session.get("tenant")
        tenant = next((t for t in choices if t.slug == last), choices[0] if choices else None)
    if tenant is None:
        return {"tenant_choices": []}
    section = _section(request.path, tenant.slug)
    items = [
        {
            "label": label,
            "url": reverse(url_name, kwargs={"tenant": tenant.slug}) if url_name else None,
            "active": key == section,
        }
        for label, url_name, key in SIDEBAR
    ]
    switcher = [
        {
            "slug": t.slug,
            "name": t.name,
            "url": reverse("tenants:dashboard", kwargs={"tenant": t.slug}),
        }
        for t in choices
    ]
    return {"current_tenant": tenant, "sidebar": items, "tenant_choices": switcher}


def _section(path: str, slug: str) -> str:
    rest = path.removeprefix(f"/ui/{slug}/").split("/", 1)[0]
    return {"": "dashboard", "admin": "administration"}.get(rest, rest)
