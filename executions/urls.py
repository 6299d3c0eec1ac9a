"""Admin UI pages of executions: `/ui/{tenant}/executions/...` (a flow's launch form and its
Executions tab are under the flow's URL, in flows/urls.py)."""

from django.urls import path

from executions import views

app_name = "executions"

urlpatterns = [
    path("", views.execution_list, name="list"),
    path("<str:execution_id>", views.execution_detail, name="detail"),
    path("<str:execution_id>/live", views.execution_live, name="live"),
]
