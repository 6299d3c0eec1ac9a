"""Admin UI pages of triggers: `/ui/{tenant}/triggers/...` (a flow's Triggers tab is under the
flow's URL, in flows/urls.py)."""

from django.urls import path

from triggers import views, views_backfill

app_name = "triggers"

TRIGGER = "<str:namespace>/<str:flow_id>/<str:trigger_id>"

urlpatterns = [
    path("", views.trigger_list, name="list"),
    path(f"{TRIGGER}/disabled", views.trigger_disabled_view, name="disabled"),
    path(f"{TRIGGER}/unlock", views.trigger_unlock_view, name="unlock"),
    path(f"{TRIGGER}/backfill", views_backfill.backfill_view, name="backfill"),
    path(f"{TRIGGER}/backfill/pause", views_backfill.backfill_pause_view, name="backfill_pause"),
    path(f"{TRIGGER}/backfill/resume", views_backfill.backfill_resume_view, name="backfill_resume"),
    path(f"{TRIGGER}/backfill/delete", views_backfill.backfill_delete_view, name="backfill_delete"),
    path(
        f"{TRIGGER}/backfill/progress",
        views_backfill.backfill_progress_view,
        name="backfill_progress",
    ),
]
