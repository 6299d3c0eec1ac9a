"""`/api/v1/{tenant}/namespaces/...`."""

from django.urls import path

from tenants import api, api_kv, api_secrets

urlpatterns = [
    path("namespaces", api.NamespaceListApi.as_view(), name="api-namespaces"),
    path("namespaces/search", api.NamespaceSearchApi.as_view(), name="api-namespace-search"),
    path("namespaces/<str:namespace>", api.NamespaceDetailApi.as_view(), name="api-namespace"),
    path(
        "namespaces/<str:namespace>/secrets",
        api_secrets.SecretListApi.as_view(),
        name="api-secret-list",
    ),
    path(
        "namespaces/<str:namespace>/secrets/<str:key>",
        api_secrets.SecretDetailApi.as_view(),
        name="api-secret",
    ),
    path("namespaces/<str:namespace>/kv", api_kv.KVListApi.as_view(), name="api-kv-list"),
    path("namespaces/<str:namespace>/kv/<str:key>", api_kv.KVDetailApi.as_view(), name="api-kv"),
]
