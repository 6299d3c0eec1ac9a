"""Shared OpenAPI pieces: the error body and the error responses every endpoint can give."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorItemSerializer(serializers.Serializer):
    path = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    line = serializers.IntegerField(allow_null=True, required=False)
    column = serializers.IntegerField(allow_null=True, required=False)


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()
    errors = ErrorItemSerializer(many=True)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """401 and 404 are possible everywhere under a tenant; add the endpoint's own."""
    descriptions = {
        400: "Malformed request",
        401: "Missing, wrong or expired credentials",
        404: "Unknown tenant or object, or not a member",
        405: "Method not allowed",
        409: "Conflict with the current state",
        413: "Body too large",
        415: "Unsupported content type",
        422: "Invalid content; `errors` lists every problem",
    }
    wanted = sorted({400, 401, 404, 405, 415, *statuses})
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in wanted
    }
