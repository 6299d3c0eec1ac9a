"""Every `/api/v1/{tenant}/...` route, discovered from the URL resolver, refuses another
tenant's user with a 404 that carries none of the tenant's data, and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from flows.models import Flow, FlowRevision
from flows.services import flow_create
from tenants.models import Namespace
from tests.conftest import flow_yaml

SECRET_MARK = "acme-confidential-7f3a"
METHODS = ["get", "post", "put", "delete"]


def tenant_api_routes() -> list[tuple[str, list[str], object]]:
    """(route template, URL kwargs, view) for every pattern under `api/v1/<slug:tenant>/`."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/<slug:tenant>/"):
                kwargs = [part.split(":")[-1].rstrip(">") for part in route.split("<")[1:]]
                found.append((route, kwargs, pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


ROUTES = tenant_api_routes()


def _url(route: str, values: dict[str, str]) -> str:
    url = "/" + route
    for name, value in values.items():
        url = url.replace(f"<slug:{name}>", value).replace(f"<str:{name}>", value)
        url = url.replace(f"<int:{name}>", value).replace(f"<path:{name}>", value)
    return url


def _methods(view) -> list[str]:
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if cls is None:
        return ["get"]
    return [m for m in METHODS if hasattr(cls, m)]


def test_it_discovers_the_tenant_api_routes():
    assert len(ROUTES) >= 10, ROUTES
    assert any("flows/<str:namespace>/<str:flow_id>" in route for route, _, _ in ROUTES)


@pytest.fixture
def acme_flow(acme, alice):
    source = flow_yaml(extra=f"description: {SECRET_MARK}\nlabels:\n  team: {SECRET_MARK}\n")
    return flow_create(tenant=acme, user=alice, source=source)


def _snapshot(tenant) -> tuple:
    return (
        sorted(
            Flow.objects.for_tenant(tenant).values_list("flow_id", "revision", "deleted", "source")
        ),
        FlowRevision.objects.for_tenant(tenant).count(),
        sorted(Namespace.objects.for_tenant(tenant).values_list("name", "description")),
    )


def _call(client, method: str, url: str, source: str):
    if method in {"post", "put"}:
        if url.endswith("/import"):
            from django.core.files.uploadedfile import SimpleUploadedFile

            upload = SimpleUploadedFile("f.yml", source.encode(), "application/x-yaml")
            return client.post(url, {"fileUpload": upload}, format="multipart")
        return getattr(client, method)(url, data=source.encode(), content_type="application/x-yaml")
    return getattr(client, method)(url)


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "kwargs", "view"), ROUTES, ids=[r for r, _, _ in ROUTES])
def test_it_hides_another_tenant_behind_404(route, kwargs, view, acme, acme_flow, mallory_api):
    """Mallory (globex) names acme in the URL: 404 on every method, nothing leaks or changes."""
    values = {"tenant": "acme", "namespace": "company.team", "flow_id": "hello"}
    url = _url(route, {k: values.get(k, "x") for k in kwargs})
    before = _snapshot(acme)
    source = flow_yaml(extra=f"description: {SECRET_MARK}-changed\n")
    for method in _methods(view):
        response = _call(mallory_api, method, url, source)
        assert response.status_code == 404, (method, url, response.status_code, response.content)
        assert SECRET_MARK.encode() not in response.content
        assert response.json()["message"]
    assert _snapshot(acme) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "kwargs", "view"),
    [r for r in ROUTES if set(r[1]) - {"tenant"}],
    ids=[r for r, k, _ in ROUTES if set(k) - {"tenant"}],
)
def test_it_does_not_find_another_tenants_ids_in_own_tenant(
    route, kwargs, view, acme, acme_flow, globex, mallory_api
):
    """Mallory uses her own tenant in the URL with acme's namespace and flow id: not found."""
    values = {"tenant": "globex", "namespace": "company.team", "flow_id": "hello"}
    url = _url(route, {k: values.get(k, "x") for k in kwargs})
    before = _snapshot(acme)
    for method in [m for m in _methods(view) if m != "post"]:
        response = _call(mallory_api, method, url, flow_yaml())
        assert response.status_code == 404, (method, url, response.status_code, response.content)
        assert SECRET_MARK.encode() not in response.content
    assert _snapshot(acme) == before


@pytest.mark.django_db
def test_it_lists_nothing_of_another_tenant(acme_flow, globex, mallory_api):
    for url in ["/api/v1/globex/flows/search", "/api/v1/globex/namespaces"]:
        response = mallory_api.get(url)
        assert response.status_code == 200
        assert SECRET_MARK.encode() not in response.content
        assert response.json()["total"] == 0
