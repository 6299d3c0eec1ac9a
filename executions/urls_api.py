"""`/api/v1/{tenant}/executions/...`, `/logs/...` and `/stats/executions/...`."""

from django.urls import path

from executions import (
    api,
    api_actions,
    api_files,
    api_follow,
    api_lifecycle,
    api_search,
    api_stats,
)
from triggers.api_webhook import WebhookApi

# Actions on executions come first: `executions/{id}/restart` would otherwise be taken for the
# create route (namespace "{id}", flow "restart"), and `executions/by-ids` for an execution
# id. As in Kestra, a flow named restart, replay, state or labels cannot be executed through
# `POST /executions/{namespace}/{flowId}`.
ACTION_ROUTES = [
    path(
        "executions/restart/by-query",
        api_actions.RestartByQueryApi.as_view(),
        name="api-execution-restart-by-query",
    ),
    path(
        "executions/restart/by-ids",
        api_actions.RestartByIdsApi.as_view(),
        name="api-execution-restart-by-ids",
    ),
    path(
        "executions/replay/by-query",
        api_actions.ReplayByQueryApi.as_view(),
        name="api-execution-replay-by-query",
    ),
    path(
        "executions/replay/by-ids",
        api_actions.ReplayByIdsApi.as_view(),
        name="api-execution-replay-by-ids",
    ),
    path(
        "executions/change-status/by-query",
        api_actions.StatusByQueryApi.as_view(),
        name="api-execution-change-status-by-query",
    ),
    path(
        "executions/change-status/by-ids",
        api_actions.StatusByIdsApi.as_view(),
        name="api-execution-change-status-by-ids",
    ),
    path(
        "executions/pause/by-query",
        api_actions.PauseByQueryApi.as_view(),
        name="api-execution-pause-by-query",
    ),
    path(
        "executions/pause/by-ids",
        api_actions.PauseByIdsApi.as_view(),
        name="api-execution-pause-by-ids",
    ),
    path(
        "executions/resume/by-query",
        api_actions.ResumeByQueryApi.as_view(),
        name="api-execution-resume-by-query",
    ),
    path(
        "executions/resume/by-ids",
        api_actions.ResumeByIdsApi.as_view(),
        name="api-execution-resume-by-ids",
    ),
    path(
        "executions/unqueue/by-query",
        api_actions.UnqueueByQueryApi.as_view(),
        name="api-execution-unqueue-by-query",
    ),
    path(
        "executions/unqueue/by-ids",
        api_actions.UnqueueByIdsApi.as_view(),
        name="api-execution-unqueue-by-ids",
    ),
    path(
        "executions/force-run/by-query",
        api_actions.ForceRunByQueryApi.as_view(),
        name="api-execution-force-run-by-query",
    ),
    path(
        "executions/force-run/by-ids",
        api_actions.ForceRunByIdsApi.as_view(),
        name="api-execution-force-run-by-ids",
    ),
    path(
        "executions/labels/by-query",
        api_actions.LabelsByQueryApi.as_view(),
        name="api-execution-labels-by-query",
    ),
    path(
        "executions/labels/by-ids",
        api_actions.LabelsByIdsApi.as_view(),
        name="api-execution-labels-by-ids",
    ),
    path(
        "executions/kill/by-query",
        api_actions.KillByQueryApi.as_view(),
        name="api-execution-kill-by-query",
    ),
    path(
        "executions/kill/by-ids",
        api_actions.KillByIdsApi.as_view(),
        name="api-execution-kill-by-ids",
    ),
    path(
        "executions/by-query",
        api_actions.DeleteByQueryApi.as_view(),
        name="api-execution-delete-by-query",
    ),
    path(
        "executions/by-ids",
        api_actions.DeleteByIdsApi.as_view(),
        name="api-execution-delete-by-ids",
    ),
    path(
        "executions/bulk/<str:bulk_id>",
        api_actions.BulkActionApi.as_view(),
        name="api-execution-bulk",
    ),
    path(
        "executions/<str:execution_id>/restart",
        api_actions.ExecutionRestartApi.as_view(),
        name="api-execution-restart",
    ),
    path(
        "executions/<str:execution_id>/replay",
        api_actions.ExecutionReplayApi.as_view(),
        name="api-execution-replay",
    ),
    path(
        "executions/<str:execution_id>/state",
        api_actions.ExecutionStateApi.as_view(),
        name="api-execution-state",
    ),
    path(
        "executions/<str:execution_id>/change-status",
        api_actions.ExecutionStatusApi.as_view(),
        name="api-execution-change-status",
    ),
    path(
        "executions/<str:execution_id>/labels",
        api_actions.ExecutionLabelsApi.as_view(),
        name="api-execution-labels",
    ),
]

# Kill, pause, resume, unqueue and force-run: before the create route too
# (`executions/{id}/pause` would be a flow named `pause` in namespace "{id}").
LIFECYCLE_ROUTES = [
    path(
        "executions/<str:execution_id>/kill",
        api_lifecycle.ExecutionKillApi.as_view(),
        name="api-execution-kill",
    ),
    path(
        "executions/<str:execution_id>/pause",
        api_lifecycle.ExecutionPauseApi.as_view(),
        name="api-execution-pause",
    ),
    path(
        "executions/<str:execution_id>/unqueue",
        api_lifecycle.ExecutionUnqueueApi.as_view(),
        name="api-execution-unqueue",
    ),
    path(
        "executions/<str:execution_id>/force-run",
        api_lifecycle.ExecutionForceRunApi.as_view(),
        name="api-execution-force-run",
    ),
    path(
        "executions/<str:execution_id>/resume",
        api_lifecycle.ExecutionResumeApi.as_view(),
        name="api-execution-resume",
    ),
    path(
        "executions/<str:execution_id>/resume/validate",
        api_lifecycle.ExecutionResumeValidateApi.as_view(),
        name="api-execution-resume-validate",
    ),
]

urlpatterns = [
    # open to anyone with the key (triggers/webhooks.py); five segments, so no clash above
    path(
        "executions/webhook/<str:namespace>/<str:flow_id>/<str:key>",
        WebhookApi.as_view(),
        name="api-execution-webhook",
    ),
    *ACTION_ROUTES,
    *LIFECYCLE_ROUTES,
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
