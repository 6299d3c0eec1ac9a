"""What every admin UI page under `/ui/{tenant}/` shares: login, then the tenant from the URL."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from tenants.errors import NotFound
from tenants.selectors import tenant_get_for_member

View = Callable[..., HttpResponse]


def tenant_page(view: View) -> View:
    """Log in first; then a tenant the user does not belong to is a plain 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, tenant: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            request.tenant = tenant_get_for_member(slug=tenant, user=request.user)  # type: ignore[attr-defined]
        except NotFound as error:
            raise Http404(error.message) from None
        if request.session.get("tenant") != tenant:  # no session write on every poll
            request.session["tenant"] = tenant
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None

    return wrapper
