"""`GET /api/v1/{tenant}/stats/executions/daily`: executions per UTC day and state.

Kestra has `POST /api/v1/stats/executions/daily` with a JSON body; the same filters are query
parameters here (a read is a GET). Every problem is a 422 naming its parameter.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from executions import stats
from tenants.api_base import TenantApi
from tenants.models import NAMESPACE_RE

DEFAULT_DAYS = 30


class UtcDayField(serializers.Field):
    """An ISO date (`2026-11-01`), or a date-time whose UTC day is taken."""

    default_error_messages = {
        "invalid": "expected a date such as 2026-11-01 or a date-time, got '{value}'"
    }

    def to_internal_value(self, data: Any) -> date:
        text = str(data).strip()
        try:
            day = parse_date(text)
            moment = None if day else parse_datetime(text)
        except ValueError:  # well formed but impossible, e.g. 2026-02-30
            day = moment = None
        if day is not None:
            return day
        if moment is None:
            self.fail("invalid", value=text[:40])
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).date()

    def to_representation(self, value: date) -> str:
        return value.isoformat()


class DailyStatsQuerySerializer(serializers.Serializer):
    namespace = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    flowId = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    startDate = UtcDayField(required=False, default=None)
    endDate = UtcDayField(required=False, default=None)

    def validate_namespace(self, value: str) -> str:
        if value and not NAMESPACE_RE.match(value):
            raise serializers.ValidationError(
                f"expected a namespace such as company.team, got '{value}'"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.now().astimezone(UTC).date()
        end = attrs["endDate"] or today
        start = attrs["startDate"] or stats.last_days(days=DEFAULT_DAYS, today=end)[0]
        if end < start:
            raise serializers.ValidationError(
                {"endDate": f"must not be before startDate ({start.isoformat()})"}
            )
        days = (end - start).days + 1
        if days > stats.MAX_DAYS:
            raise serializers.ValidationError(
                {
                    "startDate": f"the range may cover at most {stats.MAX_DAYS} days "
                    f"(one year), got {days} days up to {end.isoformat()}"
                }
            )
        attrs["startDate"], attrs["endDate"] = start, end
        return attrs


class DurationSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="ended executions the durations cover")
    min = serializers.CharField(help_text="ISO-8601, e.g. PT1.25S")
    avg = serializers.CharField()
    max = serializers.CharField()
    sum = serializers.CharField()

    class Meta:
        ref_name = "DailyExecutionDuration"


class DailyExecutionStatsSerializer(serializers.Serializer):
    startDate = serializers.DateField(help_text="the UTC day")
    executionCounts = serializers.DictField(
        child=serializers.IntegerField(), help_text="executions started that day, by state"
    )
    duration = DurationSerializer()
    groupBy = serializers.CharField(help_text="always `day`")

    class Meta:
        ref_name = "DailyExecutionStatistics"


class ExecutionDailyStatsApi(TenantApi):
    @extend_schema(
        operation_id="execution_daily_stats",
        summary="Executions per day, by state",
        description=(
            "One entry per UTC day from startDate to endDate (both included, at most "
            f"{stats.MAX_DAYS} days), oldest first; days without executions count zero. "
            "An execution counts on the day it started, under its current state."
        ),
        parameters=[
            OpenApiParameter(
                "namespace",
                str,
                description="a namespace and its children; with flowId, the flow's namespace",
            ),
            OpenApiParameter("flowId", str, description="exact flow id"),
            OpenApiParameter(
                "startDate",
                str,
                description=f"ISO date (or date-time: its UTC day); default endDate - "
                f"{DEFAULT_DAYS - 1} days",
            ),
            OpenApiParameter("endDate", str, description="ISO date, included; default today"),
        ],
        responses={200: DailyExecutionStatsSerializer(many=True), **error_responses(422)},
        tags=["Stats"],
    )
    def get(self, request: Request, tenant: str) -> Response:
        query = DailyStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        found = stats.execution_daily_stats(
            tenant=self.tenant,
            start=data["startDate"],
            end=data["endDate"],
            namespace=data["namespace"],
            flow_id=data["flowId"],
        )
        return Response([day.as_json() for day in found])
