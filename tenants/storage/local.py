"""Local file storage: `<STORAGE_ROOT>/<tenant slug>/<uri path>`. A URI that would leave the
tenant's folder (`..`, an absolute path) is refused, so one tenant never reads another's."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from django.conf import settings

SCHEME = "kestra"


class StorageError(ValueError):
    """A URI outside the tenant's storage, or a missing file; the message says which."""


class LocalStorage:
    def __init__(self, tenant_slug: str, root: Path | None = None) -> None:
        self.base = (root or Path(settings.AVIARY["STORAGE_ROOT"])) / tenant_slug

    def _path(self, uri: str) -> tuple[str, Path]:
        parsed = urlparse(uri)
        if parsed.scheme and parsed.scheme != SCHEME:
            raise StorageError(f"Only {SCHEME}:/// URIs are stored here, got '{uri}'")
        raw = unquote(parsed.path if parsed.scheme else uri)
        parts = PurePosixPath("/" + raw.lstrip("/")).parts[1:]
        if not parts or any(part in {"..", "."} or "\\" in part for part in parts):
            raise StorageError(f"Invalid storage path '{uri}'")
        relative = "/".join(parts)
        return f"{SCHEME}:///{relative}", self.base.joinpath(*parts)

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
        except FileNotFoundError:
            raise StorageError(f"No file at {uri}") from None

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
