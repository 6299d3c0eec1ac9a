"""`/api/v1/{tenant}/flows/...` and `/plugins`. Fixed words come before `{namespace}/{id}`."""

from django.urls import path

from flows import api

urlpatterns = [
    path("flows", api.FlowCreateApi.as_view(), name="api-flow-create"),
    path("flows/search", api.FlowSearchApi.as_view(), name="api-flow-search"),
    path("flows/validate", api.FlowValidateApi.as_view(), name="api-flow-validate"),
    path("flows/import", api.FlowImportApi.as_view(), name="api-flow-import"),
    path("flows/export/by-query", api.FlowExportApi.as_view(), name="api-flow-export"),
    path("flows/<str:namespace>/<str:flow_id>", api.FlowDetailApi.as_view(), name="api-flow"),
    path(
        "flows/<str:namespace>/<str:flow_id>/graph",
        api.FlowGraphApi.as_view(),
        name="api-flow-graph",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/revisions",
        api.FlowRevisionListApi.as_view(),
        name="api-flow-revisions",
    ),
    path("plugins", api.PluginCatalogApi.as_view(), name="api-plugins"),
]
