"""`/api/v1/{tenant}/executions/...` and `/logs/...`."""

from django.urls import path

from executions import api

urlpatterns = [
    path(
        "executions/<str:namespace>/<str:flow_id>",
        api.ExecutionCreateApi.as_view(),
        name="api-execution-create",
    ),
    path("executions/<str:execution_id>", api.ExecutionDetailApi.as_view(), name="api-execution"),
    path("logs/<str:execution_id>", api.ExecutionLogsApi.as_view(), name="api-execution-logs"),
]
