"""Django admin for the instance superadmin. The admin reads through `all_tenants` (the
default manager of tenant-owned models), which is its purpose."""

from django.contrib import admin

from tenants.models import Namespace, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Namespace)
class NamespaceAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "updated_at"]
    list_filter = ["tenant"]
    search_fields = ["name"]
