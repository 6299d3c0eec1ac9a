"""The execution page's file links: download a file of the execution, and the preview fragment
htmx loads under the link. Session-authenticated twins of `GET .../executions/{id}/file` and
`/file/preview` (executions/api_files.py), with the same rule on `path`."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from executions import files
from executions.selectors import execution_get
from tenants.errors import AviaryError, InvalidInput, Unprocessable
from tenants.views_base import tenant_page


@tenant_page
@require_GET
def execution_file(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The file as an attachment; an unknown execution or a missing file is the 404 page."""
    execution = execution_get(tenant=request.tenant, execution_id=execution_id)  # type: ignore[attr-defined]
    try:
        opened = files.execution_file_open(execution=execution, path=request.GET.get("path"))
    except (InvalidInput, Unprocessable) as error:
        return HttpResponse(
            error.message, status=error.status, content_type="text/plain; charset=utf-8"
        )
    return FileResponse(opened.handle, as_attachment=True, filename=opened.name)


@tenant_page
@require_GET
def execution_file_preview(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The first lines of a text file as a fragment; a problem with the file (missing, not
    text, not this execution's) is said in the fragment, with its status."""
    execution = execution_get(tenant=request.tenant, execution_id=execution_id)  # type: ignore[attr-defined]
    path = request.GET.get("path")
    try:
        preview = files.execution_file_preview(
            execution=execution,
            path=path,
            max_rows=files.preview_rows(request.GET.get("maxRows")),
        )
    except AviaryError as error:
        context = {"error": error, "path": path}
        return render(request, "executions/_file_preview.html", context, status=error.status)
    context = {"preview": preview, "path": path}
    return render(request, "executions/_file_preview.html", context)
