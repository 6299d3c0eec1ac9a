"""The base class of every `/api/v1/{tenant}/...` endpoint: the tenant comes from the URL.

The tenant is resolved once, after authentication, from the `tenant` URL argument and the
user's membership; a request body never names it. A non-member gets the same 404 as an
unknown tenant.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.request import Request
from rest_framework.views import APIView

from tenants.errors import InvalidInput
from tenants.models import Tenant
from tenants.selectors import tenant_get_for_member


class TenantApi(APIView):
    """Subclasses use `self.tenant`, never a tenant from the request data."""

    forbidden_overrides: ClassVar[set[str]] = {"get_queryset", "get_object"}
    tenant: Tenant

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if overridden := cls.forbidden_overrides & vars(cls).keys():
            raise TypeError(f"{cls.__name__} overrides {overridden}: read through selectors")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.tenant = tenant_get_for_member(slug=kwargs["tenant"], user=request.user)


def query_flag(request: Request, name: str, default: bool) -> bool:
    """A true/false query parameter (absent or empty: `default`); anything else is a 400
    naming the parameter."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in {"true", "false"}:
        raise InvalidInput(f"{name} must be true or false, got '{raw[:40]}'", field=name)
    return raw.lower() == "true"
