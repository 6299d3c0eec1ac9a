"""http.Request against a real HTTP server on 127.0.0.1 (no external network)."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from executions.engine.local import MemoryStorage
from executions.engine.states import State
from tests.executions.engine.helpers import run
from tests.executions.engine.tasks.support import messages, outputs_of, run_task

REQUEST = "io.kestra.plugin.core.http.Request"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def _send(self, code, body=b"", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length).decode("utf-8", errors="replace")
        document = {
            "method": self.command,
            "path": self.path,
            "contentType": self.headers.get("Content-Type"),
            "authorization": self.headers.get("Authorization"),
            "custom": self.headers.get("X-Custom"),
            "body": received,
        }
        self._send(200, json.dumps(document).encode(), [("Content-Type", "application/json")])

    def do_GET(self):
        if self.path == "/hello":
            headers = [("Content-Type", "text/plain; charset=utf-8"), ("X-Multi", "1")]
            self._send(200, "h\u00e9llo".encode(), [*headers, ("X-Multi", "2")])
        elif self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), b'{"error": "nope"}')
        elif self.path == "/redirect":
            self._send(302, b"", [("Location", "/hello")])
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, b"late")
        elif self.path == "/big":
            self._send(200, b"x" * 5000)
        elif self.path == "/binary":
            self._send(200, b"\xff\xfe\xfa", [("Content-Type", "text/plain; charset=utf-8")])
        elif self.path == "/empty":
            self._send(204)
        else:
            self._echo()

    do_POST = do_PUT = do_DELETE = do_PATCH = _echo

    def do_HEAD(self):
        self._send(200, b"", [("X-Head", "yes")])


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_it_gets_a_url_and_outputs_code_headers_and_body(server):
    outcome = run_task(REQUEST, uri=server + "/hello")
    assert outcome.action.state is State.SUCCESS
    outputs = outcome.action.outputs
    assert outputs["uri"] == server + "/hello"
    assert outputs["code"] == 200
    assert outputs["body"] == "h\u00e9llo"
    assert outputs["headers"]["X-Multi"] == ["1", "2"]
    assert outputs["headers"]["Content-Type"] == ["text/plain; charset=utf-8"]
    assert messages(outcome) == [
        ("DEBUG", f"Request '{server}/hello' with the response code '200'")
    ]


def test_it_posts_a_rendered_body_as_json_by_default_with_rendered_headers(server):
    outcome = run_task(
        REQUEST,
        uri=server + "/echo",
        method="POST",
        body='{"flow": "{{ flow.id }}"}',
        headers={"X-Custom": "{{ task.id }}", "X-Number": 3},
    )
    echoed = json.loads(outcome.action.outputs["body"])
    assert echoed["method"] == "POST"
    assert echoed["contentType"] == "application/json"
    assert echoed["body"] == '{"flow": "test"}'
    assert echoed["custom"] == "t"


def test_it_sends_the_given_content_type(server):
    outcome = run_task(
        REQUEST, uri=server + "/echo", method="PUT", body="plain", contentType="text/plain"
    )
    echoed = json.loads(outcome.action.outputs["body"])
    assert (echoed["method"], echoed["contentType"], echoed["body"]) == (
        "PUT",
        "text/plain",
        "plain",
    )


def test_it_url_encodes_form_data(server):
    outcome = run_task(
        REQUEST,
        uri=server + "/echo",
        method="POST",
        formData={"name": "{{ flow.id }}", "flag": True, "text": "a b&c"},
    )
    echoed = json.loads(outcome.action.outputs["body"])
    assert echoed["contentType"] == "application/x-www-form-urlencoded"
    assert echoed["body"] == "name=test&flag=true&text=a+b%26c"


def test_it_sends_multipart_form_data_with_files_from_the_storage(server):
    storage = MemoryStorage()
    uri = storage.put("company/team/report.csv", b"a,b\n1,2\n")
    outcome = run_task(
        REQUEST,
        uri=server + "/echo",
        method="POST",
        contentType="multipart/form-data",
        formData={"title": "hello", "file": uri, "named": {"name": "x.csv", "content": uri}},
        storage=storage,
    )
    echoed = json.loads(outcome.action.outputs["body"])
    assert echoed["contentType"].startswith("multipart/form-data; boundary=")
    assert 'name="title"\r\n\r\nhello' in echoed["body"]
    assert 'name="file"; filename="report.csv"' in echoed["body"]
    assert 'name="named"; filename="x.csv"' in echoed["body"]
    assert echoed["body"].count("a,b\n1,2\n") == 2


def test_it_fails_on_a_status_of_400_or_more_unless_allowed(server):
    outcome = run_task(REQUEST, uri=server + "/status/404")
    assert outcome.action.state is State.FAILED
    assert messages(outcome) == [
        ("ERROR", "Failed http request with response code '404' (Not Found)")
    ]
    outcome = run_task(REQUEST, uri=server + "/status/500", allowFailed=True)
    assert outcome.action.state is State.SUCCESS
    assert outcome.action.outputs["code"] == 500
    assert outcome.action.outputs["body"] == '{"error": "nope"}'


def test_it_follows_redirects_unless_told_not_to(server):
    followed = run_task(REQUEST, uri=server + "/redirect")
    assert (followed.action.outputs["code"], followed.action.outputs["body"]) == (200, "h\u00e9llo")
    assert followed.action.outputs["uri"] == server + "/redirect"
    kept = run_task(REQUEST, uri=server + "/redirect", options={"followRedirects": False})
    assert kept.action.state is State.SUCCESS
    assert kept.action.outputs["code"] == 302
    assert kept.action.outputs["headers"]["Location"] == ["/hello"]
    assert "body" not in kept.action.outputs


def test_it_has_no_body_output_for_an_empty_response_and_supports_head(server):
    assert "body" not in run_task(REQUEST, uri=server + "/empty").action.outputs
    head = run_task(REQUEST, uri=server + "/x", method="HEAD").action.outputs
    assert head["headers"]["X-Head"] == ["yes"]
    assert "body" not in head


def test_it_sends_basic_authentication(server):
    outcome = run_task(
        REQUEST,
        uri=server + "/echo",
        options={"basicAuthUser": "{{ flow.id }}", "basicAuthPassword": "secret"},
    )
    assert json.loads(outcome.action.outputs["body"])["authorization"] == "Basic dGVzdDpzZWNyZXQ="


def test_it_fails_when_the_read_timeout_passes(server):
    started = time.monotonic()
    outcome = run_task(REQUEST, uri=server + "/slow", options={"readTimeout": "PT0.3S"})
    assert time.monotonic() - started < 2
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[-1][1].startswith(f"Timeout calling '{server}/slow'")


def test_it_fails_with_the_task_timeout_before_a_longer_read_timeout(server):
    started = time.monotonic()
    outcome = run_task(
        REQUEST, uri=server + "/slow", timeout="PT0.5S", options={"readTimeout": "PT1M"}
    )
    assert time.monotonic() - started < 2
    assert outcome.action.state is State.FAILED
    assert messages(outcome) == [("ERROR", "Timeout after 0:00:00.500")]


def test_it_refuses_a_response_longer_than_max_content_length(server):
    outcome = run_task(REQUEST, uri=server + "/big", options={"maxContentLength": 1000})
    assert messages(outcome) == [
        ("ERROR", "The received length exceeds the maximum allowed content length [1000]")
    ]
    assert run_task(REQUEST, uri=server + "/big").action.outputs["body"] == "x" * 5000


def test_it_refuses_a_body_that_is_not_text(server):
    outcome = run_task(REQUEST, uri=server + "/binary")
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[0][1].startswith("Illegal unicode code point in request body")


def test_it_fails_clearly_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = run_task(REQUEST, uri=f"http://127.0.0.1:{port}/")
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[0][1].startswith("Connect Error:")


def test_it_fails_an_invalid_uri_and_unsupported_options():
    assert messages(run_task(REQUEST, uri="ftp://example.com/x"))[0][1].startswith("Invalid uri")
    outcome = run_task(REQUEST, uri="http://127.0.0.1:9/", encryptBody=True)
    assert messages(outcome)[0][1].startswith("encryptBody is not supported")


def test_it_stops_when_the_attempt_is_killed(server):
    outcome = run_task(REQUEST, uri=server + "/hello", cancelled=lambda: True)
    assert outcome.action.state is State.KILLED


def test_its_outputs_feed_the_next_task(server):
    result = run(
        f"""
        tasks:
          - id: call
            type: {REQUEST}
            uri: {server}/hello
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{{{ outputs.call.code }}}} {{{{ outputs.call.body }}}}"
        """
    )
    assert outputs_of(result, "show") == {"value": "200 h\u00e9llo"}
