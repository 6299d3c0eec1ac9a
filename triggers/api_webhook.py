"""`GET|POST|PUT /api/v1/{tenant}/executions/webhook/{namespace}/{flowId}/{key}`: Kestra's
webhook endpoint. Open: no credentials and no CSRF token, the key in the URL is the secret
(see triggers/webhooks.py). Thin: read the call, find the webhook, count it, start the flow.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_schema import ErrorSerializer, error_responses
from executions import selectors
from tenants.errors import InvalidInput, PayloadTooLarge
from triggers import webhooks
from triggers.engine.webhook import WebhookCall, returns_outputs


def _schema(method: str) -> Any:
    return extend_schema(
        operation_id=f"webhook_trigger_{method}",
        summary=f"Start a flow by a {method.upper()} on its webhook trigger",
        description=(
            "No credentials: the key is the secret. The body is parsed as a JSON object, "
            "else a JSON array, else kept as text (`trigger.body`); headers and query "
            "parameters are `trigger.headers` and `trigger.parameters`."
        ),
        auth=[],
        parameters=[
            OpenApiParameter("namespace", str, OpenApiParameter.PATH),
            OpenApiParameter("flow_id", str, OpenApiParameter.PATH),
            OpenApiParameter("key", str, OpenApiParameter.PATH, description="the webhook key"),
        ],
        request=None if method == "get" else {"*/*": OpenApiTypes.BINARY},
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The execution (Kestra's JSON); with `returnOutputs`, its outputs",
            ),
            204: OpenApiResponse(description="The trigger's conditions did not pass"),
            **_errors(),
        },
        tags=["Executions"],
    )


def _errors() -> dict[int, OpenApiResponse]:
    responses = error_responses(413)
    del responses[401]  # nothing to authenticate
    responses[404] = OpenApiResponse(
        ErrorSerializer, description="Flow not found, or Webhook not found (wrong key, disabled)"
    )
    responses[429] = OpenApiResponse(
        ErrorSerializer, description="Too many calls to this flow; Retry-After says when to retry"
    )
    return responses


class WebhookApi(APIView):
    authentication_classes: list[Any] = []  # no session, so no CSRF check either
    permission_classes = [AllowAny]
    parser_classes: list[Any] = []  # the body is read as bytes, whatever its type

    @_schema("post")
    def post(
        self, request: Request, tenant: str, namespace: str, flow_id: str, key: str
    ) -> Response:
        return self._receive(request, tenant, namespace, flow_id, key)

    @_schema("get")
    def get(
        self, request: Request, tenant: str, namespace: str, flow_id: str, key: str
    ) -> Response:
        return self._receive(request, tenant, namespace, flow_id, key)

    @_schema("put")
    def put(
        self, request: Request, tenant: str, namespace: str, flow_id: str, key: str
    ) -> Response:
        return self._receive(request, tenant, namespace, flow_id, key)

    def _receive(
        self, request: Request, tenant: str, namespace: str, flow_id: str, key: str
    ) -> Response:
        webhook = webhooks.webhook_find(
            tenant_slug=tenant, namespace=namespace, flow_id=flow_id, key=key
        )
        decision = webhooks.webhook_rate_check(webhook)
        if not decision.allowed:
            raise Throttled(
                wait=decision.retry_after,
                detail=f"Too many calls to the webhook of {namespace}.{flow_id}",
            )
        call = WebhookCall(
            method=request.method or "GET",
            body=_body(request),
            headers=_headers(request),
            parameters={name: values for name, values in request.query_params.lists()},
        )
        execution = webhooks.webhook_execute(webhook=webhook, call=call)
        if execution is None:
            return Response(status=204)
        document = selectors.execution_as_json(execution)
        if returns_outputs(webhook.trigger.spec):
            return Response(document.get("outputs") or {}, headers=_about(document))
        return Response(document, headers=_about(document))


def _body(request: Request) -> bytes:
    """The raw body, refused (413) past `AVIARY["WEBHOOK_MAX_BODY_BYTES"]` without reading
    more than one byte beyond the limit."""
    limit = int(settings.AVIARY["WEBHOOK_MAX_BODY_BYTES"])
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise InvalidInput(f"Content-Length must be a number, got {declared[:20]!r}")
    too_large = PayloadTooLarge(f"The webhook body is larger than {limit} bytes")
    if int(declared) > limit:
        raise too_large
    stream = request.stream  # Django's, bounded by Content-Length; None for an empty body
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise too_large
    return body


def _headers(request: Request) -> dict[str, list[str]]:
    """Header names in lower case (the server does not keep the client's case), each with
    its values; WSGI has already joined repeated headers into one value."""
    headers: dict[str, list[str]] = {}
    for name, value in request.META.items():
        if name.startswith("HTTP_"):
            headers[name[5:].lower().replace("_", "-")] = [str(value)]
        elif name in {"CONTENT_TYPE", "CONTENT_LENGTH"} and value:
            headers[name.lower().replace("_", "-")] = [str(value)]
    return headers


def _about(document: dict[str, Any]) -> dict[str, str]:
    """Which execution answered, and its state: a caller of a `returnOutputs` webhook sees
    only outputs otherwise, and a `wait` that timed out answers before the end."""
    return {
        "X-Aviary-Execution-Id": str(document["id"]),
        "X-Aviary-Execution-State": str(document["state"]["current"]),
    }
