"""Change notifications for the streams that follow an execution (`.../follow`): a Redis
PUBLISH on commit, one per transaction and execution, on a channel per tenant and execution.

A notification carries no data: a stream that receives one re-reads the rows, and re-reads
them on a timer anyway, so a lost or never-sent notification (Redis down, no Redis at all in
the embedded setup) only makes a stream slower, never wrong. For the same reason publishing
must never fail the engine: a Redis error is logged and the next attempt is skipped for a
while, so an unreachable server does not add a connect timeout to every transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.db import connection, transaction

from tenants.models import Tenant

log = logging.getLogger("aviary.executions")

SOCKET_TIMEOUT_SECONDS = 0.5
PAUSE_AFTER_ERROR_SECONDS = 10.0

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()
_paused_until = 0.0


def redis_url() -> str:
    """`AVIARY["EVENTS_REDIS_URL"]`, else the Celery broker's URL when it is Redis, else ""
    (no notifications: streams only poll)."""
    configured = str(settings.AVIARY.get("EVENTS_REDIS_URL") or "")
    if configured:
        return configured
    broker = str(settings.CELERY_BROKER_URL or "")
    return broker if broker.startswith(("redis://", "rediss://", "unix://")) else ""


def redis_client(url: str) -> redis.Redis:
    """The process's client (one pool) for `url`; the webhook rate limiter uses it too."""
    with _clients_lock:  # one connection pool per URL and process; pools are thread-safe
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_timeout=SOCKET_TIMEOUT_SECONDS,
                socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            )
            _clients[url] = client
        return client


def channel(tenant_id: int, execution_id: str) -> str:
    """The channel of one execution. Redis channels ignore the database number, so the
    tenant's id is part of the name as well as the (random) execution id."""
    return f"aviary:tenant:{tenant_id}:execution:{execution_id}"


def execution_changed(*, tenant: Tenant, execution_id: str) -> None:
    """Tell the streams following this execution that its rows changed, once the current
    transaction commits (at once outside a transaction; never after a rollback). A
    transaction that writes an execution many times (a snapshot, its logs) publishes once:
    the callback carries its key, and one already waiting for this commit is enough."""
    key = (tenant.pk, execution_id)
    pending = getattr(connection, "run_on_commit", None) or []
    if connection.in_atomic_block and any(
        getattr(entry[1], "execution_key", None) == key for entry in pending
    ):
        return

    def publish_on_commit() -> None:
        publish(*key)

    publish_on_commit.execution_key = key  # type: ignore[attr-defined]
    transaction.on_commit(publish_on_commit, robust=True)


def publish(tenant_id: int, execution_id: str) -> None:
    """One PUBLISH; failures are logged, never raised."""
    global _paused_until  # a process-wide back-off; a race only publishes once more
    url = redis_url()
    if not url or time.monotonic() < _paused_until:
        return
    try:
        redis_client(url).publish(channel(tenant_id, execution_id), b"1")
    except (redis.RedisError, OSError) as error:
        _paused_until = time.monotonic() + PAUSE_AFTER_ERROR_SECONDS
        log.warning(
            "execution %s: change notification not published (%s); streams fall back to "
            "polling, publishing resumes in %.0f s",
            execution_id,
            error,
            PAUSE_AFTER_ERROR_SECONDS,
        )


class Listener:
    """Waits for the notifications of one execution. Without Redis, or once Redis failed,
    `wait` just sleeps: the caller re-reads on its timer either way."""

    def __init__(self, tenant_id: int, execution_id: str) -> None:
        self.channel = channel(tenant_id, execution_id)
        self.pubsub: redis.client.PubSub | None = None

    @property
    def subscribed(self) -> bool:
        return self.pubsub is not None

    def open(self) -> None:
        """Subscribe, and wait for Redis to confirm it: a change committed after this returns
        is always notified (so read the rows only after it)."""
        url = redis_url()
        if not url:
            return
        pubsub = redis_client(url).pubsub()
        try:
            pubsub.subscribe(self.channel)
            deadline = time.monotonic() + 1.0
            while (left := deadline - time.monotonic()) > 0:
                message = pubsub.get_message(timeout=left)
                if message is not None and message["type"] == "subscribe":
                    self.pubsub = pubsub
                    return
            log.warning("%s: no subscription confirmation; polling instead", self.channel)
        except (redis.RedisError, OSError) as error:
            log.warning("%s: cannot subscribe (%s); polling instead", self.channel, error)
        self._close(pubsub)

    def wait(self, timeout: float) -> bool:
        """Up to `timeout` seconds for a notification; True when one (or more: they are
        drained, a burst of commits costs one re-read) came."""
        if timeout <= 0:
            return False
        if self.pubsub is None:
            time.sleep(timeout)
            return False
        try:
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                message = self.pubsub.get_message(timeout=left)
                if message is not None and message["type"] == "message":
                    while self.pubsub.get_message(timeout=0) is not None:
                        pass
                    return True
            return False
        except (redis.RedisError, OSError) as error:
            log.warning("%s: subscription lost (%s); polling instead", self.channel, error)
            self.close()
            return False

    def close(self) -> None:
        if self.pubsub is not None:
            self._close(self.pubsub)
            self.pubsub = None

    @staticmethod
    def _close(pubsub: redis.client.PubSub) -> None:
        try:
            pubsub.close()
        except (redis.RedisError, OSError):
            log.debug("closing a subscription failed", exc_info=True)


@contextmanager
def listening(*, tenant: Tenant, execution_id: str) -> Iterator[Listener]:
    """A subscribed `Listener` for the block, unsubscribed after it (also when the client of
    a stream went away and the stream's generator is closed)."""
    listener = Listener(tenant.pk, execution_id)
    listener.open()
    try:
        yield listener
    finally:
        listener.close()
