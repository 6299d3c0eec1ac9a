"""A per-process cache whose entries expire after a few seconds.

For lookups every API request repeats (the API token, the caller's membership of the
tenant in the URL): each costs a query and about a millisecond of ORM work, while the rows
change rarely. What a process caches is at most `seconds` old; writers in this process
discard their keys at once, other processes see the change when the entry expires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, seconds: Callable[[], float], max_entries: int = 4096) -> None:
        self._seconds = seconds  # read on each use, so a setting can change it (tests)
        self._max = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] >= self._seconds():
            self.discard(key)
            return None
        return entry[1]

    def put(self, key: Hashable, value: V) -> None:
        if self._seconds() <= 0:
            return
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)), None)  # the oldest
            self._entries[key] = (time.monotonic(), value)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
