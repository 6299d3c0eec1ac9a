"""`/api/v1/{tenant}/executions/...`, `/logs/...` and `/stats/executions/...`."""

from django.urls import path

from executions import api, api_search, api_stats

urlpatterns = [
    path(
        "executions/<str:namespace>/<str:flow_id>",
        api.ExecutionCreateApi.as_view(),
        name="api-execution-create",
    ),
    # the search routes come before the id routes, which would take "search" for an id
    path("executions/search", api_search.ExecutionSearchApi.as_view(), name="api-execution-search"),
    path("logs/search", api_search.LogSearchApi.as_view(), name="api-log-search"),
    path("executions/<str:execution_id>", api.ExecutionDetailApi.as_view(), name="api-execution"),
    path(
        "stats/executions/daily",
        api_stats.ExecutionDailyStatsApi.as_view(),
        name="api-execution-daily-stats",
    ),
    path("logs/<str:execution_id>", api.ExecutionLogsApi.as_view(), name="api-execution-logs"),
]
