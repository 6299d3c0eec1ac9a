"""Admin UI pages of triggers: `/ui/{tenant}/triggers/...` (a flow's Triggers tab is under the
flow's URL, in flows/urls.py)."""

from django.urls import path

from triggers import views

app_name = "triggers"

TRIGGER = "<str:namespace>/<str:flow_id>/<str:trigger_id>"

urlpatterns = [
    path("", views.trigger_list, name="list"),
    path(f"{TRIGGER}/disabled", views.trigger_disabled_view, name="disabled"),
    path(f"{TRIGGER}/unlock", views.trigger_unlock_view, name="unlock"),
]
