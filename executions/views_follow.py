"""The execution page's event stream, `/ui/{tenant}/executions/{id}/events`: an event
`change` each time the execution or its logs change, `end` once it has ended. The page
listens with htmx's SSE extension and fetches its live fragment on `change` (see
templates/executions/_poller.html); the session authenticates it, as every page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from executions import follow, selectors
from tenants.views_base import tenant_page


@tenant_page
def execution_events(request: HttpRequest, execution_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    execution = selectors.execution_get(tenant=tenant, execution_id=execution_id)
    follower = follow.PageFollower(tenant, execution)
    return follow.event_stream(tenant=tenant, execution_id=execution.id, follower=follower)
