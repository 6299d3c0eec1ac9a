"""Files of an execution, Kestra's paths: `GET /api/v1/{tenant}/executions/{id}/file?path=`
(download), `/file/metas` (size) and `/file/preview` (the first lines of a text file).

`path` must be a `kestra:///` URI under the execution's own storage prefix (executions/files.py
checks it); another execution's file, `..` or any other scheme is a 422, a missing file a 404.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from executions import files, selectors
from executions.api import ExecutionCreateApi
from tenants.api_base import TenantApi

EXECUTION_ID = OpenApiParameter("execution_id", str, OpenApiParameter.PATH)
PATH = OpenApiParameter(
    "path",
    str,
    required=True,
    description="The kestra:/// URI of a file of this execution, e.g. "
    "kestra:///company/team/my_flow/executions/{id}/tasks/t/{taskRunId}/out.csv",
)


class ExecutionFileApi(TenantApi):
    parser_classes = ExecutionCreateApi.parser_classes

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The file is streamed as it is stored, whatever `Accept` asks; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="execution_file",
        summary="Download a file of an execution",
        parameters=[EXECUTION_ID, PATH],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, as an attachment named after it; Content-Type guessed "
                "from its name",
            ),
            **error_responses(422),
        },
        tags=["Executions"],
    )
    def get(self, request: Request, tenant: str, execution_id: str) -> FileResponse:
        execution = selectors.execution_get(tenant=self.tenant, execution_id=execution_id)
        path = request.query_params.get("path")
        opened = files.execution_file_open(execution=execution, path=path)
        return FileResponse(opened.handle, as_attachment=True, filename=opened.name)

    @extend_schema(exclude=True)  # documented as execution_create
    def post(self, request: Request, tenant: str, execution_id: str) -> Response:
        """`POST /executions/{namespace}/file` executes the flow `file` of that namespace: this
        route shadows the create route for that one flow id (Kestra tells them apart by
        method), so it hands the request over."""
        create = ExecutionCreateApi.post
        return create(self, request, tenant, namespace=execution_id, flow_id="file")  # type: ignore[arg-type]


class ExecutionFileMetasApi(TenantApi):
    @extend_schema(
        operation_id="execution_file_metas",
        summary="Size of a file of an execution",
        parameters=[EXECUTION_ID, PATH],
        responses={
            200: inline_serializer("FileMetas", {"size": serializers.IntegerField()}),
            **error_responses(422),
        },
        tags=["Executions"],
    )
    def get(self, request: Request, tenant: str, execution_id: str) -> Response:
        execution = selectors.execution_get(tenant=self.tenant, execution_id=execution_id)
        size = files.execution_file_size(execution=execution, path=request.query_params.get("path"))
        return Response({"size": size})


class ExecutionFilePreviewApi(TenantApi):
    @extend_schema(
        operation_id="execution_file_preview",
        summary="The first lines of a text file of an execution",
        description=(
            f"Text files only ({', '.join(sorted(files.TEXT_EXTENSIONS))}); other files are a "
            f"422. At most {files.PREVIEW_MAX_BYTES} bytes are read; `truncated` says the file "
            "goes on."
        ),
        parameters=[
            EXECUTION_ID,
            PATH,
            OpenApiParameter(
                "maxRows",
                int,
                description=f"Lines to return (default {files.PREVIEW_ROWS}, at most "
                f"{files.PREVIEW_MAX_ROWS})",
            ),
            OpenApiParameter("encoding", str, description="The file's encoding (default UTF-8)"),
        ],
        responses={
            200: inline_serializer(
                "FilePreview",
                {
                    "extension": serializers.CharField(),
                    "type": serializers.ChoiceField(choices=["TEXT", "MARKDOWN"]),
                    "content": serializers.CharField(),
                    "maxLine": serializers.IntegerField(),
                    "truncated": serializers.BooleanField(),
                },
            ),
            **error_responses(422),
        },
        tags=["Executions"],
    )
    def get(self, request: Request, tenant: str, execution_id: str) -> Response:
        execution = selectors.execution_get(tenant=self.tenant, execution_id=execution_id)
        preview = files.execution_file_preview(
            execution=execution,
            path=request.query_params.get("path"),
            max_rows=files.preview_rows(request.query_params.get("maxRows")),
            encoding=request.query_params.get("encoding") or "utf-8",
        )
        return Response(preview.as_json())
