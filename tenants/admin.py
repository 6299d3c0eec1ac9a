"""Django admin for the instance superadmin. The admin reads through `all_tenants` (the
default manager of tenant-owned models), which is its purpose."""

from django.contrib import admin

from tenants.models import KVEntry, Namespace, Secret, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Namespace)
class NamespaceAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "updated_at"]
    list_filter = ["tenant"]
    search_fields = ["name"]


@admin.register(KVEntry)
class KVEntryAdmin(admin.ModelAdmin):
    list_display = ["key", "namespace", "tenant", "kv_type", "expires_at"]
    list_filter = ["tenant", "kv_type"]
    search_fields = ["key", "namespace__name"]


@admin.register(Secret)
class SecretAdmin(admin.ModelAdmin):
    """Keys only: the ciphertext is never displayed and values are set on the Secrets page."""

    list_display = ["key", "namespace", "tenant", "updated_at"]
    list_filter = ["tenant"]
    search_fields = ["key", "namespace__name"]
    exclude = ["ciphertext"]
    readonly_fields = ["tenant", "namespace", "key"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
