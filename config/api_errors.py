"""One shape for every API error:
`{"message", "code", "errors": [{path, line, column, message}]}`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from tenants.errors import AviaryError, Violation


def error_body(message: str, code: str, violations: list[Violation] | None = None) -> dict:
    return {
        "message": message,
        "code": code,
        "errors": [v.as_dict() for v in violations or []],
    }


def _drf_violations(detail: Any, path: str = "") -> list[Violation]:
    """Flatten DRF's nested error detail into violations with dotted paths."""
    if isinstance(detail, dict):
        found: list[Violation] = []
        for key, value in detail.items():
            child = key if not path else f"{path}.{key}"
            if key == "non_field_errors":
                child = path
            found.extend(_drf_violations(value, child))
        return found
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [Violation(path=path, message=str(item)) for item in detail]
        found = []
        for index, item in enumerate(detail):
            found.extend(_drf_violations(item, f"{path}[{index}]"))
        return found
    return [Violation(path=path, message=str(detail))]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER. Anything not handled here stays a 500: a bug to fix."""
    if isinstance(exc, AviaryError):
        set_rollback()
        body = error_body(exc.message, exc.code, exc.violations)
        if exc.field and not exc.violations:
            body["errors"] = [Violation(path=exc.field, message=exc.message).as_dict()]
        return Response(body, status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(str(exc), "too_large"), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code = exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        violations = _drf_violations(exc.detail)
        message = "; ".join(str(v) for v in violations) or "invalid input"
        return Response(
            error_body(message, "invalid", violations),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            headers=headers,
        )
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return Response(error_body(str(detail), str(code)), status=exc.status_code, headers=headers)


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """A 404 for an unknown /api/ path, in the API's error shape."""
    return JsonResponse(error_body(f"no API route for {request.path}", "not_found"), status=404)
