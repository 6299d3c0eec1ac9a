"""Server-sent event streams that follow one execution: its JSON as it changes, its log lines
as they are written (Kestra's `/executions/{id}/follow` and `/logs/{id}/follow`), and the
execution page's "something changed" signal.

A stream subscribes to the execution's change notifications (executions/notify.py) before
its first read, then re-reads the rows after each notification and at least every
`POLL_SECONDS`, so a lost notification delays an event, never loses it. Reads go through the
selectors; a notification burst costs one re-read. Each stream ends on its own once the
execution is terminal, after `FOLLOW_MAX_SECONDS` (a client reconnects), or when the client
goes away (noticed at the next write: at the latest the next heartbeat comment).

A stream re-reads rows, it does not replay a queue: states an execution passed through
between two reads (a fast flow) are not all sent, but the latest one always is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from itertools import islice
from typing import Any, Protocol

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse

from executions import notify, selectors
from executions.engine.states import State
from executions.models import Execution
from tenants.errors import NotFound
from tenants.models import Tenant

POLL_SECONDS = 2.0
"""Longest time between two reads while notifications arrive through Redis."""
UNNOTIFIED_POLL_SECONDS = 1.0
"""Between two reads without Redis (the embedded setup), as often as the page used to poll."""
MIN_READ_INTERVAL_SECONDS = 0.05
"""At most 20 reads a second per stream, however fast the execution writes."""
FRAMES_PER_WRITE = 200
"""Log lines sent in one write when many are due (the existing lines of a long execution)."""

HEARTBEAT = ": keep-alive\n\n"


def frame(data: str, *, event_id: str | None = None, event: str | None = None) -> str:
    """One SSE event. Without `event`, a client's `message` listener gets it, as Kestra's."""
    head = (f"event: {event}\n" if event else "") + (f"id: {event_id}\n" if event_id else "")
    return head + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"


def _json(document: Any) -> str:
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"))


def finished(execution: Execution) -> bool:
    """Kestra stops following at a terminal state (a paused execution is not terminal)."""
    return State(execution.state).terminated


class Follower(Protocol):
    finished: bool

    def read(self) -> Iterator[str]:
        """The frames due since the last read; sets `finished` when nothing more will be."""


class ExecutionFollower:
    """Kestra's execution follow: the execution JSON (as `GET /executions/{id}`) whenever it
    differs from the last one sent, with id `progress`, and the terminal one with id `end`."""

    def __init__(self, tenant: Tenant, execution_id: str) -> None:
        self.tenant, self.execution_id = tenant, execution_id
        self.sent: dict[str, Any] | None = None
        self.finished = False

    def read(self) -> Iterator[str]:
        row = selectors.execution_get(tenant=self.tenant, execution_id=self.execution_id)
        document = selectors.execution_as_json(row)
        self.finished = finished(row)
        if document != self.sent:
            self.sent = document
            yield frame(_json(document), event_id="end" if self.finished else "progress")


class LogFollower:
    """Kestra's log follow: each log line at `min_level` or above (as `GET /logs/{id}`), the
    existing ones first (oldest first), then new ones as they are committed; the event id is
    the line's id, so a client that reconnects with `Last-Event-ID` resumes after it."""

    def __init__(
        self, tenant: Tenant, execution: Execution, min_level: str, after_id: int | None
    ) -> None:
        self.tenant, self.execution, self.min_level = tenant, execution, min_level
        self.last_id = after_id
        self.finished = False

    def read(self) -> Iterator[str]:
        # The state first: lines are committed with (or before) the state they lead to, so
        # the lines read after a terminal state are all there will be.
        row = selectors.execution_get(tenant=self.tenant, execution_id=self.execution.id)
        ending = finished(row)
        if self.last_id is None:
            entries = selectors.log_list(
                tenant=self.tenant, execution_id=self.execution.id, min_level=self.min_level
            )
            self.last_id = 0
        else:
            entries = selectors.log_entries_after(
                tenant=self.tenant,
                execution=self.execution,
                after_id=self.last_id,
                min_level=self.min_level,
            )
        for entry in entries.iterator(chunk_size=FRAMES_PER_WRITE):
            self.last_id = max(self.last_id, entry.pk)
            line = selectors.log_as_json(entry, self.execution)
            yield frame(_json(line), event_id=str(entry.pk))
        self.finished = ending


class PageFollower:
    """The execution page's signal: an event `change` (data: the state) whenever the
    execution or its log lines changed, then `end` once it is terminal; the page fetches its
    live fragment on `change` and closes the stream on `end`."""

    def __init__(self, tenant: Tenant, execution: Execution) -> None:
        self.tenant, self.execution = tenant, execution
        self.seen: tuple[dict[str, Any], int] | None = None
        self.last_log_id = 0
        self.finished = False

    def read(self) -> Iterator[str]:
        row = selectors.execution_get(tenant=self.tenant, execution_id=self.execution.id)
        document = selectors.execution_as_json(row)
        self.last_log_id = selectors.log_last_id(
            tenant=self.tenant, execution=self.execution, after_id=self.last_log_id
        )
        self.finished = finished(row)
        marker = (document, self.last_log_id)
        if marker == self.seen:
            return
        # The first read signals too: the page was rendered before this stream subscribed.
        self.seen = marker
        yield frame(row.state, event="change")
        if self.finished:
            yield frame(row.state, event="end")


def _setting(name: str) -> float:
    return float(settings.AVIARY[name])


def stream(*, tenant: Tenant, execution_id: str, follower: Follower) -> Iterator[str]:
    """The frames of `follower` as a response body: heartbeats when idle, until it has
    finished, the execution is gone, or the stream is `FOLLOW_MAX_SECONDS` old."""
    started = time.monotonic()
    deadline = started + _setting("FOLLOW_MAX_SECONDS")
    heartbeat = _setting("FOLLOW_HEARTBEAT_SECONDS")
    with notify.listening(tenant=tenant, execution_id=execution_id) as listener:
        poll = POLL_SECONDS if listener.subscribed else UNNOTIFIED_POLL_SECONDS
        yield f": following execution {execution_id}\n\n"  # headers go out now
        last_write = last_read = time.monotonic()
        while True:
            last_read = time.monotonic()
            try:
                frames = follower.read()
                while chunk := "".join(islice(frames, FRAMES_PER_WRITE)):
                    yield chunk
                    last_write = time.monotonic()
            except NotFound:
                return  # deleted while followed: nothing more will come
            if follower.finished:
                return
            now = time.monotonic()
            if now >= deadline:
                return
            if now - last_write >= heartbeat:
                yield HEARTBEAT
                last_write = now
            if listener.wait(min(poll, deadline - now, last_write + heartbeat - now)):
                time.sleep(max(0.0, last_read + MIN_READ_INTERVAL_SECONDS - time.monotonic()))


def event_stream(*, tenant: Tenant, execution_id: str, follower: Follower) -> StreamingHttpResponse:
    """The response that streams `follower`."""
    frames = stream(tenant=tenant, execution_id=execution_id, follower=follower)
    response = StreamingHttpResponse(frames, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy such as nginx must not buffer the events
    return response
