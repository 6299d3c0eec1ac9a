"""KV store API, Kestra's paths: `/api/v1/{tenant}/namespaces/{namespace}/kv[/{key}]`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import error_responses
from flows.parsers import decode_source, read_capped
from flows.spec.formats import parse_duration
from tenants import kv_services
from tenants.api_base import TenantApi
from tenants.errors import Unprocessable, Violation
from tenants.kv_values import KVValueError, parse_text, to_json

MAX_VALUE_BYTES = 1024 * 1024


class RawJsonParser(BaseParser):
    """The body as text: ION-like values (an unquoted ISO timestamp) are not JSON."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> str:
        return decode_source(read_capped(stream, MAX_VALUE_BYTES))


class RawTextParser(RawJsonParser):
    media_type = "text/plain"


class KVEntrySerializer(serializers.Serializer):
    key = serializers.CharField()
    creationDate = serializers.DateTimeField(source="created_at")
    updateDate = serializers.DateTimeField(source="updated_at")
    expirationDate = serializers.DateTimeField(source="expires_at", allow_null=True)


class TypedValueSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"]
    )
    value = serializers.JSONField(allow_null=True)


class KeysSerializer(serializers.Serializer):
    keys = serializers.ListField(child=serializers.CharField(max_length=255), max_length=1000)


NAMESPACE = OpenApiParameter("namespace", str, OpenApiParameter.PATH)
KEY = OpenApiParameter("key", str, OpenApiParameter.PATH)


class KVListApi(TenantApi):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="kv_list",
        parameters=[NAMESPACE],
        responses={200: KVEntrySerializer(many=True), **error_responses()},
        tags=["KV"],
    )
    def get(self, request: Request, tenant: str, namespace: str) -> Response:
        entries = kv_services.kv_list(tenant=self.tenant, namespace=namespace)
        return Response(KVEntrySerializer(entries, many=True).data)

    @extend_schema(
        operation_id="kv_delete_keys",
        parameters=[NAMESPACE],
        request=KeysSerializer,
        responses={200: KeysSerializer, **error_responses(422)},
        tags=["KV"],
    )
    def delete(self, request: Request, tenant: str, namespace: str) -> Response:
        body = KeysSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deleted = kv_services.kv_delete(
            tenant=self.tenant, namespace=namespace, keys=body.validated_data["keys"]
        )
        return Response({"keys": deleted})


class KVDetailApi(TenantApi):
    parser_classes = [RawJsonParser, RawTextParser]

    @extend_schema(
        operation_id="kv_get",
        parameters=[NAMESPACE, KEY],
        responses={200: TypedValueSerializer, **error_responses()},
        tags=["KV"],
    )
    def get(self, request: Request, tenant: str, namespace: str, key: str) -> Response:
        typed = kv_services.kv_get(tenant=self.tenant, namespace=namespace, key=key)
        return Response({"type": typed.kv_type, "value": to_json(typed.value)})

    @extend_schema(
        operation_id="kv_put",
        parameters=[
            NAMESPACE,
            KEY,
            OpenApiParameter("ttl", str, OpenApiParameter.HEADER, description="e.g. PT1H"),
        ],
        request={"application/json": OpenApiTypes.STR, "text/plain": OpenApiTypes.STR},
        responses={204: None, **error_responses(409, 413, 422)},
        tags=["KV"],
    )
    def put(self, request: Request, tenant: str, namespace: str, key: str) -> Response:
        text = request.data if isinstance(request.data, str) else ""
        ttl_header = request.headers.get("ttl")
        try:
            value = parse_text(text)
            ttl = parse_duration(ttl_header) if ttl_header else None
        except (KVValueError, ValueError) as error:
            field = "ttl" if ttl_header and "duration" in str(error) else "value"
            raise Unprocessable(str(error), violations=[Violation(field, str(error))]) from None
        kv_services.kv_set(tenant=self.tenant, namespace=namespace, key=key, value=value, ttl=ttl)
        return Response(status=204)

    @extend_schema(
        operation_id="kv_delete",
        parameters=[NAMESPACE, KEY],
        responses={200: OpenApiTypes.BOOL, **error_responses()},
        tags=["KV"],
    )
    def delete(self, request: Request, tenant: str, namespace: str, key: str) -> Response:
        deleted = kv_services.kv_delete(tenant=self.tenant, namespace=namespace, keys=[key])
        return Response(bool(deleted))
