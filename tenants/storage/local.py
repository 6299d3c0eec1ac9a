"""Local file storage: `<STORAGE_ROOT>/<tenant slug>/<uri path>`. A URI that would leave the
tenant's folder (`..`, an absolute path, a host part, a symbolic link pointing out) is refused,
so one tenant never reads another's."""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from django.conf import settings

SCHEME = "kestra"


class StorageError(ValueError):
    """A URI outside the tenant's storage, or a missing file; the message says which."""


class FileMissing(StorageError):
    """The URI is valid but no file is stored there (or it names a folder)."""


class LocalStorage:
    def __init__(self, tenant_slug: str, root: Path | None = None) -> None:
        self.base = (root or Path(settings.AVIARY["STORAGE_ROOT"])) / tenant_slug

    def _path(self, uri: str) -> tuple[str, Path]:
        if "\x00" in uri:
            raise StorageError(f"Invalid storage path {uri!r}: it contains a NUL character")
        parsed = urlparse(uri)
        if parsed.scheme and parsed.scheme != SCHEME:
            raise StorageError(f"Only {SCHEME}:/// URIs are stored here, got '{uri}'")
        if parsed.netloc:
            # `kestra://host/x` would silently become `/x`: only `kestra:///x` is a file here.
            raise StorageError(f"Invalid storage URI '{uri}': expected {SCHEME}:///<path>")
        raw = unquote(parsed.path if parsed.scheme else uri)
        parts = PurePosixPath("/" + raw.lstrip("/")).parts[1:]
        if not parts or any(part in {"..", "."} or "\\" in part for part in parts):
            raise StorageError(f"Invalid storage path '{uri}'")
        relative = "/".join(parts)
        path = self.base.joinpath(*parts)
        # `..` is refused above; a symbolic link inside the folder could still point out of it.
        if not path.resolve().is_relative_to(self.base.resolve()):
            raise StorageError(f"Invalid storage path '{uri}': it leaves the tenant's storage")
        return f"{SCHEME}:///{relative}", path

    def put(self, name: str, data: bytes) -> str:
        uri, path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(data)
        temporary.replace(path)  # readers never see half a file
        return uri

    def get(self, uri: str) -> bytes:
        _, path = self._path(uri)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise FileMissing(f"No file at {uri}") from None

    def open(self, uri: str) -> BinaryIO:
        """The file for reading, to stream it; the caller closes it."""
        _, path = self._path(uri)
        if not path.is_file():
            raise FileMissing(f"No file at {uri}")
        try:
            return path.open("rb")
        except FileNotFoundError:  # deleted between the check and the open
            raise FileMissing(f"No file at {uri}") from None

    def size(self, uri: str) -> int:
        _, path = self._path(uri)
        if not path.is_file():
            raise FileMissing(f"No file at {uri}")
        return path.stat().st_size

    def exists(self, uri: str) -> bool:
        try:
            return self._path(uri)[1].is_file()
        except StorageError:
            return False

    def delete(self, uri: str) -> bool:
        _, path = self._path(uri)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def delete_prefix(self, uri: str) -> bool:
        """Remove the folder `uri` names and everything in it (Kestra's `deleteByPrefix`).
        The tenant's root itself cannot be named: `_path` refuses an empty path."""
        _, path = self._path(uri)
        if not path.is_dir() or path.is_symlink():
            return False
        shutil.rmtree(path)
        return True
