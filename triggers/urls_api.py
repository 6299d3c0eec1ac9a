"""`/api/v1/{tenant}/triggers/...`, Kestra's paths. Fixed words come before
`{namespace}/{flowId}`."""

from django.urls import path

from triggers import api

urlpatterns = [
    path("triggers", api.TriggerUpdateApi.as_view(), name="api-trigger-update"),
    path("triggers/search", api.TriggerSearchApi.as_view(), name="api-trigger-search"),
    path("triggers/backfill/pause", api.BackfillPauseApi.as_view(), name="api-backfill-pause"),
    path(
        "triggers/backfill/unpause", api.BackfillUnpauseApi.as_view(), name="api-backfill-unpause"
    ),
    path("triggers/backfill/delete", api.BackfillDeleteApi.as_view(), name="api-backfill-delete"),
    path(
        "triggers/set-disabled/by-triggers",
        api.TriggerSetDisabledApi.as_view(),
        name="api-trigger-set-disabled",
    ),
    path(
        "triggers/<str:namespace>/<str:flow_id>",
        api.FlowTriggersApi.as_view(),
        name="api-flow-triggers",
    ),
    path(
        "triggers/<str:namespace>/<str:flow_id>/<str:trigger_id>/unlock",
        api.TriggerUnlockApi.as_view(),
        name="api-trigger-unlock",
    ),
]
