"""Admin UI pages of executions: `/ui/{tenant}/executions/...` (a flow's launch form and its
Executions tab are under the flow's URL, in flows/urls.py)."""

from django.urls import path

from executions import views, views_actions, views_files, views_follow, views_lifecycle

app_name = "executions"

urlpatterns = [
    path("", views.execution_list, name="list"),
    # before the execution routes, which would take "saved-searches" for an id
    path("saved-searches", views.saved_search_save, name="saved_search_save"),
    path(
        "saved-searches/<int:search_id>/delete",
        views.saved_search_delete,
        name="saved_search_delete",
    ),
    path("bulk", views_actions.bulk_start_view, name="bulk"),
    path("bulk/<str:bulk_id>", views_actions.bulk_progress_view, name="bulk_progress"),
    path("<str:execution_id>", views.execution_detail, name="detail"),
    path("<str:execution_id>/restart", views_actions.execution_restart_view, name="restart"),
    path("<str:execution_id>/replay", views_actions.execution_replay_view, name="replay"),
    path("<str:execution_id>/state", views_actions.execution_state_view, name="state"),
    path("<str:execution_id>/labels", views_actions.execution_labels_view, name="labels"),
    path("<str:execution_id>/kill", views_lifecycle.execution_kill_view, name="kill"),
    path("<str:execution_id>/pause", views_lifecycle.execution_pause_view, name="pause"),
    path("<str:execution_id>/unqueue", views_lifecycle.execution_unqueue_view, name="unqueue"),
    path("<str:execution_id>/resume", views_lifecycle.execution_resume_view, name="resume"),
    path("<str:execution_id>/live", views.execution_live, name="live"),
    path("<str:execution_id>/events", views_follow.execution_events, name="events"),
    path("<str:execution_id>/delete", views.execution_delete, name="delete"),
    path("<str:execution_id>/file", views_files.execution_file, name="file"),
    path(
        "<str:execution_id>/file/preview",
        views_files.execution_file_preview,
        name="file_preview",
    ),
]
