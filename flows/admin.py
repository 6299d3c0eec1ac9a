"""Django admin for flows: read-mostly; edits go through the editor, which validates."""

from django.contrib import admin

from flows.models import Flow, FlowRevision


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["flow_id", "namespace", "tenant", "revision", "disabled", "deleted"]
    list_filter = ["tenant", "disabled", "deleted"]
    search_fields = ["flow_id", "namespace__name"]
    readonly_fields = ["tenant", "namespace", "flow_id", "revision", "source", "spec"]


@admin.register(FlowRevision)
class FlowRevisionAdmin(admin.ModelAdmin):
    list_display = ["flow", "revision", "deleted", "created_at", "created_by"]
    list_filter = ["tenant"]
    readonly_fields = ["tenant", "flow", "revision", "source", "deleted", "created_by"]
