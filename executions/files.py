"""Reads of an execution's files in the tenant's internal storage: which `kestra:///` URIs
belong to the execution, downloading one, its size, a text preview of its first lines, and
the links the execution page shows next to outputs and inputs.

Kestra's rule (ExecutionController.validateFile): a file may be read through an execution only
when its path lies under that execution's storage prefix,
`/<namespace as path>/<flow id>/executions/<execution id>/`. Kestra also follows a path of a
parent or subflow execution by redirecting; Aviary answers 422 for any other path, so an
execution id never opens files it did not write.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from executions.models import Execution
from flows.expressions.kestra_filters import slugify
from tenants.errors import InvalidInput, NotFound, Unprocessable
from tenants.storage.local import FileMissing, LocalStorage, StorageError

PREVIEW_ROWS = 100
"""Lines in a preview when `maxRows` is not given (Kestra's `preview.initial-rows`)."""
PREVIEW_MAX_ROWS = 5000
"""The most lines a preview returns, whatever `maxRows` asks (Kestra's `preview.max-rows`)."""
PREVIEW_MAX_BYTES = 1024 * 1024
"""Bytes read for a preview: a file of a few long lines must not fill the answer or a page."""
MAX_LINKS = 200
"""File links shown per outputs block: a loop can produce thousands of files."""

TEXT_EXTENSIONS = frozenset(
    {"txt", "csv", "tsv", "json", "jsonl", "ion", "yml", "yaml", "log", "md", "xml", "sql"}
    | {"py", "sh", "js", "ts", "toml", "ini", "cfg", "conf", "properties", "html", "htm"}
)
"""Extensions previewed as text (Kestra renders `ion` as rows; here it is its text)."""


def execution_storage_prefixes(execution: Execution) -> tuple[str, ...]:
    """The path prefixes of the execution's files. Aviary's tasks store under the flow id as it
    is; Kestra slugifies it (`My_Flow` → `my-flow`), so URIs copied from Kestra name that one.
    Both end with the execution id, which no other execution shares."""
    namespace = execution.namespace.replace(".", "/")
    flow_ids = dict.fromkeys([execution.flow_id, slugify(execution.flow_id)])
    return tuple(f"/{namespace}/{flow}/executions/{execution.id}/" for flow in flow_ids if flow)


def _plain_path(uri: str) -> str | None:
    """The decoded path of a plain `kestra:///a/b` URI; None for anything else (another scheme,
    a host, a query, `.`/`..`/empty segments, backslashes, NUL characters)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    path = unquote(parts.path)
    if (
        parts.scheme.lower() != "kestra"
        or parts.netloc
        or parts.query
        or parts.fragment
        or not path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or any(segment in ("", ".", "..") for segment in path.split("/")[1:])
    ):
        return None
    return path


def belongs_to(execution: Execution, uri: Any, prefixes: tuple[str, ...] | None = None) -> bool:
    """Whether `uri` is a plain `kestra:///` URI of a file under the execution's prefix
    (`prefixes`: the execution's, when the caller already has them)."""
    if not isinstance(uri, str) or uri[:9].lower() != "kestra://":
        return False
    path = _plain_path(uri)
    return path is not None and any(
        path.startswith(prefix) and len(path) > len(prefix)
        for prefix in prefixes or execution_storage_prefixes(execution)
    )


def execution_file_uri(*, execution: Execution, path: str | None) -> str:
    """`path` checked against Kestra's rule; 400 when missing, 422 when it is not a file of
    this execution (with the prefix it must start with)."""
    if not path:
        raise InvalidInput(
            "The query parameter 'path' is required: the kestra:/// URI of a file of the "
            "execution",
            field="path",
        )
    if belongs_to(execution, path):
        return path
    expected = f"kestra://{execution_storage_prefixes(execution)[0]}"
    raise Unprocessable(
        f"'{path[:300]}' is not a file of execution {execution.id}: expected a kestra:/// URI "
        f"starting with {expected}",
        field="path",
    )


def _storage(execution: Execution) -> LocalStorage:
    return LocalStorage(execution.tenant.slug)


def _missing(execution: Execution, uri: str) -> NotFound:
    return NotFound(f"No file at {uri} in execution {execution.id}")


def file_name(uri: str) -> str:
    return PurePosixPath(unquote(urlsplit(uri).path)).name


@dataclass(frozen=True)
class OpenedFile:
    name: str
    handle: BinaryIO  # the caller closes it (FileResponse does)


def execution_file_open(*, execution: Execution, path: str | None) -> OpenedFile:
    uri = execution_file_uri(execution=execution, path=path)
    try:
        handle = _storage(execution).open(uri)
    except FileMissing:
        raise _missing(execution, uri) from None
    except StorageError as error:  # the storage's own rule, stricter than the prefix check
        raise Unprocessable(str(error), field="path") from None
    return OpenedFile(name=file_name(uri), handle=handle)


def execution_file_size(*, execution: Execution, path: str | None) -> int:
    uri = execution_file_uri(execution=execution, path=path)
    try:
        return _storage(execution).size(uri)
    except FileMissing:
        raise _missing(execution, uri) from None
    except StorageError as error:
        raise Unprocessable(str(error), field="path") from None


@dataclass(frozen=True)
class FilePreview:
    """Kestra's FileRender JSON: `{extension, type, content, maxLine, truncated}`."""

    extension: str
    type: str  # TEXT, or MARKDOWN for .md (as Kestra)
    content: str
    max_line: int
    truncated: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "type": self.type,
            "content": self.content,
            "maxLine": self.max_line,
            "truncated": self.truncated,
        }


def extension_of(uri: str) -> str:
    suffix = PurePosixPath(file_name(uri)).suffix
    return suffix[1:].lower() if suffix else ""


def previewable(uri: str) -> bool:
    return extension_of(uri) in TEXT_EXTENSIONS


def preview_rows(raw: str | None) -> int:
    """`maxRows` as given (capped at PREVIEW_MAX_ROWS), or PREVIEW_ROWS when absent."""
    if raw is None or raw == "":
        return PREVIEW_ROWS
    try:
        rows = int(raw)
    except ValueError:
        rows = 0
    if rows < 1:
        raise InvalidInput(f"maxRows must be a positive integer, got '{raw[:40]}'", field="maxRows")
    return min(rows, PREVIEW_MAX_ROWS)


def execution_file_preview(
    *, execution: Execution, path: str | None, max_rows: int = PREVIEW_ROWS, encoding: str = "utf-8"
) -> FilePreview:
    """The first `max_rows` lines of a text file, at most PREVIEW_MAX_BYTES read; `truncated`
    says the file goes on. Binary files are refused (422): download them instead."""
    uri = execution_file_uri(execution=execution, path=path)
    extension = extension_of(uri)
    decoder = _text_decoder(encoding)
    opened = execution_file_open(execution=execution, path=uri)  # a missing file is a 404
    with opened.handle as handle:
        if extension not in TEXT_EXTENSIONS:
            shown = f"'.{extension}' files" if extension else "files without an extension"
            raise Unprocessable(
                f"No preview for {shown}: only text files ({', '.join(sorted(TEXT_EXTENSIONS))})"
                " are previewed; download it instead",
                field="path",
            )
        head = handle.read(PREVIEW_MAX_BYTES + 1)
    cut = len(head) > PREVIEW_MAX_BYTES
    # A cut multi-byte character stays in the decoder's buffer instead of showing as garbage.
    text = decoder.decode(head[:PREVIEW_MAX_BYTES], final=not cut)
    lines = text.split("\n")
    if lines and not cut and lines[-1] == "":
        lines.pop()  # the newline that ends the last line opens no new one
    content = "\n".join(line.rstrip("\r") for line in lines[:max_rows])
    return FilePreview(
        extension=extension,
        type="MARKDOWN" if extension == "md" else "TEXT",
        content=content,
        max_line=max_rows,
        truncated=cut or len(lines) > max_rows,
    )


def _text_decoder(encoding: str) -> codecs.IncrementalDecoder:
    """A decoder from bytes to text; codecs such as base64 or rot13 are not text encodings."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise Unprocessable(
            f"Unable to preview using encoding '{encoding[:40]}'", field="encoding"
        )
    return info.incrementaldecoder(errors="replace")


# ---------- links on the execution page ----------


@dataclass(frozen=True)
class FileLink:
    key: str  # where the URI sits in the outputs or inputs: `outputFiles.out.csv`
    uri: str
    name: str
    previewable: bool


def file_links(execution: Execution, value: Any, key: str = "") -> list[FileLink]:
    """Every string in `value` (outputs or inputs, nested) that is a file of this execution,
    depth first, at most MAX_LINKS."""
    found: list[FileLink] = []
    prefixes = execution_storage_prefixes(execution)

    def walk(item: Any, where: str) -> None:
        if len(found) >= MAX_LINKS:
            return
        if isinstance(item, dict):
            for child_key, child in item.items():
                walk(child, f"{where}.{child_key}" if where else str(child_key))
        elif isinstance(item, list):
            for index, child in enumerate(item):
                walk(child, f"{where}[{index}]")
        elif belongs_to(execution, item, prefixes):
            found.append(FileLink(where, item, file_name(item), previewable(item)))

    walk(value, key)
    return found
