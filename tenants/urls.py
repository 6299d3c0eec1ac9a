"""Admin UI pages of one tenant: `/ui/{tenant}/...`."""

from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("namespaces/", views.namespace_list, name="namespaces"),
    path("namespaces/new", views.namespace_new, name="namespace_new"),
    path("namespaces/<str:name>", views.namespace_detail, name="namespace_detail"),
    path("kv/", views.kv_store, name="kv"),
    path("kv/<str:namespace>/<str:key>/delete", views.kv_entry_delete, name="kv_delete"),
    path("secrets/", views.secrets_page, name="secrets"),
    path("secrets/<str:namespace>/<str:key>/delete", views.secret_delete, name="secret_delete"),
    path("admin/", views.administration, name="administration"),
]
