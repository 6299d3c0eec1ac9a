"""Admin UI pages of flows: `/ui/{tenant}/flows/...`."""

from django.urls import path

from executions import views as execution_views
from flows import views, views_topology
from triggers import views as trigger_views

app_name = "flows"

urlpatterns = [
    path("", views.flow_list, name="list"),
    path("new", views.flow_new, name="new"),
    path("import", views.flow_import, name="import"),
    path("export", views.flow_export, name="export"),
    path("<str:namespace>/<str:flow_id>", views.flow_detail, name="detail"),
    path("<str:namespace>/<str:flow_id>/revisions", views.flow_revisions, name="revisions"),
    path(
        "<str:namespace>/<str:flow_id>/topology",
        views_topology.flow_topology,
        name="topology",
    ),
    path("<str:namespace>/<str:flow_id>/delete", views.flow_delete, name="delete"),
    path("<str:namespace>/<str:flow_id>/execute", execution_views.flow_execute, name="execute"),
    path(
        "<str:namespace>/<str:flow_id>/executions",
        execution_views.flow_executions,
        name="executions",
    ),
    path("<str:namespace>/<str:flow_id>/triggers", trigger_views.flow_triggers, name="triggers"),
]
