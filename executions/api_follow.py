"""Kestra's follow endpoints, as server-sent events: `GET /api/v1/{tenant}/executions/{id}/follow`
(the execution JSON whenever it changes, until it has ended) and `GET /logs/{id}/follow` (the
log lines, existing then new). Thin: check the tenant and the execution (404 as JSON before
any stream starts), then hand the stream over (executions/follow.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from executions import follow, selectors
from executions.api import ExecutionCreateApi
from tenants.api_base import TenantApi
from tenants.errors import InvalidInput

EXECUTION_ID = OpenApiParameter("execution_id", str, OpenApiParameter.PATH)
LAST_EVENT_ID = OpenApiParameter(
    "Last-Event-ID",
    str,
    OpenApiParameter.HEADER,
    description="Sent by an EventSource that reconnects: the id of the last event it got",
)


class FollowApi(TenantApi):
    """A stream: whatever `Accept` asks (an EventSource asks for text/event-stream), errors
    before the stream are JSON."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


class ExecutionFollowApi(FollowApi):
    parser_classes = ExecutionCreateApi.parser_classes

    @extend_schema(
        operation_id="execution_follow",
        summary="Follow an execution",
        description="Server-sent events: the execution (as `GET /executions/{id}`) each time "
        "it changes, with event id `progress`, the terminal one with id `end`, after which "
        "the stream ends. Intermediate states reached between two reads may be skipped. A "
        "comment is sent when idle; a stream lasts at most `AVIARY_FOLLOW_MAX_SECONDS`. A "
        "reconnection with `Last-Event-ID: end` to an ended execution gets 204 (no stream).",
        parameters=[EXECUTION_ID, LAST_EVENT_ID],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="`id: progress|end` and `data: {execution}`"
            ),
            204: OpenApiResponse(description="Already ended, and the client saw the end"),
            **error_responses(),
        },
        tags=["Executions"],
    )
    def get(self, request: Request, tenant: str, execution_id: str) -> HttpResponse:
        row = selectors.execution_get(tenant=self.tenant, execution_id=execution_id)
        if request.headers.get("Last-Event-ID") == "end" and follow.finished(row):
            return HttpResponse(status=204)  # an EventSource stops reconnecting on a 204
        follower = follow.ExecutionFollower(self.tenant, row.id)
        return follow.event_stream(tenant=self.tenant, execution_id=row.id, follower=follower)

    @extend_schema(exclude=True)  # documented as execution_create
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        """`POST /executions/{namespace}/follow` executes the flow `follow` of that namespace:
        this route shadows the create route for that one flow id (Kestra tells them apart by
        method), so it hands the request over."""
        create = ExecutionCreateApi.post
        return create(self, request, tenant, namespace=execution_id, flow_id="follow")  # type: ignore[arg-type]


class ExecutionLogsFollowApi(FollowApi):
    @extend_schema(
        operation_id="logs_follow",
        summary="Follow the logs of an execution",
        description="Server-sent events: each log line (as in `GET /logs/{id}`) at `minLevel` "
        "or above, the existing ones first, then new ones as they are written; the event id "
        "is the line's id (a reconnection with `Last-Event-ID` resumes after it). The stream "
        "ends once the execution has ended and its lines were sent. A comment is sent when "
        "idle; a stream lasts at most `AVIARY_FOLLOW_MAX_SECONDS`.",
        parameters=[
            EXECUTION_ID,
            OpenApiParameter("minLevel", str, enum=list(selectors.LOG_LEVELS)),
            LAST_EVENT_ID,
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="`id: {line id}` and `data: {log line}`"
            ),
            204: OpenApiResponse(description="Ended, and every line after Last-Event-ID sent"),
            **error_responses(),
        },
        tags=["Logs"],
    )
    def get(self, request: Request, tenant: str, execution_id: str) -> HttpResponse:
        row = selectors.execution_get(tenant=self.tenant, execution_id=execution_id)
        min_level = request.query_params.get("minLevel", "TRACE")
        if min_level not in selectors.LOG_LEVELS:
            levels = ", ".join(selectors.LOG_LEVELS)
            raise InvalidInput(f"expected one of {levels}, got '{min_level}'", field="minLevel")
        after_id = _last_line_id(request)
        if after_id is not None and follow.finished(row):
            newer = selectors.log_entries_after(
                tenant=self.tenant, execution=row, after_id=after_id, min_level=min_level
            )
            if not newer.exists():
                return HttpResponse(status=204)  # an EventSource stops reconnecting on a 204
        follower = follow.LogFollower(self.tenant, row, min_level, after_id)
        return follow.event_stream(tenant=self.tenant, execution_id=row.id, follower=follower)


def _last_line_id(request: Request) -> int | None:
    """The line id an EventSource sends back when it reconnects; anything else is ignored
    (the stream then starts over with the existing lines)."""
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None
