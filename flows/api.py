"""The Kestra-compatible flows API: `/api/v1/{tenant}/flows/...`. Thin: parse, call, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from flows import selectors, services
from flows.archive import import_files
from flows.parsers import YAML_PARSERS, yaml_body
from flows.spec import FlowValidation, parse_flow, validate_flow_source
from flows.spec.graph import flow_graph
from flows.spec.yaml_loader import split_documents
from flows.tasktypes import registry
from tenants.api_base import TenantApi
from tenants.errors import Unprocessable, Violation
from tenants.models import Tenant
from triggers.upstreams import missing_upstreams

YAML_BODY = {"application/x-yaml": OpenApiTypes.STR}


class FlowOutputSerializer(serializers.Serializer):
    """Kestra's Flow JSON; the parsed YAML's other keys (tasks, inputs, ...) come along."""

    id = serializers.CharField()
    namespace = serializers.CharField()
    revision = serializers.IntegerField()
    disabled = serializers.BooleanField()
    deleted = serializers.BooleanField()
    source = serializers.CharField(required=False)

    class Meta:
        ref_name = "Flow"


class FlowSearchOutputSerializer(serializers.Serializer):
    results = FlowOutputSerializer(many=True)
    total = serializers.IntegerField()


class FlowSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    namespace = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    labels = serializers.ListField(
        child=serializers.CharField(max_length=1300), required=False, default=list
    )
    sort = serializers.CharField(required=False, default="id:asc")
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=25)

    def validate_labels(self, values: list[str]) -> list[tuple[str, str]]:
        pairs = []
        for value in values:
            key, sep, label_value = value.partition(":")
            if not sep or not key:
                raise serializers.ValidationError(f"expected key:value, got '{value}'")
            pairs.append((key, label_value))
        return pairs

    def validate_sort(self, value: str) -> tuple[str, str]:
        field, _, direction = value.partition(":")
        direction = direction or "asc"
        if field not in selectors.SORT_FIELDS or direction not in {"asc", "desc"}:
            fields = ", ".join(sorted(selectors.SORT_FIELDS))
            raise serializers.ValidationError(
                f"expected <field>:asc|desc with field one of {fields}, got '{value}'"
            )
        return field, direction

    def to_query(self) -> selectors.FlowQuery:
        data = self.validated_data
        return selectors.FlowQuery(
            q=data["q"].strip(),
            namespace=data["namespace"].strip(),
            labels=tuple(data["labels"]),
            sort=data["sort"],
        )


def search_query(request: Request) -> FlowSearchQuerySerializer:
    params: dict[str, Any] = {k: v for k, v in request.query_params.items() if k != "labels"}
    params["labels"] = request.query_params.getlist("labels")
    query = FlowSearchQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    return query


SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="text in the id, namespace or description"),
    OpenApiParameter("namespace", str, description="a namespace and its children"),
    OpenApiParameter("labels", str, many=True, description="key:value, repeatable (AND)"),
    OpenApiParameter("sort", str, description="id|namespace|revision|updated, :asc or :desc"),
]


class FlowCreateApi(TenantApi):
    parser_classes = YAML_PARSERS

    @extend_schema(
        operation_id="flow_create",
        request=YAML_BODY,
        responses={200: FlowOutputSerializer, **error_responses(409, 413, 422)},
        tags=["Flows"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        flow = services.flow_create(
            tenant=self.tenant, user=request.user, source=yaml_body(request)
        )
        return Response(selectors.flow_as_json(flow, source=True))


class FlowDetailApi(TenantApi):
    parser_classes = YAML_PARSERS

    @extend_schema(
        operation_id="flow_get",
        parameters=[OpenApiParameter("source", bool, description="include the YAML source")],
        responses={200: FlowOutputSerializer, **error_responses()},
        tags=["Flows"],
    )
    def get(self, request: Request, tenant: str, namespace: str, flow_id: str) -> Response:
        flow = selectors.flow_get(tenant=self.tenant, namespace=namespace, flow_id=flow_id)
        with_source = request.query_params.get("source", "false").lower() == "true"
        return Response(selectors.flow_as_json(flow, source=with_source))

    @extend_schema(
        operation_id="flow_update",
        request=YAML_BODY,
        responses={200: FlowOutputSerializer, **error_responses(413, 422)},
        tags=["Flows"],
    )
    def put(self, request: Request, tenant: str, namespace: str, flow_id: str) -> Response:
        flow = services.flow_update(
            tenant=self.tenant,
            user=request.user,
            namespace=namespace,
            flow_id=flow_id,
            source=yaml_body(request),
        )
        return Response(selectors.flow_as_json(flow, source=True))

    @extend_schema(
        operation_id="flow_delete",
        responses={204: OpenApiResponse(description="deleted"), **error_responses()},
        tags=["Flows"],
    )
    def delete(self, request: Request, tenant: str, namespace: str, flow_id: str) -> Response:
        services.flow_delete(
            tenant=self.tenant, user=request.user, namespace=namespace, flow_id=flow_id
        )
        return Response(status=204)


class FlowRevisionListApi(TenantApi):
    @extend_schema(
        operation_id="flow_revisions",
        responses={200: FlowOutputSerializer(many=True), **error_responses()},
        tags=["Flows"],
    )
    def get(self, request: Request, tenant: str, namespace: str, flow_id: str) -> Response:
        flow = selectors.flow_get(tenant=self.tenant, namespace=namespace, flow_id=flow_id)
        revisions = selectors.flow_revision_list(tenant=self.tenant, flow=flow)
        return Response(
            [
                {
                    "id": flow.flow_id,
                    "namespace": flow.namespace.name,
                    "revision": revision.revision,
                    "disabled": flow.disabled,
                    "deleted": revision.deleted,
                    "source": revision.source,
                    "created": revision.created_at.isoformat(),
                }
                for revision in revisions
            ]
        )


class FlowGraphApi(TenantApi):
    """Kestra's `GET /flows/{namespace}/{id}/graph`: the flow's tasks as nodes, edges and
    clusters (flowables), of the current revision or of `?revision=`."""

    @extend_schema(
        operation_id="flow_graph",
        parameters=[OpenApiParameter("revision", int, description="a revision of the flow")],
        responses={200: OpenApiTypes.OBJECT, **error_responses(422)},
        tags=["Flows"],
    )
    def get(self, request: Request, tenant: str, namespace: str, flow_id: str) -> Response:
        flow = selectors.flow_get(tenant=self.tenant, namespace=namespace, flow_id=flow_id)
        raw = request.query_params.get("revision")
        if raw is None:
            return Response(flow_graph(flow.spec))
        if not raw.isdigit() or int(raw) < 1:
            raise Unprocessable(
                "Invalid revision",
                violations=[Violation("revision", f"must be a positive integer, got '{raw}'")],
            )
        revision = selectors.flow_revision_get(tenant=self.tenant, flow=flow, revision=int(raw))
        return Response(flow_graph(parse_flow(revision.source).data))


class FlowSearchApi(TenantApi):
    @extend_schema(
        operation_id="flow_search",
        parameters=[
            *SEARCH_PARAMETERS,
            OpenApiParameter("page", int, description="1-based page"),
            OpenApiParameter("size", int, description="page size, at most 1000"),
        ],
        responses={200: FlowSearchOutputSerializer, **error_responses(422)},
        tags=["Flows"],
    )
    def get(self, request: Request, tenant: str) -> Response:
        query = search_query(request)
        flows = selectors.flow_search(tenant=self.tenant, query=query.to_query())
        page, size = query.validated_data["page"], query.validated_data["size"]
        total = flows.count()
        results = flows[(page - 1) * size : page * size]
        return Response(
            {"results": [selectors.flow_as_json(flow) for flow in results], "total": total}
        )


class ValidationResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    flow = serializers.CharField(allow_null=True)
    namespace = serializers.CharField(allow_null=True)
    constraints = serializers.CharField(allow_null=True)
    outdated = serializers.BooleanField()
    deprecationPaths = serializers.ListField(child=serializers.CharField())
    violations = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.DictField())


def _upstream_warnings(tenant: Tenant, checked: FlowValidation) -> list[Violation]:
    """Preconditions naming flows that do not exist: accepted, with a warning at the line."""
    if checked.data is None or checked.violations:
        return []
    return [
        Violation(w.path, w.message, line=checked.line_of(w.path))
        for w in missing_upstreams(tenant, checked.data)
    ]


class FlowValidateApi(TenantApi):
    """Validate one or many YAML documents without saving anything (the editor calls this)."""

    parser_classes = YAML_PARSERS

    @extend_schema(
        operation_id="flow_validate",
        request=YAML_BODY,
        responses={200: ValidationResultSerializer(many=True), **error_responses(413, 422)},
        tags=["Flows"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        results = []
        body = yaml_body(request)
        for index, document in enumerate(split_documents(body) or [body]):
            checked = validate_flow_source(document)
            violations = [v.as_dict() for v in checked.violations]
            notes = [*checked.warnings, *_upstream_warnings(self.tenant, checked)]
            results.append(
                {
                    "index": index,
                    "flow": checked.flow_id,
                    "namespace": checked.namespace,
                    "constraints": "\n".join(str(v) for v in checked.violations) or None,
                    "outdated": False,
                    "deprecationPaths": [w.path for w in checked.warnings],
                    "violations": violations,
                    "warnings": [w.as_dict() for w in notes],
                }
            )
        return Response(results)


class FlowExportApi(TenantApi):
    @extend_schema(
        operation_id="flow_export_by_query",
        parameters=SEARCH_PARAMETERS,
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="ZIP"),
            **error_responses(422),
        },
        tags=["Flows"],
    )
    def get(self, request: Request, tenant: str) -> HttpResponse:
        query = search_query(request)
        flows = selectors.flow_search(tenant=self.tenant, query=query.to_query())
        response = HttpResponse(
            selectors.flow_export_zip(flows=flows), content_type="application/zip"
        )
        response["Content-Disposition"] = 'attachment; filename="flows.zip"'
        return response


class ImportResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    flows = serializers.ListField(child=serializers.DictField())


class FlowImportApi(TenantApi):
    """Import a ZIP of YAML files (or one YAML file): all valid, or nothing is saved."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="flow_import",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"fileUpload": {"type": "string", "format": "binary"}},
                "required": ["fileUpload"],
            }
        },
        responses={200: ImportResultSerializer, **error_responses(413, 422)},
        tags=["Flows"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        upload = request.FILES.get("fileUpload")
        if upload is None:
            raise Unprocessable(
                "send the flows as a multipart file field named fileUpload",
                violations=[Violation(path="fileUpload", message="required")],
            )
        limit = settings.AVIARY["MAX_IMPORT_BYTES"]
        files = import_files(upload.name or "upload", upload.read(limit + 1))
        flows = services.flow_import(tenant=self.tenant, user=request.user, files=files)
        return Response(
            {
                "count": len(flows),
                "flows": [
                    {"namespace": f.namespace.name, "id": f.flow_id, "revision": f.revision}
                    for f in flows
                ],
            }
        )


class PluginCatalogApi(TenantApi):
    """The registered task, trigger and condition types with their properties."""

    @extend_schema(
        operation_id="plugin_catalog",
        responses={200: OpenApiTypes.OBJECT, **error_responses()},
        tags=["Plugins"],
    )
    def get(self, request: Request, tenant: str) -> Response:
        return Response(registry.autocomplete_catalog())
