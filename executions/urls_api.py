"""`/api/v1/{tenant}/executions/...`, `/logs/...` and `/stats/executions/...`."""

from django.urls import path

from executions import api, api_files, api_follow, api_search, api_stats

urlpatterns = [
    # before the create route, which would take it for namespace "{id}", flow "file" (a POST
    # there still executes a flow named `file`: ExecutionFileApi.post hands it over)
    path(
        "executions/<str:execution_id>/file",
        api_files.ExecutionFileApi.as_view(),
        name="api-execution-file",
    ),
    # before the create route too (a POST there executes a flow named `follow`)
    path(
        "executions/<str:execution_id>/follow",
        api_follow.ExecutionFollowApi.as_view(),
        name="api-execution-follow",
    ),
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
        "executions/<str:execution_id>/file/metas",
        api_files.ExecutionFileMetasApi.as_view(),
        name="api-execution-file-metas",
    ),
    path(
        "executions/<str:execution_id>/file/preview",
        api_files.ExecutionFilePreviewApi.as_view(),
        name="api-execution-file-preview",
    ),
    path(
        "stats/executions/daily",
        api_stats.ExecutionDailyStatsApi.as_view(),
        name="api-execution-daily-stats",
    ),
    path("logs/<str:execution_id>", api.ExecutionLogsApi.as_view(), name="api-execution-logs"),
    path(
        "logs/<str:execution_id>/follow",
        api_follow.ExecutionLogsFollowApi.as_view(),
        name="api-execution-logs-follow",
    ),
]
