"""The follow streams over real HTTP (the live server): each change of an execution arrives
in order and the stream ends at the terminal state; log lines arrive existing first, then
new, and that stream ends too; heartbeats, the maximum duration, the polling fallback when
no notification comes, reconnections, the execution page's stream, and 404s for another
tenant's or an unknown execution. State changes are driven in-process through the services;
Celery sends are recorded instead of going to a broker."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from accounts.services import api_token_create
from executions import follow, notify, selectors, services, tasks
from executions.models import Execution, LogEntry
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """id: chatty
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first line
  - id: quiet
    type: io.kestra.plugin.core.log.Log
    level: DEBUG
    message: debug line
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "42"
"""

NAPPING = """id: napping
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first line
  - id: quiet
    type: io.kestra.plugin.core.log.Log
    level: DEBUG
    message: debug line
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.5S
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: last line
"""


@dataclass
class Event:
    id: str | None
    event: str | None
    data: str


class EventReader:
    """Server-sent events parsed from a streamed response, one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()
        self.comments: list[str] = []

    def next(self) -> Event | None:
        """The next event; None once the server has ended the stream."""
        fields: dict[str, str] = {}
        data: list[str] = []
        for line in self.lines:
            if line == "":
                if data or fields:
                    return Event(fields.get("id"), fields.get("event"), "\n".join(data))
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
        return None

    def rest(self) -> list[Event]:
        events = []
        while (event := self.next()) is not None:
            events.append(event)
        return events


@pytest.fixture(autouse=True)
def short_streams(settings):
    """Streams a failing test leaves open still end soon (the live server outlives tests)."""
    settings.AVIARY = {**settings.AVIARY, "FOLLOW_MAX_SECONDS": 20, "FOLLOW_HEARTBEAT_SECONDS": 15}


@pytest.fixture
def sent(monkeypatch) -> queue.Queue:
    """Celery messages the code under test sends (from any thread), instead of a broker."""
    messages: queue.Queue = queue.Queue()

    def record(name):
        def apply_async(args=(), kwargs=None, **options):
            messages.put((name, tuple(args), dict(kwargs or {})))

        return apply_async

    monkeypatch.setattr(tasks.advance_execution, "apply_async", record("advance"))
    monkeypatch.setattr(tasks.run_task_run, "apply_async", record("run"))
    monkeypatch.setattr(tasks.advance_execution, "delay", lambda *a: record("advance")(a))
    monkeypatch.setattr(tasks.run_task_run, "delay", lambda *a: record("run")(a))
    return messages


def run_next(tenant, sent: queue.Queue) -> bool:
    """Handle the oldest recorded message as the executor or a worker would; False if none."""
    try:
        name, args, kwargs = sent.get_nowait()
    except queue.Empty:
        return False
    if name == "advance":
        services.execution_advance(tenant=tenant, execution_id=args[1])
    else:
        services.task_run_execute(
            tenant=tenant, execution_id=args[1], task_run_id=args[2], **kwargs
        )
    return True


@pytest.fixture
def open_stream(live_server) -> Iterator[Callable]:
    """`open_stream(user, path, **headers)`: a context manager giving an EventReader on the
    live server, authenticated by a real API token (or `cookies=` for a page's session)."""
    clients: list[httpx.Client] = []

    @contextmanager
    def opener(user, path: str, cookies: dict | None = None, **headers: str):
        if cookies is None:
            name = f"follow-{len(clients)}"
            token = api_token_create(user=user, name=name, expires_in_days=1).raw
            headers["Authorization"] = f"Bearer {token}"
        client = httpx.Client(base_url=live_server.url, timeout=10.0, cookies=cookies)
        clients.append(client)
        with client.stream("GET", path, headers=headers) as response:
            yield response

    yield opener
    for client in clients:
        client.close()


def _as_sent(document: dict) -> dict:
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def _document(tenant, execution_id: str) -> dict:
    row = selectors.execution_get(tenant=tenant, execution_id=execution_id)
    return _as_sent(selectors.execution_as_json(row))


@pytest.fixture
def chatty(acme, alice) -> None:
    flow_create(tenant=acme, user=alice, source=FLOW)


def _create(tenant, flow_id: str = "chatty") -> Execution:
    return services.execution_create(
        tenant=tenant, namespace="company.team", flow_id=flow_id, provided={}
    )


# ---------- the execution ----------


def test_it_sends_each_change_in_order_and_ends_at_the_terminal_state(
    chatty, acme, alice, sent, open_stream, live_server, monkeypatch
):
    monkeypatch.setattr(follow, "POLL_SECONDS", 30.0)  # only the notifications wake it
    row = _create(acme)
    with open_stream(alice, f"/api/v1/acme/executions/{row.id}/follow") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        stream = EventReader(response)
        received = [stream.next()]
        assert received[0].id == "progress"
        assert json.loads(received[0].data) == _document(acme, row.id)
        steps = 0
        while run_next(acme, sent):
            steps += 1
            assert steps < 50, "the execution does not end"
            expected = _document(acme, row.id)
            started = time.monotonic()
            while json.loads(received[-1].data) != expected:
                event = stream.next()
                assert event is not None, f"the stream ended before {expected['state']}"
                received.append(event)
            assert time.monotonic() - started < 5  # a notification, not the 30 s timer
        assert stream.next() is None  # ended, right after the terminal state
    documents = [json.loads(event.data) for event in received]
    states = [document["state"]["current"] for document in documents]
    assert states[0] in {"CREATED", "RUNNING"}  # the first decision may come with creation
    assert "RUNNING" in states
    assert states[-1] == "SUCCESS"
    assert [event.id for event in received] == ["progress"] * (len(received) - 1) + ["end"]
    assert all(event.event is None for event in received)  # Kestra's unnamed events
    # in order: each event's history continues the previous one's
    for before, after in itertools.pairwise(documents):
        assert before != after
        assert (
            after["state"]["histories"][: len(before["state"]["histories"])]
            == (before["state"]["histories"])
        )
    assert documents[-1]["taskRunList"][-1]["outputs"] == {"value": "42"}
    # the same document as GET /executions/{id}
    token = api_token_create(user=alice, name="get", expires_in_days=1).raw
    got = httpx.get(
        f"{live_server.url}/api/v1/acme/executions/{row.id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert got.json() == documents[-1]


def test_an_ended_execution_is_sent_once_and_a_reconnection_gets_no_stream(
    chatty, acme, alice, sent, open_stream
):
    row = _create(acme)
    while run_next(acme, sent):
        pass
    url = f"/api/v1/acme/executions/{row.id}/follow"
    with open_stream(alice, url) as response:
        events = EventReader(response).rest()
    assert [(event.id, json.loads(event.data)["state"]["current"]) for event in events] == [
        ("end", "SUCCESS")
    ]
    # an EventSource reconnects when a stream ends: told "no content", it stops
    with open_stream(alice, url, **{"Last-Event-ID": "end"}) as response:
        assert response.status_code == 204
        assert response.read() == b""


def test_an_idle_stream_sends_comments_and_ends_at_its_maximum_duration(
    chatty, acme, alice, sent, open_stream, settings
):
    settings.AVIARY = {
        **settings.AVIARY,
        "FOLLOW_MAX_SECONDS": 0.8,
        "FOLLOW_HEARTBEAT_SECONDS": 0.2,
    }
    row = _create(acme)  # its messages are recorded, not run (a session's worker may be up)
    started = time.monotonic()
    with open_stream(alice, f"/api/v1/acme/executions/{row.id}/follow") as response:
        stream = EventReader(response)
        events = stream.rest()
    assert 0.7 < time.monotonic() - started < 5
    assert [event.id for event in events] == ["progress"]
    assert stream.comments.count("keep-alive") >= 2


def test_a_change_is_noticed_without_its_notification(
    chatty, acme, alice, sent, open_stream, monkeypatch
):
    monkeypatch.setattr(notify, "publish", lambda tenant_id, execution_id: None)
    monkeypatch.setattr(follow, "POLL_SECONDS", 0.2)
    row = _create(acme)
    with open_stream(alice, f"/api/v1/acme/executions/{row.id}/follow") as response:
        stream = EventReader(response)
        before = json.loads(stream.next().data)
        assert run_next(acme, sent)  # the executor or a worker goes on; nothing is published
        started = time.monotonic()
        after = json.loads(stream.next().data)
        assert time.monotonic() - started < 2
    assert after == _document(acme, row.id)
    assert after != before


# ---------- the logs ----------


def _drive_in_background(tenant, execution_id: str, sent: queue.Queue) -> threading.Thread:
    """Runs the execution to its end in another thread, as the executor and workers would."""

    def drive() -> None:
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if run_next(tenant, sent):
                    continue
                row = Execution.objects.for_tenant(tenant).filter(pk=execution_id).first()
                if row is None or row.state == "SUCCESS":
                    return
                time.sleep(0.01)
        finally:
            connection.close()

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    return thread


def _wait_for_line(tenant, message: str) -> None:
    deadline = time.monotonic() + 10
    while not LogEntry.objects.for_tenant(tenant).filter(message=message).exists():
        assert time.monotonic() < deadline, f"no log line {message!r}"
        time.sleep(0.01)


def test_it_sends_the_existing_log_lines_then_new_ones_and_ends(acme, alice, sent, open_stream):
    flow_create(tenant=acme, user=alice, source=NAPPING)
    row = _create(acme, "napping")
    driver = _drive_in_background(acme, row.id, sent)
    _wait_for_line(acme, "first line")
    url = f"/api/v1/acme/logs/{row.id}/follow?minLevel=INFO"
    with open_stream(alice, url, Accept="text/event-stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventReader(response)
        events = [stream.next()]
        while json.loads(events[-1].data)["message"] != "first line":
            events.append(stream.next())
        # the lines so far were there before the stream; the last one is not written yet
        # (the task before it naps)
        assert not LogEntry.objects.for_tenant(acme).filter(message="last line").exists()
        events += stream.rest()  # ends by itself once the execution has ended
    driver.join(timeout=10)
    assert Execution.objects.for_tenant(acme).get(pk=row.id).state == "SUCCESS"
    lines = [json.loads(event.data) for event in events]
    assert [line["message"] for line in lines if line["message"].endswith(" line")] == [
        "first line",
        "last line",
    ]
    assert all(line["level"] in {"INFO", "WARN", "ERROR"} for line in lines)
    entries = LogEntry.objects.for_tenant(acme).filter(execution_id=row.id)
    expected = [
        selectors.log_as_json(entry, row)
        for entry in entries.exclude(level__in=["TRACE", "DEBUG"]).order_by("id")
    ]
    assert lines == _as_sent(expected)  # every line, once, shaped as GET /logs/{id}
    ids = [int(event.id) for event in events]
    assert ids == sorted(ids)
    assert entries.filter(message="debug line").exists()  # written, but below minLevel


def test_a_log_stream_resumes_after_the_last_event_id(chatty, acme, alice, sent, open_stream):
    row = _create(acme)
    while run_next(acme, sent):
        pass
    url = f"/api/v1/acme/logs/{row.id}/follow"
    with open_stream(alice, url) as response:
        every = EventReader(response).rest()
    assert [json.loads(event.data)["message"] for event in every if "line" in event.data] == [
        "first line",
        "debug line",
    ]
    with open_stream(alice, url, **{"Last-Event-ID": every[0].id}) as response:
        assert [event.id for event in EventReader(response).rest()] == [e.id for e in every[1:]]
    # all seen and the execution has ended: no stream, so an EventSource stops reconnecting
    with open_stream(alice, url, **{"Last-Event-ID": every[-1].id}) as response:
        assert response.status_code == 204


# ---------- the execution page ----------


def test_the_execution_page_stream_signals_changes_then_the_end(
    chatty, acme, alice, sent, open_stream, client
):
    client.force_login(alice)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    row = _create(acme)
    with open_stream(alice, f"/ui/acme/executions/{row.id}/events", cookies=cookies) as response:
        assert response.status_code == 200
        stream = EventReader(response)
        first = stream.next()
        assert (first.event, first.data) == ("change", row.state)
        while run_next(acme, sent):  # the executor and workers go on
            pass
        rest = stream.rest()
    assert [event.event for event in rest] == ["change"] * (len(rest) - 1) + ["end"]
    assert [event.data for event in rest[-2:]] == ["SUCCESS", "SUCCESS"]
    # the API accepts the page's session too (GET needs no CSRF token)
    with open_stream(alice, f"/api/v1/acme/executions/{row.id}/follow", cookies=cookies) as api:
        assert [event.id for event in EventReader(api).rest()] == ["end"]


# ---------- not found, bad input ----------


def test_another_tenants_or_an_unknown_execution_is_404_before_any_stream(
    chatty, acme, alice, mallory, open_stream, client
):
    row = _create(acme)
    for path in [
        f"/api/v1/acme/executions/{row.id}/follow",  # not her tenant
        f"/api/v1/acme/logs/{row.id}/follow",
        f"/api/v1/globex/executions/{row.id}/follow",  # her tenant, not its execution
        f"/api/v1/globex/logs/{row.id}/follow",
    ]:
        with open_stream(mallory, path, Accept="text/event-stream") as response:
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/json"
            body = response.read().decode()
            assert json.loads(body)["code"] == "not_found"
            assert "chatty" not in body
    for path in ["/api/v1/acme/executions/nope/follow", "/api/v1/acme/logs/nope/follow"]:
        with open_stream(alice, path, Accept="text/event-stream") as response:
            assert response.status_code == 404, path
            assert json.loads(response.read())["message"] == "Execution nope not found"
    client.force_login(mallory)
    assert client.get(f"/ui/globex/executions/{row.id}/events").status_code == 404
    assert client.get(f"/ui/acme/executions/{row.id}/events").status_code == 404


def test_an_unknown_min_level_is_refused_naming_the_parameter(chatty, acme, alice, open_stream):
    row = _create(acme)
    with open_stream(alice, f"/api/v1/acme/logs/{row.id}/follow?minLevel=LOUD") as response:
        assert response.status_code == 400
        body = json.loads(response.read())
    assert body["errors"] == [
        {
            "path": "minLevel",
            "message": "expected one of TRACE, DEBUG, INFO, WARN, ERROR, got 'LOUD'",
            "line": None,
            "column": None,
        }
    ]


def test_a_post_to_the_follow_route_still_executes_a_flow_named_follow(
    acme, alice, alice_api, sent
):
    flow_create(tenant=acme, user=alice, source=FLOW.replace("id: chatty", "id: follow"))
    response = alice_api.post("/api/v1/acme/executions/company.team/follow", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["flowId"] == "follow"
    assert Execution.objects.for_tenant(acme).filter(flow_id="follow").count() == 1


# ---------- notifications ----------


@contextmanager
def _channel(tenant, execution_id: str) -> Iterator[Callable[[], int]]:
    """Counts what is published on the execution's channel."""
    listener = notify.Listener(tenant.pk, execution_id)
    listener.open()
    assert listener.subscribed

    def count() -> int:
        got = 0
        while listener.pubsub.get_message(timeout=0.2) is not None:
            got += 1
        return got

    try:
        yield count
    finally:
        listener.close()


def test_a_transaction_publishes_once_and_a_rolled_back_one_not_at_all(chatty, acme, sent):
    row = _create(acme)
    with _channel(acme, row.id) as published:
        with transaction.atomic():
            for _ in range(3):
                notify.execution_changed(tenant=acme, execution_id=row.id)
            assert published() == 0  # not before the commit
        assert published() == 1
        with transaction.atomic():
            notify.execution_changed(tenant=acme, execution_id=row.id)
            transaction.set_rollback(True)
        assert published() == 0


def test_an_unreachable_redis_never_fails_the_engine(
    chatty, acme, sent, settings, caplog, monkeypatch
):
    monkeypatch.setattr(notify, "_paused_until", 0.0)  # the back-off ends with the test
    settings.AVIARY = {**settings.AVIARY, "EVENTS_REDIS_URL": "redis://127.0.0.1:1/0"}
    row = _create(acme)
    while run_next(acme, sent):
        pass
    assert Execution.objects.for_tenant(acme).get(pk=row.id).state == "SUCCESS"
    assert "change notification not published" in caplog.text


def test_both_streams_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    execution = paths["/api/v1/{tenant}/executions/{execution_id}/follow"]
    logs = paths["/api/v1/{tenant}/logs/{execution_id}/follow"]
    assert set(execution) == {"get"}  # the POST it hands over is documented as execution_create
    for operation in (execution["get"], logs["get"]):
        assert "text/event-stream" in operation["responses"]["200"]["content"]
        assert operation["responses"]["404"]["content"]["application/json"]
        assert "Last-Event-ID" in {p["name"] for p in operation["parameters"]}
    assert "minLevel" in {p["name"] for p in logs["get"]["parameters"]}
