"""Kill, pause and resume an execution, Kestra's paths and answers:
`DELETE /executions/{id}/kill` (202), `POST /executions/{id}/pause` (200),
`POST /executions/{id}/resume` (204; multipart or JSON `onResume` values) and
`POST /executions/{id}/resume/validate` (200, each `onResume` input with its errors)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from executions import lifecycle, selectors
from executions.api import _inputs
from tenants.api_base import TenantApi, query_flag

_ID = OpenApiParameter("execution_id", str, OpenApiParameter.PATH)
_MASK = "********"


class ExecutionKillApi(TenantApi):
    @extend_schema(
        operation_id="execution_kill",
        summary="Kill an execution",
        description=(
            "The execution becomes KILLING then KILLED; its running tasks are stopped (a "
            "script's process group is terminated) and its subflow executions are killed too. "
            "202 when the kill is recorded, 409 when the execution has already ended."
        ),
        parameters=[
            _ID,
            OpenApiParameter(
                "isOnKillCascade",
                bool,
                default=True,
                description="Kestra's flag; subflow executions are always killed with it",
            ),
        ],
        request=None,
        responses={202: None, **error_responses(409)},
        tags=["Executions"],
    )
    def delete(self, request: Request, tenant: str, execution_id: str) -> Response:
        query_flag(request, "isOnKillCascade", True)
        lifecycle.execution_kill(tenant=self.tenant, execution_id=execution_id)
        return Response(status=202)


class ExecutionPauseApi(TenantApi):
    @extend_schema(
        operation_id="execution_pause",
        summary="Pause a running execution",
        description=(
            "Tasks already running finish, nothing new starts until the execution is "
            "resumed. 422 when the execution is not running."
        ),
        parameters=[_ID],
        request=None,
        responses={200: None, **error_responses(422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        lifecycle.execution_pause(tenant=self.tenant, execution_id=execution_id)
        return Response(status=200)


class ExecutionUnqueueApi(TenantApi):
    @extend_schema(
        operation_id="execution_unqueue",
        summary="Start a queued execution now, past its flow's concurrency limit",
        description="409 when the execution is not QUEUED.",
        parameters=[_ID],
        request=None,
        responses={200: OpenApiTypes.OBJECT, **error_responses(409)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        row = lifecycle.execution_unqueue(tenant=self.tenant, execution_id=execution_id)
        return Response(selectors.execution_as_json(row))


class ExecutionForceRunApi(TenantApi):
    @extend_schema(
        operation_id="execution_force_run",
        summary="Force an unfinished execution to run",
        description=(
            "CREATED: it starts; QUEUED: it is unqueued; PAUSED: it is resumed without "
            "`onResume` values (422 when its form requires one); otherwise the executor "
            "takes it up again. 409 once it has ended."
        ),
        parameters=[_ID],
        request=None,
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        row = lifecycle.execution_force_run(tenant=self.tenant, execution_id=execution_id)
        return Response(selectors.execution_as_json(row))


class ExecutionResumeApi(TenantApi):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="execution_resume",
        summary="Resume a paused execution",
        description=(
            "The `onResume` inputs of the paused Pause task, as multipart fields and files "
            "or a JSON object; they are typed and validated like flow inputs (422 lists every "
            "invalid one) and readable as `outputs.<pauseId>.onResume.<inputId>`. 409 when "
            "the execution is not paused."
        ),
        parameters=[_ID],
        request={
            "multipart/form-data": OpenApiTypes.OBJECT,
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={204: None, **error_responses(409, 413, 422)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        lifecycle.execution_resume(
            tenant=self.tenant, execution_id=execution_id, provided=_inputs(request)
        )
        return Response(status=204)


class ExecutionResumeValidateApi(TenantApi):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="execution_resume_validate",
        summary="Validate the onResume inputs of a paused execution, without resuming it",
        parameters=[_ID],
        request={
            "multipart/form-data": OpenApiTypes.OBJECT,
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={200: OpenApiTypes.OBJECT, **error_responses(409, 413)},
        tags=["Executions"],
    )
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        checked = lifecycle.execution_resume_validate(
            tenant=self.tenant, execution_id=execution_id, provided=_inputs(request)
        )
        return Response(
            {
                "id": checked.flow_id,
                "namespace": checked.namespace,
                "inputs": [_input_json(item) for item in checked.items],
            }
        )


def _input_json(item: lifecycle.CheckedInput) -> dict[str, Any]:
    secret = str(item.definition.get("type", "")).upper() == "SECRET"
    value = _MASK if secret and item.value is not None else item.value
    return {
        "input": dict(item.definition),
        "value": value,
        "enabled": item.enabled,
        "errors": [{"message": message} for message in item.errors],
    }
