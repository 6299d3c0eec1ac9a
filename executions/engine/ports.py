"""The ports through which task logic reaches the outside: `typing.Protocol`s implemented
by the Django side (`executions/adapters.py`) and by fakes in the tests. The engine never
builds a storage key or a KV path itself: it hands names and keys to these."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol


class Storage(Protocol):
    """Internal storage of the execution (`kestra:///...` URIs)."""

    def put(self, name: str, data: bytes) -> str: ...

    def get(self, uri: str) -> bytes: ...

    def exists(self, uri: str) -> bool: ...

    def delete(self, uri: str) -> bool: ...


class KVStore(Protocol):
    """The key-value store of a namespace (the flow's namespace when None)."""

    def get(self, key: str, namespace: str | None = None) -> Any: ...

    def set(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        *,
        ttl: timedelta | None = None,
        overwrite: bool = True,
    ) -> None: ...

    def delete(self, key: str, namespace: str | None = None) -> bool: ...

    def keys(self, prefix: str = "", namespace: str | None = None) -> list[str]: ...


__all__ = ["KVStore", "Storage"]
