"""A fixed-window request counter shared by every web process: at most `limit` hits per key
in each `window`-second window (windows aligned on the epoch).

Two stores behind one function, chosen as the change notifications choose theirs
(`executions.notify.redis_url`): Redis when the deployment has one (production and tests;
one INCR per hit, atomic across processes and machines), else a small file per key under
the data directory, updated under an exclusive `flock` (the embedded setup: one machine,
several gunicorn processes, no server). A store that fails lets the hit through and logs:
a limiter must not take the webhooks down with it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings

from executions import notify

log = logging.getLogger("aviary.triggers")

_PREFIX = "aviary:rate:"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int  # hits in the current window, this one included
    retry_after: int  # seconds until the window ends (at least 1)


def hit(key: str, *, limit: int, window: int, now: float | None = None) -> Decision:
    """Count one hit on `key`; refused once the window already holds `limit` hits."""
    now = time.time() if now is None else now
    index = int(now // window)
    retry_after = max(1, math.ceil((index + 1) * window - now))
    try:
        count = _count(key, index, window)
    except (redis.RedisError, OSError) as error:
        log.warning("rate limit of %s not checked (%s): the request is let through", key, error)
        return Decision(True, 0, retry_after)
    return Decision(count <= limit, count, retry_after)


def _count(key: str, index: int, window: int) -> int:
    url = notify.redis_url()
    if url:
        return _redis_count(url, key, index, window)
    return _file_count(key, index)


def _redis_count(url: str, key: str, index: int, window: int) -> int:
    name = f"{_PREFIX}{key}:{index}"
    pipeline = notify.redis_client(url).pipeline()
    pipeline.incr(name)
    pipeline.expire(name, window + 1)  # the key outlives its window by a second, then goes
    count, _ = pipeline.execute()
    return int(count)


def _file_count(key: str, index: int) -> int:
    """The file holds "<window index> <count>"; a new window starts again from 1."""
    directory = Path(str(settings.DATA_DIR)) / "rate-limits"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / hashlib.sha256(key.encode()).hexdigest()
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        stored = os.read(descriptor, 64).decode(errors="replace").split()
        same_window = len(stored) == 2 and stored[0] == str(index) and stored[1].isdigit()
        count = int(stored[1]) + 1 if same_window else 1
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{index} {count}".encode())
        return count
    finally:
        os.close(descriptor)  # closing releases the lock
