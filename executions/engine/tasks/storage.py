"""`storage.Delete`, `storage.Size` and `storage.Concat`: files of the internal storage
(`kestra:///` URIs), through the `Storage` port.

Files a task creates are stored under its task run, as Kestra does:
`<namespace as path>/<flow>/executions/<execution>/tasks/<task>/<task run>/<name>`.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from executions.engine.ports import Storage
from executions.engine.tasks.base import RunnableTask, TaskContext, TaskFailed, TaskResult
from tenants.errors import AviaryError

SCHEME = "kestra://"
STORAGE_ERRORS = (OSError, ValueError, LookupError, AviaryError)


def storage_of(ctx: TaskContext) -> Storage:
    if ctx.storage is None:
        raise TaskFailed("The internal storage is not available in this run")
    return ctx.storage


def task_file_name(ctx: TaskContext, filename: str) -> str:
    """The storage name of a file created by the current task run."""
    flow = ctx.variables.get("flow", {})
    execution = ctx.variables.get("execution", {})
    namespace = str(flow.get("namespace", "")).replace(".", "/")
    return (
        f"{namespace}/{flow.get('id', '')}/executions/{execution.get('id', '')}/tasks/"
        f"{ctx.task.id}/{ctx.task_run.id}/{filename.lstrip('/')}"
    )


def checked_uri(value: Any) -> str:
    """A rendered `kestra://` URI, or Kestra's error for anything else."""
    if value is None:
        raise TaskFailed("Invalid internal storage uri, got null")
    uri = str(value).strip()
    if ":" not in uri.split("/", 1)[0]:
        raise TaskFailed(f"Invalid internal storage uri, got uri '{uri}'")
    if not uri.startswith(SCHEME):
        raise TaskFailed(f"Invalid internal storage scheme, got uri '{uri}'")
    return uri


def read_file(ctx: TaskContext, uri: str) -> bytes:
    storage = storage_of(ctx)
    try:
        return storage.get(checked_uri(uri))
    except STORAGE_ERRORS as error:
        raise TaskFailed(str(error) or f"Unable to read the file '{uri}'") from None


def put_file(ctx: TaskContext, filename: str, data: bytes) -> str:
    storage = storage_of(ctx)
    try:
        return storage.put(task_file_name(ctx, filename), data)
    except STORAGE_ERRORS as error:
        raise TaskFailed(f"Unable to store the file '{filename}': {error}") from None


class Delete(RunnableTask):
    type = "io.kestra.plugin.core.storage.Delete"

    def run(self, ctx: TaskContext) -> TaskResult:
        uri = checked_uri(ctx.rendered("uri"))
        error_on_missing = ctx.rendered("errorOnMissing", False)
        if isinstance(error_on_missing, str):
            error_on_missing = error_on_missing.strip().lower() == "true"
        storage = storage_of(ctx)
        try:
            deleted = bool(storage.delete(uri))
        except STORAGE_ERRORS as error:
            raise TaskFailed(f"Unable to delete the file '{uri}': {error}") from None
        if error_on_missing and not deleted:
            raise TaskFailed(f"Unable to find file '{uri}'")
        return TaskResult(outputs={"uri": uri, "deleted": deleted})


class Size(RunnableTask):
    type = "io.kestra.plugin.core.storage.Size"

    def run(self, ctx: TaskContext) -> TaskResult:
        uri = checked_uri(ctx.rendered("uri"))
        storage = storage_of(ctx)
        if not storage.exists(uri):
            raise TaskFailed(f"Unable to find file '{uri}'")
        return TaskResult(outputs={"size": len(read_file(ctx, uri))})


def _files(ctx: TaskContext) -> list[str]:
    raw = ctx.prop("files")
    if isinstance(raw, list):
        return [str(ctx.render(str(item))) for item in raw]
    if isinstance(raw, str):
        text = ctx.render(raw)
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise TaskFailed(f"Invalid `files` property, expected a JSON array: {error}") from None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise TaskFailed("Invalid `files` property, expected a JSON array of URIs")
        return parsed
    raise TaskFailed(f"Invalid `files` properties with type '{type(raw).__name__}'")


class Concat(RunnableTask):
    type = "io.kestra.plugin.core.storage.Concat"

    def run(self, ctx: TaskContext) -> TaskResult:
        separator = ctx.rendered("separator")
        extension = str(ctx.rendered("extension", ".tmp"))
        parts: list[bytes] = []
        for uri in _files(ctx):
            parts.append(read_file(ctx, uri))
            if separator is not None:  # after every file, the last one included, as Kestra
                parts.append(str(separator).encode("utf-8"))
        name = f"{secrets.token_hex(8)}{extension}"
        return TaskResult(outputs={"uri": put_file(ctx, name, b"".join(parts))})
