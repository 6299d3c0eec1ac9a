"""Secrets API: `/api/v1/{tenant}/namespaces/{namespace}/secrets[/{key}]`. Values go in,
never out: reads list keys and descriptions only."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from tenants.api_base import TenantApi
from tenants.secrets import services

NAMESPACE = OpenApiParameter("namespace", str, OpenApiParameter.PATH)
KEY = OpenApiParameter("key", str, OpenApiParameter.PATH)


class SecretMetaSerializer(serializers.Serializer):
    key = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    updateDate = serializers.DateTimeField(source="updated_at")

    class Meta:
        ref_name = "SecretMeta"


class SecretInputSerializer(serializers.Serializer):
    value = serializers.CharField(trim_whitespace=False, max_length=services.MAX_VALUE_BYTES)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default=""
    )


class SecretListApi(TenantApi):
    @extend_schema(
        operation_id="secret_list",
        parameters=[NAMESPACE],
        responses={200: SecretMetaSerializer(many=True), **error_responses()},
        tags=["Secrets"],
    )
    def get(self, request: Request, tenant: str, namespace: str) -> Response:
        secrets = services.secret_list(tenant=self.tenant, namespace=namespace)
        return Response(SecretMetaSerializer(secrets, many=True).data)


class SecretDetailApi(TenantApi):
    @extend_schema(
        operation_id="secret_put",
        parameters=[NAMESPACE, KEY],
        request=SecretInputSerializer,
        responses={204: None, **error_responses(422)},
        tags=["Secrets"],
    )
    def put(self, request: Request, tenant: str, namespace: str, key: str) -> Response:
        body = SecretInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.secret_set(tenant=self.tenant, namespace=namespace, key=key, **body.validated_data)
        return Response(status=204)

    @extend_schema(
        operation_id="secret_delete",
        parameters=[NAMESPACE, KEY],
        responses={200: OpenApiTypes.BOOL, **error_responses()},
        tags=["Secrets"],
    )
    def delete(self, request: Request, tenant: str, namespace: str, key: str) -> Response:
        return Response(services.secret_delete(tenant=self.tenant, namespace=namespace, key=key))
