"""Kestra's search endpoints: `GET /api/v1/{tenant}/executions/search` and `/logs/search`.

Thin: validate the query string (every problem is a 422 naming its parameter), call one
selector, render. A request costs at most 3 SQL queries: the API token, the tenant with the
membership, and the search itself (see executions/search.py).
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from executions import search
from executions.engine.states import State
from tenants.api_base import TenantApi
from tenants.models import NAMESPACE_RE

EXECUTION_SORT_FIELDS = ("state.startDate", "startDate")
LOG_SORT_FIELDS = ("timestamp",)
MAX_PAGE_SIZE = 100
MAX_LOG_PAGE_SIZE = 500


class SearchApi(TenantApi):
    """The search endpoints (TenantApi resolves tenant and membership in one query)."""


# --- query strings --------------------------------------------------------------------------


def _sort(value: str, fields: tuple[str, ...]) -> bool:
    """`field:asc|desc` → descending?"""
    field, _, direction = value.partition(":")
    if field not in fields or direction not in {"", "asc", "desc"}:
        raise serializers.ValidationError(
            f"expected {fields[0]}:asc or {fields[0]}:desc, got '{value}'"
        )
    return direction == "desc"


class SearchQuerySerializer(serializers.Serializer):
    """What both searches share: namespace, dates, paging."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """A shallow copy of each declared field: DRF deep-copies them for every instance,
        re-running each constructor (a tenth of a search request's CPU); these fields hold no
        state of their own between requests, binding sets the copy's attributes only."""
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    namespace = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    flowId = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    startDate = serializers.DateTimeField(required=False, default=None)
    endDate = serializers.DateTimeField(required=False, default=None)
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    after = serializers.CharField(required=False, allow_blank=True, max_length=400, default="")

    numeric_ids: bool = False
    max_size: int = MAX_PAGE_SIZE

    def validate_namespace(self, value: str) -> str:
        if value and not NAMESPACE_RE.match(value):
            raise serializers.ValidationError(
                f"expected a namespace such as company.team, got '{value}'"
            )
        return value

    def validate_after(self, value: str) -> search.Cursor | None:
        if not value:
            return None
        try:
            return search.Cursor.decode(value, numeric_id=self.numeric_ids)
        except search.BadCursor as error:
            raise serializers.ValidationError(str(error)) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["startDate"], attrs["endDate"]
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"endDate": "must not be before startDate"})
        after, page, size = attrs["after"], attrs["page"], attrs["size"]
        if after is not None and page != 1:
            raise serializers.ValidationError({"after": "give either after or page, not both"})
        if after is not None and after.descending != attrs["sort"]:
            raise serializers.ValidationError({"after": "this cursor was issued for another sort"})
        if (page - 1) * size >= search.TOTAL_CAP:
            raise serializers.ValidationError(
                {"page": f"pages stop at row {search.TOTAL_CAP}; continue with after=<next>"}
            )
        return attrs

    def page_request(self) -> search.PageRequest:
        data = self.validated_data
        return search.PageRequest(
            size=data["size"], page=data["page"], descending=data["sort"], after=data["after"]
        )


class ExecutionSearchQuerySerializer(SearchQuerySerializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    state = serializers.ListField(
        child=serializers.ChoiceField(choices=[s.value for s in State]),
        required=False,
        default=list,
        max_length=len(State),
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list, max_length=20
    )
    sort = serializers.CharField(required=False, default="state.startDate:desc", max_length=50)
    size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=10
    )

    def validate_labels(self, values: list[str]) -> list[tuple[str, str]]:
        pairs = []
        for value in values:
            key, sep, label_value = value.partition(":")
            if not sep or not key:
                raise serializers.ValidationError(f"expected key:value, got '{value}'")
            pairs.append((key, label_value))
        return pairs

    def validate_sort(self, value: str) -> bool:
        return _sort(value, EXECUTION_SORT_FIELDS)

    def spec(self) -> search.ExecutionFilter:
        data = self.validated_data
        return search.ExecutionFilter(
            namespace=data["namespace"],
            flow_id=data["flowId"],
            states=tuple(dict.fromkeys(data["state"])),
            labels=tuple(data["labels"]),
            start_date=data["startDate"],
            end_date=data["endDate"],
            q=data["q"].strip(),
        )


class LogSearchQuerySerializer(SearchQuerySerializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    minLevel = serializers.ChoiceField(
        choices=list(search.LOG_LEVELS), required=False, default="TRACE"
    )
    executionId = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
    sort = serializers.CharField(required=False, default="timestamp:desc", max_length=50)
    size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LOG_PAGE_SIZE, default=10
    )

    numeric_ids = True

    def validate_sort(self, value: str) -> bool:
        return _sort(value, LOG_SORT_FIELDS)

    def spec(self) -> search.LogFilter:
        data = self.validated_data
        return search.LogFilter(
            q=data["q"],
            min_level=data["minLevel"],
            namespace=data["namespace"],
            flow_id=data["flowId"],
            execution_id=data["executionId"],
            start_date=data["startDate"],
            end_date=data["endDate"],
        )


def _validated(serializer_class: type[SearchQuerySerializer], request: Request) -> Any:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query


# --- output (for the OpenAPI document; the selectors build the JSON) -------------------------


class StateHistorySerializer(serializers.Serializer):
    state = serializers.CharField()
    date = serializers.CharField()

    class Meta:
        ref_name = "ExecutionStateHistory"


class ExecutionStateSerializer(serializers.Serializer):
    current = serializers.CharField()
    histories = StateHistorySerializer(many=True)
    startDate = serializers.CharField()
    endDate = serializers.CharField(allow_null=True)
    duration = serializers.CharField(help_text="ISO-8601, e.g. PT1.25S")

    class Meta:
        ref_name = "ExecutionState"


class LabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "ExecutionLabel"


class ExecutionSummarySerializer(serializers.Serializer):
    """Kestra's Execution without taskRunList, inputs, outputs and variables."""

    id = serializers.CharField()
    namespace = serializers.CharField()
    flowId = serializers.CharField()
    flowRevision = serializers.IntegerField()
    parentId = serializers.CharField(allow_null=True)
    originalId = serializers.CharField()
    state = ExecutionStateSerializer()
    labels = LabelSerializer(many=True)

    class Meta:
        ref_name = "ExecutionSummary"


class PageFieldsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text=f"exact up to {search.TOTAL_CAP}, then capped")
    totalCapped = serializers.BooleanField(help_text=f"more than {search.TOTAL_CAP} rows match")
    next = serializers.CharField(allow_null=True, help_text="pass as `after` for the next page")


class ExecutionSearchOutputSerializer(PageFieldsSerializer):
    results = ExecutionSummarySerializer(many=True)


class LogEntrySerializer(serializers.Serializer):
    executionId = serializers.CharField()
    namespace = serializers.CharField()
    flowId = serializers.CharField()
    taskId = serializers.CharField(allow_null=True)
    taskRunId = serializers.CharField(allow_null=True)
    attemptNumber = serializers.IntegerField()
    level = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    timestamp = serializers.CharField()

    class Meta:
        ref_name = "LogEntry"


class LogSearchOutputSerializer(PageFieldsSerializer):
    results = LogEntrySerializer(many=True)


# --- endpoints ------------------------------------------------------------------------------

COMMON_PARAMETERS = [
    OpenApiParameter("namespace", str, description="a namespace and its children"),
    OpenApiParameter("flowId", str, description="exact flow id"),
    OpenApiParameter("startDate", str, description="ISO date-time, lower bound (≥)"),
    OpenApiParameter("page", int, description="1-based page; rows beyond 10,000 need `after`"),
    OpenApiParameter("after", str, description="the `next` of the previous page (keyset)"),
]


class ExecutionSearchApi(SearchApi):
    @extend_schema(
        operation_id="execution_search",
        parameters=[
            *COMMON_PARAMETERS,
            OpenApiParameter("endDate", str, description="ISO date-time (end date ≤)"),
            OpenApiParameter("q", str, description="id prefix, or text in the flow id"),
            OpenApiParameter(
                "state", str, many=True, enum=[s.value for s in State], description="repeatable"
            ),
            OpenApiParameter("labels", str, many=True, description="key:value, repeatable (AND)"),
            OpenApiParameter("sort", str, enum=["state.startDate:desc", "state.startDate:asc"]),
            OpenApiParameter("size", int, description=f"at most {MAX_PAGE_SIZE}, default 10"),
        ],
        responses={200: ExecutionSearchOutputSerializer, **error_responses(422)},
        tags=["Executions"],
    )
    def get(self, request: Request, tenant: str) -> Response:
        query = _validated(ExecutionSearchQuerySerializer, request)
        found = search.execution_search(
            tenant=self.tenant, spec=query.spec(), request=query.page_request()
        )
        return Response(found.as_json())


class LogSearchApi(SearchApi):
    @extend_schema(
        operation_id="log_search",
        parameters=[
            *COMMON_PARAMETERS,
            OpenApiParameter("endDate", str, description="ISO date-time (timestamp ≤)"),
            OpenApiParameter("q", str, description="text in the message"),
            OpenApiParameter("minLevel", str, enum=list(search.LOG_LEVELS)),
            OpenApiParameter("executionId", str, description="one execution's lines"),
            OpenApiParameter("sort", str, enum=["timestamp:desc", "timestamp:asc"]),
            OpenApiParameter("size", int, description=f"at most {MAX_LOG_PAGE_SIZE}, default 10"),
        ],
        responses={200: LogSearchOutputSerializer, **error_responses(422)},
        tags=["Logs"],
    )
    def get(self, request: Request, tenant: str) -> Response:
        query = _validated(LogSearchQuerySerializer, request)
        found = search.log_search(
            tenant=self.tenant, spec=query.spec(), request=query.page_request()
        )
        return Response(found.as_json())
