"""Trigger rows for the flows saved before the triggers app existed, and the tenants' Flow
trigger flag (`Tenant.has_flow_triggers`, added at the same time): without them an upgraded
installation's Schedules would not tick and its Flow triggers would not match until each
flow was saved again. Runs the current sync service, so it is meant to run at this point of
the schema (a fresh database has no flows and does nothing here)."""

from django.db import migrations


def sync_existing_flows(apps, schema_editor):
    from flows.models import Flow
    from tenants.models import Tenant
    from triggers.services import triggers_sync

    for tenant in Tenant.objects.all():
        for flow in Flow.objects.for_tenant(tenant).select_related("namespace"):
            if flow.deleted or not (flow.spec or {}).get("triggers"):
                continue
            triggers_sync(tenant=tenant, flow=flow)


class Migration(migrations.Migration):
    dependencies = [
        ("triggers", "0001_initial"),
        ("tenants", "0004_tenant_has_flow_triggers"),
        ("flows", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_existing_flows, migrations.RunPython.noop)]
