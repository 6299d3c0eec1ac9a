"""Root URLs: the tenant-scoped API, its OpenAPI document, the admin UI."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from accounts.views import home
from config.api_errors import api_not_found

api_v1_tenant = [
    path("", include("flows.urls_api")),
    path("", include("tenants.urls_api")),
    path("", include("executions.urls_api")),
    path("", include("triggers.urls_api")),
]

urlpatterns = [
    path("api/v1/openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="api-docs"),
    path("api/v1/<slug:tenant>/", include(api_v1_tenant)),
    path("api/<path:rest>", api_not_found),
    path("django-admin/", admin.site.urls),
    path("", home, name="home"),
    path("", include("accounts.urls")),
    path("ui/<slug:tenant>/", include("tenants.urls")),
    path("ui/<slug:tenant>/flows/", include("flows.urls")),
    path("ui/<slug:tenant>/executions/", include("executions.urls")),
    path("ui/<slug:tenant>/triggers/", include("triggers.urls")),
]
