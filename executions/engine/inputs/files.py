"""FILE inputs: an upload goes to the execution's storage through the `FileSink`; a file that
is already stored may be given by its `kestra:///` URI, but only inside the execution's own
namespace, so that one namespace cannot read another's files by naming them.

Kestra 0.20 keeps any `kestra://` URI it is given, and reads any other string as a path on the
server's disk; Aviary does neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from executions.engine.inputs.model import FileSink, FileUpload, InputValueError
from executions.engine.inputs.scalars import expected
from tenants.errors import AviaryError

MAX_FILENAME_LENGTH = 200
DEFAULT_EXTENSION = ".upl"
"""Kestra's FileInput `extension` default, used here only to name a file sent without a name."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, fallback: str) -> str:
    """One harmless path segment from a client-side file name: the last component only (no
    `../`, no drive, no backslash tricks), ASCII letters, digits, `.`, `_` and `-`, no leading
    dot, at most 200 characters with the extension kept. An empty result becomes `fallback`."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE.sub("_", base).lstrip("._").rstrip(".")
    if not base.strip("_"):
        base = _UNSAFE.sub("_", fallback).lstrip("._") or "upload"
    if len(base) > MAX_FILENAME_LENGTH:
        stem, dot, extension = base.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            base = stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            base = base[:MAX_FILENAME_LENGTH]
    return base


def parse_file(value: Any, input_id: str, extension: str | None, files: FileSink | None) -> str:
    """The stored file's `kestra:///` URI."""
    if isinstance(value, FileUpload):
        return _store_upload(value, input_id, extension, files)
    if isinstance(value, str) and value[:9].lower() == "kestra://":
        return check_namespace_uri(value, files)
    raise expected("FILE")


def _store_upload(
    upload: FileUpload, input_id: str, extension: str | None, files: FileSink | None
) -> str:
    if files is None:
        raise InputValueError("file uploads are not accepted here", about_value=False)
    if upload.known_size == 0:
        # Kestra refuses an empty upload too ("Can't upload file").
        raise InputValueError("the uploaded file is empty")
    suffix = extension or DEFAULT_EXTENSION
    suffix = suffix if suffix.startswith(".") else "." + suffix
    filename = safe_filename(upload.name, f"{input_id}{suffix}")
    try:
        return files.store(input_id, filename, upload.data)
    except AviaryError as error:
        raise InputValueError(f"the file could not be stored: {error.message}") from None


def check_namespace_uri(uri: str, files: FileSink | None) -> str:
    """Accept `kestra:///<path>` only when the path lies inside `files.namespace_uri`."""
    if files is None:
        raise InputValueError(
            "a kestra:/// URI cannot be accepted here: no file storage is available",
            about_value=False,
        )
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise expected("FILE") from None
    path = unquote(parts.path)
    segments = path.split("/")[1:]
    if (
        parts.scheme.lower() != "kestra"
        or parts.netloc
        or parts.query
        or parts.fragment
        or not path.startswith("/")
        or any(s in ("", ".", "..") for s in segments)
        or "\\" in path
        or "\x00" in path
    ):
        raise expected("FILE", "; the URI is not a plain kestra:/// file path")
    base = unquote(urlsplit(files.namespace_uri).path).rstrip("/") + "/"
    if not path.startswith(base) or len(path) == len(base):
        raise InputValueError(
            f"the file must be stored in this execution's namespace ({files.namespace_uri})"
        )
    return uri


@dataclass
class ExecutionInputFiles:
    """The `FileSink` of one execution over a storage port: FILE inputs go to
    `kestra:///<namespace path>/<flow>/executions/<id>/inputs/<input>/<file>`."""

    storage: Any  # executions.engine.ports.Storage
    namespace: str
    flow_id: str
    execution_id: str

    @property
    def namespace_uri(self) -> str:
        return f"kestra:///{self.namespace.replace('.', '/')}/"

    def store(self, input_id: str, filename: str, data: bytes | BinaryIO) -> str:
        content = data if isinstance(data, bytes) else data.read()
        name = (
            f"{self.namespace.replace('.', '/')}/{self.flow_id}/executions/"
            f"{self.execution_id}/inputs/{input_id}/{filename}"
        )
        return self.storage.put(name, content)
