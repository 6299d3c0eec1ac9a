"""`/api/v1/{tenant}/namespaces/...`."""

from django.urls import path

from tenants import api

urlpatterns = [
    path("namespaces", api.NamespaceListApi.as_view(), name="api-namespaces"),
    path("namespaces/search", api.NamespaceSearchApi.as_view(), name="api-namespace-search"),
    path("namespaces/<str:namespace>", api.NamespaceDetailApi.as_view(), name="api-namespace"),
]
