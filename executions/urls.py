"""Admin UI pages of executions: `/ui/{tenant}/executions/...` (a flow's launch form and its
Executions tab are under the flow's URL, in flows/urls.py)."""

from django.urls import path

from executions import views, views_files, views_follow

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
    path("<str:execution_id>", views.execution_detail, name="detail"),
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
