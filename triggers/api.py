"""The triggers API, Kestra's paths under `/api/v1/{tenant}/triggers`: search, a flow's
triggers, update (disable, enable, start a backfill), unlock, bulk disable, and the backfill
controls (pause, unpause, delete). Thin: validate, call one service, render."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from flows.selectors import flow_get
from tenants.api_base import TenantApi
from tenants.errors import Unprocessable, Violation
from tenants.models import NAMESPACE_RE, Tenant
from triggers import backfills, controls, selectors
from triggers.engine.schedule import parse_date
from triggers.models import Trigger
from triggers.trigger_json import BulkResponseSerializer, TriggerSerializer, render, render_many

TAGS = ["Triggers"]


class TriggerKeySerializer(serializers.Serializer):
    """A trigger named as Kestra's bodies name it; a body's other keys are ignored, so a
    trigger read from the API can be sent back as it is."""

    namespace = serializers.CharField(max_length=150)
    flowId = serializers.CharField(max_length=100)
    triggerId = serializers.CharField(max_length=100)

    class Meta:
        ref_name = "TriggerKey"

    def key(self) -> controls.TriggerKey:
        data = self.validated_data
        return data["namespace"], data["flowId"], data["triggerId"]


class TriggerApi(TenantApi):
    parser_classes = [JSONParser]

    def trigger_from_body(self, request: Request, serializer: type[Any] = TriggerKeySerializer):
        body = serializer(data=request.data)
        body.is_valid(raise_exception=True)
        namespace, flow_id, trigger_id = body.key()
        trigger = selectors.trigger_get(
            tenant=self.tenant, namespace=namespace, flow_id=flow_id, trigger_id=trigger_id
        )
        return body, trigger


# --- search ----------------------------------------------------------------------------------


class TriggerSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    namespace = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    flowId = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    kind = serializers.ChoiceField(
        choices=[kind for kind, _ in Trigger.KINDS], required=False, allow_blank=True, default=""
    )
    type = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    sort = serializers.CharField(required=False, max_length=50, default="namespace:asc")
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=10)

    def validate_namespace(self, value: str) -> str:
        if value and not NAMESPACE_RE.match(value):
            raise serializers.ValidationError(
                f"expected a namespace such as company.team, got '{value}'"
            )
        return value

    def validate_sort(self, value: str) -> tuple[str, str]:
        field, _, direction = value.partition(":")
        direction = direction or "asc"
        if field not in selectors.SORT_FIELDS or direction not in {"asc", "desc"}:
            fields = ", ".join(selectors.SORT_FIELDS)
            raise serializers.ValidationError(
                f"expected <field>:asc|desc with field one of {fields}, got '{value}'"
            )
        return field, direction

    def to_query(self, **fixed: str) -> selectors.TriggerQuery:
        data = self.validated_data
        return selectors.TriggerQuery(
            q=data["q"].strip(),
            namespace=fixed.get("namespace", data["namespace"]),
            flow_id=fixed.get("flow_id", data["flowId"].strip()),
            kind=data["kind"],
            type=data["type"].strip(),
            sort=data["sort"],
        )


SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="text in the trigger id, flow id or namespace"),
    OpenApiParameter("namespace", str, description="a namespace and its children"),
    OpenApiParameter("flowId", str, description="exact flow id"),
    OpenApiParameter("kind", str, enum=["schedule", "flow", "webhook"]),
    OpenApiParameter("type", str, description="exact trigger type"),
    OpenApiParameter(
        "sort",
        str,
        description="triggerId|flowId|namespace|nextExecutionDate|date, :asc or :desc",
    ),
    OpenApiParameter("page", int, description="1-based page"),
    OpenApiParameter("size", int, description="page size, at most 1000 (default 10)"),
]


class TriggerSearchItemSerializer(serializers.Serializer):
    abstractTrigger = serializers.DictField(help_text="the trigger as declared in the flow")
    triggerContext = TriggerSerializer()


class TriggerSearchOutputSerializer(serializers.Serializer):
    results = TriggerSearchItemSerializer(many=True)
    total = serializers.IntegerField()


class TriggerPageOutputSerializer(serializers.Serializer):
    results = TriggerSerializer(many=True)
    total = serializers.IntegerField()


def _page(request: Request, **fixed: str) -> tuple[selectors.TriggerQuery, int, int]:
    query = TriggerSearchQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.to_query(**fixed), query.validated_data["page"], query.validated_data["size"]


class TriggerSearchApi(TriggerApi):
    """Kestra's search: each result is `{abstractTrigger, triggerContext}`."""

    @extend_schema(
        operation_id="trigger_search",
        summary="Search for triggers",
        parameters=SEARCH_PARAMETERS,
        responses={200: TriggerSearchOutputSerializer, **error_responses(422)},
        tags=TAGS,
    )
    def get(self, request: Request, tenant: str) -> Response:
        query, page, size = _page(request)
        triggers = selectors.trigger_search(tenant=self.tenant, query=query)
        total = triggers.count()
        rows = list(triggers[(page - 1) * size : page * size])
        results = [
            {"abstractTrigger": row.spec, "triggerContext": body}
            for row, body in zip(rows, render_many(self.tenant, rows), strict=True)
        ]
        return Response({"results": results, "total": total})


class FlowTriggersApi(TriggerApi):
    @extend_schema(
        operation_id="trigger_find_for_flow",
        summary="Get all triggers of a flow",
        parameters=SEARCH_PARAMETERS[:1] + SEARCH_PARAMETERS[3:],
        responses={200: TriggerPageOutputSerializer, **error_responses(422)},
        tags=TAGS,
    )
    def get(self, request: Request, tenant: str, namespace: str, flow_id: str) -> Response:
        flow = flow_get(tenant=self.tenant, namespace=namespace, flow_id=flow_id)
        query, page, size = _page(request, namespace="", flow_id=flow_id)
        triggers = selectors.trigger_search(tenant=self.tenant, query=query).filter(flow_row=flow)
        total = triggers.count()
        rows = list(triggers[(page - 1) * size : page * size])
        return Response({"results": render_many(self.tenant, rows), "total": total})


# --- update, unlock, bulk disable --------------------------------------------------------------


class BackfillInputSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="the first tick to run (ISO, with an offset)")
    end = serializers.DateTimeField(required=False, allow_null=True, help_text="default: now")
    inputs = serializers.DictField(required=False, allow_null=True)
    labels = serializers.JSONField(
        required=False, allow_null=True, help_text="[{key, value}] or a map"
    )

    class Meta:
        ref_name = "BackfillInput"


class TriggerUpdateSerializer(TriggerKeySerializer):
    disabled = serializers.BooleanField(required=False, help_text="absent: left as it is")
    backfill = BackfillInputSerializer(
        required=False, allow_null=True, help_text="starts a backfill of a Schedule trigger"
    )

    class Meta:
        ref_name = "TriggerUpdate"


class TriggerUpdateApi(TriggerApi):
    @extend_schema(
        operation_id="trigger_update",
        summary="Update a trigger: disable or enable it, start a backfill",
        description="The body is a trigger (as this API returns them): `disabled` is applied "
        "when present; a `backfill` starts one (Schedule triggers only; the one running, sent "
        "back unchanged, is left as it is). Its other fields are ignored.",
        request=TriggerUpdateSerializer,
        responses={200: TriggerSerializer, **error_responses(409, 422)},
        tags=TAGS,
    )
    def put(self, request: Request, tenant: str) -> Response:
        body, trigger = self.trigger_from_body(request, TriggerUpdateSerializer)
        data = body.validated_data
        with transaction.atomic():  # a refused backfill leaves `disabled` as it was
            if "disabled" in data:
                trigger = controls.trigger_set_disabled(
                    tenant=self.tenant, trigger=trigger, disabled=data["disabled"]
                )
            wanted = data.get("backfill")
            if wanted is not None and not _is_running(trigger, wanted):
                trigger = _backfill_start(self.tenant, trigger, wanted)
        return Response(render(self.tenant, trigger))


def _is_running(trigger: Trigger, wanted: dict[str, Any]) -> bool:
    """The backfill in the body is the one the trigger runs: a trigger read from the API and
    sent back with `disabled` changed must not restart it (Kestra would)."""
    running = trigger.backfill
    if not isinstance(running, dict):
        return False
    same_end = wanted.get("end") is None or parse_date(running.get("end")) == wanted["end"]
    return parse_date(running.get("start")) == wanted["start"] and same_end


def _backfill_start(tenant: Tenant, trigger: Trigger, wanted: dict[str, Any]) -> Trigger:
    """Start it; the service's violations name the body's fields (`backfill.start`, ...)."""
    labels = _labels(wanted.get("labels"))
    try:
        return backfills.backfill_start(
            tenant=tenant,
            trigger=trigger,
            start=wanted["start"],
            end=wanted.get("end"),
            inputs=wanted.get("inputs"),
            labels=labels,
        )
    except Unprocessable as error:
        if not error.violations:
            raise Unprocessable(error.message, field=_body_path(error.field)) from error
        violations = [
            Violation(_body_path(v.path), v.message, v.line, v.column) for v in error.violations
        ]
        raise Unprocessable(error.message, violations=violations) from error


def _body_path(path: str | None) -> str:
    """A backfill service's field as the body names it (`trigger`: the trigger's kind)."""
    return f"backfill.{path}" if path and path != "trigger" else "backfill"


def _labels(value: Any) -> Any:
    """Kestra's labels: `[{key, value}]` or a map; anything else is a 422 naming it."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise Unprocessable(
        'expected [{"key": "team", "value": "data"}] or {"team": "data"}',
        field="backfill.labels",
    )


class TriggerUnlockApi(TriggerApi):
    @extend_schema(
        operation_id="trigger_unlock",
        summary="Unlock a trigger held by the execution it started",
        request=None,
        responses={200: TriggerSerializer, **error_responses(409)},
        tags=TAGS,
    )
    def post(
        self, request: Request, tenant: str, namespace: str, flow_id: str, trigger_id: str
    ) -> Response:
        trigger = selectors.trigger_get(
            tenant=self.tenant, namespace=namespace, flow_id=flow_id, trigger_id=trigger_id
        )
        trigger = controls.trigger_unlock(tenant=self.tenant, trigger=trigger)
        return Response(render(self.tenant, trigger))


class SetDisabledSerializer(serializers.Serializer):
    triggers = TriggerKeySerializer(many=True, allow_empty=False, max_length=1000)
    disabled = serializers.BooleanField(default=True)


class TriggerSetDisabledApi(TriggerApi):
    @extend_schema(
        operation_id="trigger_set_disabled_by_triggers",
        summary="Disable or enable the given triggers (all or none)",
        request=SetDisabledSerializer,
        responses={200: BulkResponseSerializer, **error_responses(422)},
        tags=TAGS,
    )
    def post(self, request: Request, tenant: str) -> Response:
        body = SetDisabledSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        keys = [
            (t["namespace"], t["flowId"], t["triggerId"]) for t in body.validated_data["triggers"]
        ]
        count = controls.triggers_set_disabled(
            tenant=self.tenant, keys=keys, disabled=body.validated_data["disabled"]
        )
        return Response({"count": count})


# --- backfill controls ---------------------------------------------------------------------------


class BackfillPauseApi(TriggerApi):
    @extend_schema(
        operation_id="trigger_backfill_pause",
        summary="Pause a backfill",
        request=TriggerKeySerializer,
        responses={200: TriggerSerializer, **error_responses(422)},
        tags=TAGS,
    )
    def put(self, request: Request, tenant: str) -> Response:
        _, trigger = self.trigger_from_body(request)
        trigger = backfills.backfill_set_paused(tenant=self.tenant, trigger=trigger, paused=True)
        return Response(render(self.tenant, trigger))


class BackfillUnpauseApi(TriggerApi):
    @extend_schema(
        operation_id="trigger_backfill_unpause",
        summary="Resume a paused backfill",
        request=TriggerKeySerializer,
        responses={200: TriggerSerializer, **error_responses(422)},
        tags=TAGS,
    )
    def put(self, request: Request, tenant: str) -> Response:
        _, trigger = self.trigger_from_body(request)
        trigger = backfills.backfill_set_paused(tenant=self.tenant, trigger=trigger, paused=False)
        return Response(render(self.tenant, trigger))


class BackfillDeleteApi(TriggerApi):
    @extend_schema(
        operation_id="trigger_backfill_delete",
        summary="Delete a backfill: the ticks not run yet are dropped",
        request=TriggerKeySerializer,
        responses={200: TriggerSerializer, **error_responses(422)},
        tags=TAGS,
    )
    def post(self, request: Request, tenant: str) -> Response:
        _, trigger = self.trigger_from_body(request)
        trigger = backfills.backfill_delete(tenant=self.tenant, trigger=trigger)
        return Response(render(self.tenant, trigger))
