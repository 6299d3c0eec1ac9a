"""The trigger JSON every triggers endpoint answers with, and its OpenAPI description: Kestra's
trigger context plus Aviary's extras (the preconditions' state needs the windows, read in one
query per page)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from tenants.models import Tenant
from triggers import selectors
from triggers.backfills import backfill_progress
from triggers.models import Trigger


def render(tenant: Tenant, trigger: Trigger) -> dict[str, Any]:
    return render_many(tenant, [trigger])[0]


def render_many(tenant: Tenant, triggers: Sequence[Trigger]) -> list[dict[str, Any]]:
    states = selectors.precondition_states(tenant=tenant, triggers=triggers, now=timezone.now())
    return [
        selectors.trigger_as_json(
            trigger,
            preconditions=states.get(trigger.pk),
            progress=backfill_progress(trigger),
        )
        for trigger in triggers
    ]


# --- OpenAPI ----------------------------------------------------------------------------------


class LabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "TriggerLabel"


class BackfillSerializer(serializers.Serializer):
    start = serializers.CharField(allow_null=True)
    end = serializers.CharField(allow_null=True)
    currentDate = serializers.CharField(allow_null=True)
    paused = serializers.BooleanField()
    inputs = serializers.DictField()
    labels = LabelSerializer(many=True)

    class Meta:
        ref_name = "Backfill"


class BackfillProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="ticks between start and end")
    done = serializers.IntegerField(help_text="ticks already executed")
    percent = serializers.IntegerField()
    currentDate = serializers.CharField(allow_null=True)
    end = serializers.CharField(allow_null=True)
    paused = serializers.BooleanField()

    class Meta:
        ref_name = "BackfillProgress"


class SubConditionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="condition_1, condition_3_<where id>, or a map key")
    description = serializers.CharField()
    met = serializers.BooleanField()
    executionId = serializers.CharField(allow_null=True, help_text="the upstream that met it")
    namespace = serializers.CharField(allow_null=True)
    flowId = serializers.CharField(allow_null=True)
    state = serializers.CharField(allow_null=True)
    at = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "PreconditionSubCondition"


class PreconditionSerializer(serializers.Serializer):
    id = serializers.CharField()
    timeWindow = serializers.CharField()
    windowStart = serializers.CharField(allow_null=True, help_text="null: no window open")
    windowEnd = serializers.CharField(allow_null=True)
    met = serializers.IntegerField()
    total = serializers.IntegerField()
    conditions = SubConditionSerializer(many=True)

    class Meta:
        ref_name = "PreconditionState"


class TriggerSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    flowId = serializers.CharField()
    triggerId = serializers.CharField()
    date = serializers.CharField(allow_null=True, help_text="last evaluation or tick")
    nextExecutionDate = serializers.CharField(allow_null=True)
    executionId = serializers.CharField(allow_null=True, help_text="set while locked")
    disabled = serializers.BooleanField(help_text="disabled from the API or the page")
    backfill = BackfillSerializer(allow_null=True)
    stopAfter = serializers.ListField(child=serializers.CharField(), allow_null=True)
    updatedDate = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=[kind for kind, _ in Trigger.KINDS])
    type = serializers.CharField()
    flowRevision = serializers.IntegerField()
    disabledInFlow = serializers.BooleanField(help_text="`disabled: true` in the YAML")
    enabled = serializers.BooleanField(help_text="neither disabled here nor in the YAML")
    locked = serializers.BooleanField()
    warning = serializers.CharField(allow_null=True)
    preconditions = PreconditionSerializer(many=True)
    backfillProgress = BackfillProgressSerializer(allow_null=True)

    class Meta:
        ref_name = "Trigger"


class BulkResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()

    class Meta:
        ref_name = "TriggerBulkResponse"
