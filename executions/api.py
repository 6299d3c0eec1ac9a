"""Executions API, Kestra's paths: create (multipart inputs and files, labels, `?wait=true`),
get, delete, and the logs of an execution."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from executions import deletion, selectors, services
from executions.engine.inputs import FileUpload
from tenants.api_base import TenantApi, query_flag
from tenants.errors import Unprocessable, Violation

WAIT_LIMIT = timedelta(minutes=5)


def _labels(request: Request) -> list[tuple[str, str]]:
    pairs, problems = [], []
    for raw in request.query_params.getlist("labels"):
        key, sep, value = raw.partition(":")
        if not sep or not key:
            problems.append(Violation("labels", f"expected key:value, got '{raw}'"))
        else:
            pairs.append((key, value))
    if problems:
        raise Unprocessable("Invalid labels", violations=problems)
    return pairs


def _inputs(request: Request) -> dict[str, object]:
    """Form fields and uploaded files (multipart), or a JSON object of typed values."""
    data = request.data
    if hasattr(data, "lists"):
        provided: dict[str, object] = {k: v[-1] for k, v in data.lists() if k not in request.FILES}
    elif isinstance(data, dict):
        provided = dict(data)
    else:
        provided = {}
    for name, upload in request.FILES.items():
        provided[name] = FileUpload(upload.name or name, upload.read(), upload.size)
    return provided


class ExecutionCreateApi(TenantApi):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="execution_create",
        parameters=[
            OpenApiParameter("namespace", str, OpenApiParameter.PATH),
            OpenApiParameter("flow_id", str, OpenApiParameter.PATH),
            OpenApiParameter("labels", str, many=True, description="key:value, repeatable"),
            OpenApiParameter("wait", bool, description="answer once the execution has ended"),
        ],
        request={
            "multipart/form-data": OpenApiTypes.OBJECT,
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 413, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, namespace: str, flow_id: str) -> Response:
        row = services.execution_create(
            tenant=self.tenant,
            namespace=namespace,
            flow_id=flow_id,
            provided=_inputs(request),
            labels=_labels(request),
        )
        if request.query_params.get("wait", "false").lower() == "true":
            row = services.wait_for_terminal(
                tenant=self.tenant, execution_id=row.id, timeout=WAIT_LIMIT
            )
        return Response(selectors.execution_as_json(row))


class ExecutionDetailApi(TenantApi):
    @extend_schema(
        operation_id="execution_get",
        parameters=[OpenApiParameter("execution_id", str, OpenApiParameter.PATH)],
        responses={200: OpenApiTypes.OBJECT, **error_responses()},
        tags=["Executions"],
    )
    def get(self, request: Request, tenant: str, execution_id: str) -> Response:
        row = selectors.execution_get(tenant=self.tenant, execution_id=execution_id)
        return Response(selectors.execution_as_json(row))

    @extend_schema(
        operation_id="execution_delete",
        summary="Delete an ended execution, its task runs, logs and files",
        parameters=[
            OpenApiParameter("execution_id", str, OpenApiParameter.PATH),
            OpenApiParameter(
                "deleteLogs", bool, default=True, description="false is refused (422)"
            ),
            OpenApiParameter(
                "deleteMetrics", bool, default=True, description="Aviary records no metrics"
            ),
            OpenApiParameter(
                "deleteStorage", bool, default=True, description="remove the execution's files"
            ),
        ],
        responses={204: None, **error_responses(409, 422)},
        tags=["Executions"],
    )
    def delete(self, request: Request, tenant: str, execution_id: str) -> Response:
        deletion.execution_delete(
            tenant=self.tenant,
            execution_id=execution_id,
            delete_logs=query_flag(request, "deleteLogs", True),
            delete_metrics=query_flag(request, "deleteMetrics", True),
            delete_storage=query_flag(request, "deleteStorage", True),
        )
        return Response(status=204)


class ExecutionLogsApi(TenantApi):
    @extend_schema(
        operation_id="logs_of_execution",
        parameters=[
            OpenApiParameter("execution_id", str, OpenApiParameter.PATH),
            OpenApiParameter("minLevel", str, enum=["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]),
        ],
        responses={200: OpenApiTypes.OBJECT, **error_responses()},
        tags=["Logs"],
    )
    def get(self, request: Request, tenant: str, execution_id: str) -> Response:
        min_level = request.query_params.get("minLevel", "TRACE")
        row = selectors.execution_get(tenant=self.tenant, execution_id=execution_id)
        entries = selectors.log_list(
            tenant=self.tenant, execution_id=execution_id, min_level=min_level
        )
        return Response([selectors.log_as_json(entry, row) for entry in entries[:10_000]])
