"""Namespaces API: `/api/v1/{tenant}/namespaces/...`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from tenants import selectors, services
from tenants.api_base import TenantApi
from tenants.models import Namespace


class NamespaceOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="name")
    description = serializers.CharField()
    variables = serializers.DictField()
    created = serializers.DateTimeField(source="created_at")
    updated = serializers.DateTimeField(source="updated_at")

    class Meta:
        ref_name = "Namespace"


class NamespaceSearchOutputSerializer(serializers.Serializer):
    results = NamespaceOutputSerializer(many=True)
    total = serializers.IntegerField()


class NamespaceInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=150)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    variables = serializers.DictField(required=False, default=dict)


class NamespaceUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, default="")
    variables = serializers.DictField(required=False, default=dict)


class NamespaceSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=25)


class NamespaceSearchApi(TenantApi):
    """`GET /namespaces/search` (Kestra's path); `GET /namespaces` answers the same."""

    @extend_schema(
        operation_id="namespace_search",
        parameters=[NamespaceSearchQuerySerializer],
        responses={200: NamespaceSearchOutputSerializer, **error_responses(422)},
        tags=["Namespaces"],
    )
    def get(self, request: Request, tenant: str) -> Response:
        query = NamespaceSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page, size = query.validated_data["page"], query.validated_data["size"]
        namespaces = selectors.namespace_list(tenant=self.tenant, query=query.validated_data["q"])
        results = namespaces[(page - 1) * size : page * size]
        return Response(
            {
                "results": NamespaceOutputSerializer(results, many=True).data,
                "total": namespaces.count(),
            }
        )


class NamespaceListApi(TenantApi):
    @extend_schema(
        operation_id="namespace_list",
        parameters=[NamespaceSearchQuerySerializer],
        responses={200: NamespaceSearchOutputSerializer, **error_responses(422)},
        tags=["Namespaces"],
    )
    def get(self, request: Request, tenant: str) -> Response:
        return NamespaceSearchApi.get(self, request, tenant)  # type: ignore[arg-type]

    @extend_schema(
        operation_id="namespace_create",
        request=NamespaceInputSerializer,
        responses={200: NamespaceOutputSerializer, **error_responses(409, 422)},
        tags=["Namespaces"],
    )
    def post(self, request: Request, tenant: str) -> Response:
        data = NamespaceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        namespace = services.namespace_create(
            tenant=self.tenant,
            name=data.validated_data["id"],
            description=data.validated_data["description"],
            variables=data.validated_data["variables"],
        )
        return Response(NamespaceOutputSerializer(namespace).data)


class NamespaceDetailApi(TenantApi):
    @extend_schema(
        operation_id="namespace_get",
        parameters=[OpenApiParameter("namespace", str, OpenApiParameter.PATH)],
        responses={200: NamespaceOutputSerializer, **error_responses()},
        tags=["Namespaces"],
    )
    def get(self, request: Request, tenant: str, namespace: str) -> Response:
        found: Namespace = selectors.namespace_get(tenant=self.tenant, name=namespace)
        return Response(NamespaceOutputSerializer(found).data)

    @extend_schema(
        operation_id="namespace_update",
        request=NamespaceUpdateSerializer,
        responses={200: NamespaceOutputSerializer, **error_responses(422)},
        tags=["Namespaces"],
    )
    def put(self, request: Request, tenant: str, namespace: str) -> Response:
        found = selectors.namespace_get(tenant=self.tenant, name=namespace)
        data = NamespaceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.namespace_update(
            namespace=found,
            description=data.validated_data["description"],
            variables=data.validated_data["variables"],
        )
        return Response(NamespaceOutputSerializer(updated).data)
