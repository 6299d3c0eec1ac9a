"""Execution pages rendered by the server: the launch form generated from a flow's inputs (and
its 422 with each violation at its input), the list and its filters in the URL, a flow's
Executions tab, the execution page and its live fragment, and another tenant's 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from executions.models import Execution, LogEntry, TaskRun
from executions.services import execution_create
from flows.services import flow_create
from tests.conftest import flow_yaml

pytestmark = pytest.mark.django_db

TYPED = """id: typed
namespace: company.team
description: Every input type
inputs:
  - id: who
    type: STRING
    displayName: Who to greet
    description: A name
    validator: "[A-Za-z]+"
  - id: count
    type: INT
    defaults: 3
    min: 1
    max: 10
  - id: ratio
    type: FLOAT
    required: false
  - id: flag
    type: BOOLEAN
    defaults: true
  - id: color
    type: SELECT
    values: [red, green, blue]
    defaults: green
  - id: tags
    type: MULTISELECT
    values: [a, b, c]
    required: false
  - id: when
    type: DATETIME
    required: false
  - id: day
    type: DATE
    required: false
  - id: at
    type: TIME
    required: false
  - id: doc
    type: JSON
    defaults: {"k": 1}
  - id: config
    type: YAML
    required: false
  - id: token
    type: SECRET
    required: false
  - id: upload
    type: FILE
    required: false
  - id: legacy
    name: legacy
    type: ENUM
    values: [x, y]
    required: false
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.who }}"
"""


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def typed_flow(acme, alice):
    return flow_create(tenant=acme, user=alice, source=TYPED)


def _field(page: str, name: str) -> str:
    """The HTML of the input, select or textarea named `name`."""
    found = re.search(rf'<(input|select|textarea)[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert found, f"no field {name}"
    return found.group(0)


def _row(page: str, input_id: str) -> str:
    """The form row of one input, up to the next one."""
    start = page.index(f'data-input="{input_id}"')
    end = page.find('data-input="', start + 1)
    return page[start : end if end != -1 else len(page)]


def _executions(tenant) -> list[Execution]:
    return list(Execution.objects.for_tenant(tenant).order_by("start_date"))


# ---------- launch form ----------


def test_the_launch_form_has_a_field_per_input_type(typed_flow, alice_web):
    response = alice_web.get("/ui/acme/flows/company.team/typed/execute")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    who = _field(page, "inputs.who")
    assert 'type="text"' in who
    assert 'pattern="[A-Za-z]+"' in who
    assert "required" in who
    assert "Who to greet" in page
    assert "A name" in page
    count = _field(page, "inputs.count")
    assert 'type="number"' in count
    assert 'value="3"' in count
    assert 'min="1"' in count
    assert 'max="10"' in count
    assert "required" not in count  # it has a default
    assert 'step="any"' in _field(page, "inputs.ratio")
    assert "<select" in _field(page, "inputs.flag")
    assert re.search(r'<option value="true" selected>true</option>', _row(page, "flag"))
    assert re.search(r'<option value="green" selected>green</option>', _row(page, "color"))
    assert "multiple" in _field(page, "inputs.tags")
    assert 'type="datetime-local"' in _field(page, "inputs.when")
    assert 'type="date"' in _field(page, "inputs.day")
    assert 'type="time"' in _field(page, "inputs.at")
    assert _field(page, "inputs.doc").startswith("<textarea")
    assert "&quot;k&quot;: 1" in _row(page, "doc")
    assert _field(page, "inputs.config").startswith("<textarea")
    assert 'type="password"' in _field(page, "inputs.token")
    assert 'type="file"' in _field(page, "inputs.upload")
    assert '<option value="y">y</option>' in _row(page, "legacy")
    assert _field(page, "labels")


def test_an_invalid_launch_is_a_422_with_each_problem_at_its_input(acme, typed_flow, alice_web):
    response = alice_web.post(
        "/ui/acme/flows/company.team/typed/execute",
        {"inputs.who": "", "inputs.count": "42", "inputs.flag": "maybe", "inputs.color": "red"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Invalid input for `who`, missing required input" in _row(page, "who")
    assert "Invalid input for `count`, it must be less than `10`" in _row(page, "count")
    assert "Invalid input for `flag`" in _row(page, "flag")
    assert "field-error" not in _row(page, "color")
    assert 'value="42"' in _field(page, "inputs.count")  # what was typed stays
    assert _executions(acme) == []


def test_malformed_labels_are_refused_before_anything_runs(acme, typed_flow, alice_web):
    response = alice_web.post(
        "/ui/acme/flows/company.team/typed/execute",
        {"inputs.who": "Ada", "labels": "team:data, oops"},
    )
    assert response.status_code == 422
    assert "Expected key:value, got &#x27;oops&#x27;" in response.content.decode()
    response = alice_web.post(
        "/ui/acme/flows/company.team/typed/execute",
        {"inputs.who": "Ada", "labels": "system.flow:x"},
    )
    assert response.status_code == 422
    assert "system labels other than system.correlationId are reserved" in (
        response.content.decode()
    )
    assert _executions(acme) == []


def test_a_valid_launch_creates_the_execution_and_opens_it(acme, typed_flow, alice_web):
    response = alice_web.post(
        "/ui/acme/flows/company.team/typed/execute",
        {
            "inputs.who": "Ada",
            "inputs.tags": ["a", "c"],
            "inputs.when": "2024-12-31T09:30",
            "inputs.day": "2024-12-31",
            "inputs.at": "09:30:15",
            "inputs.token": "s3cret",
            "inputs.upload": SimpleUploadedFile("data.csv", b"a,b\n1,2\n"),
            "labels": "team:data, env:prod",
        },
    )
    assert response.status_code == 302
    (execution,) = _executions(acme)
    assert response["Location"] == f"/ui/acme/executions/{execution.id}"
    assert execution.state == "RUNNING"  # its first decision was taken with the create
    inputs = execution.inputs
    assert inputs["who"] == "Ada"
    assert inputs["count"] == 3
    assert inputs["flag"] is True
    assert inputs["color"] == "green"
    assert inputs["tags"] == ["a", "c"]
    assert inputs["when"] == "2024-12-31T09:30:00Z"
    assert inputs["at"] == "09:30:15"
    assert inputs["doc"] == {"k": 1}
    assert inputs["upload"].startswith("kestra:///company/team/typed/executions/")
    assert inputs["ratio"] is None
    assert {"key": "team", "value": "data"} in execution.labels
    assert {"key": "env", "value": "prod"} in execution.labels
    page = alice_web.get(response["Location"]).content.decode()
    assert f"Execution {execution.id} created." in page
    assert "s3cret" not in page  # SECRET inputs are masked
    assert "********" in page


def test_a_flow_without_inputs_runs_with_one_click(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml("plain"))
    page = alice_web.get("/ui/acme/flows/company.team/plain/execute").content.decode()
    assert "This flow has no inputs." in page
    assert "multipart" not in page
    response = alice_web.post("/ui/acme/flows/company.team/plain/execute", {})
    assert response.status_code == 302
    assert len(_executions(acme)) == 1


def test_a_disabled_flow_says_why_it_cannot_run(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml("paused-flow", extra="disabled: true\n"))
    page = alice_web.get("/ui/acme/flows/company.team/paused-flow/execute").content.decode()
    assert "This flow is disabled, so it cannot run." in page
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled', page)
    response = alice_web.post("/ui/acme/flows/company.team/paused-flow/execute", {})
    assert response.status_code == 409
    assert _executions(acme) == []


def test_the_flow_page_links_to_execute_and_to_its_executions(acme, typed_flow, alice_web):
    page = alice_web.get("/ui/acme/flows/company.team/typed").content.decode()
    assert 'href="/ui/acme/flows/company.team/typed/execute"' in page
    assert 'href="/ui/acme/flows/company.team/typed/executions"' in page


# ---------- list ----------


def _run(tenant, flow_id="hello", namespace="company.team", **changes) -> Execution:
    labels = changes.pop("labels", ())
    row = execution_create(
        tenant=tenant, namespace=namespace, flow_id=flow_id, provided={}, labels=labels
    )
    if changes:
        Execution.objects.for_tenant(tenant).filter(pk=row.id).update(**changes)
        row.refresh_from_db()
    return row


@pytest.fixture
def three_flows(acme, alice):
    flow_create(tenant=acme, user=alice, source=flow_yaml("hello"))
    flow_create(tenant=acme, user=alice, source=flow_yaml("report", "company.data"))
    flow_create(tenant=acme, user=alice, source=flow_yaml("other", "marketing"))


def test_the_sidebar_leads_to_the_executions(acme, alice_web):
    page = alice_web.get("/ui/acme/").content.decode()
    assert '<a href="/ui/acme/executions/"' in page


def test_it_lists_executions_newest_first_with_filters_in_the_url(acme, three_flows, alice_web):
    now = timezone.now()
    old = _run(acme, "hello", start_date=now - timedelta(days=3), state="FAILED")
    report = _run(acme, "report", "company.data", labels=[("team", "data")], state="SUCCESS")
    other = _run(acme, "other", "marketing", state="RUNNING")

    page = alice_web.get("/ui/acme/executions/").content.decode()
    positions = [page.index(row.id) for row in (other, report, old)]
    assert positions == sorted(positions)  # newest first
    assert 'class="badge state state-failed"' in page

    def listed(query: str) -> set[str]:
        response = alice_web.get(f"/ui/acme/executions/?{query}")
        assert response.status_code == 200
        body = response.content.decode()
        return {row.id for row in (old, report, other) if row.id in body}

    assert listed("namespace=company") == {old.id, report.id}
    assert listed("flow_id=report") == {report.id}
    assert listed("q=" + other.id[:10]) == {other.id}
    assert listed("q=epor") == {report.id}
    assert listed("state=FAILED&state=RUNNING") == {old.id, other.id}
    assert listed("labels=team:data") == {report.id}
    assert listed("range=24h") == {report.id, other.id}
    assert listed("range=7d") == {old.id, report.id, other.id}
    page = alice_web.get("/ui/acme/executions/?q=nothing-like-it").content.decode()
    assert "No execution matches these filters." in page
    assert alice_web.get("/ui/acme/executions/?labels=broken").status_code == 422
    assert alice_web.get("/ui/acme/executions/?state=ASLEEP").status_code == 422


def test_it_pages_without_counting(acme, three_flows, alice_web, django_assert_max_num_queries):
    for _ in range(27):
        _run(acme)
    with django_assert_max_num_queries(10) as captured:
        page = alice_web.get("/ui/acme/executions/").content.decode()
    assert not [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert page.count("/ui/acme/executions/") >= 25
    assert "Page 1" in page
    assert 'href="?page=2">Next</a>' in page
    second = alice_web.get("/ui/acme/executions/?page=2").content.decode()
    assert "Page 2" in second
    assert "Next</a>" not in second
    assert 'href="?page=1">Previous</a>' in second
    ids_first = set(re.findall(r"/ui/acme/executions/(\w{22})", page))
    ids_second = set(re.findall(r"/ui/acme/executions/(\w{22})", second))
    assert len(ids_first) == 25
    assert len(ids_second) == 2
    assert not ids_first & ids_second
    capped = alice_web.get("/ui/acme/executions/?page=99999")
    assert capped.status_code == 200


def test_an_empty_list_says_how_to_run_a_flow(acme, alice_web):
    page = alice_web.get("/ui/acme/executions/").content.decode()
    assert "No execution yet." in page
    assert "click <strong>Execute</strong>" in page


def test_the_flow_tab_lists_only_that_flow(acme, three_flows, alice_web):
    mine = _run(acme, "hello")
    theirs = _run(acme, "report", "company.data")
    page = alice_web.get("/ui/acme/flows/company.team/hello/executions").content.decode()
    assert mine.id in page
    assert theirs.id not in page
    assert 'aria-current="page">Executions</a>' in page
    empty = alice_web.get("/ui/acme/flows/marketing/other/executions").content.decode()
    assert "Execute other" in empty


# ---------- the execution page ----------


def _history(start, *states_and_seconds):
    return [[state, (start + timedelta(seconds=s)).isoformat()] for state, s in states_and_seconds]


@pytest.fixture
def finished(acme, alice):
    """A SUCCESS execution built as rows: a ForEach-like parent with two iterations, logs."""
    flow_create(
        tenant=acme,
        user=alice,
        source=flow_yaml(extra="inputs:\n  - id: who\n    type: STRING\n    defaults: world\n"),
    )
    row = execution_create(
        tenant=acme, namespace="company.team", flow_id="hello", provided={"who": "Ada"}
    )
    start = row.start_date
    runs = TaskRun.objects.for_tenant(acme)
    # the rows of the first decision (taken with the create) make way for the ones built here
    runs.filter(execution=row).delete()
    LogEntry.objects.for_tenant(acme).filter(execution=row).delete()
    runs.create(
        tenant=acme,
        id="parent" + "0" * 16,
        execution=row,
        position=0,
        task_id="each",
        state="SUCCESS",
        histories=_history(start, ("CREATED", 0), ("RUNNING", 1), ("SUCCESS", 10)),
        attempts=[],
    )
    for position, value in ((1, "x"), (2, "y")):
        runs.create(
            tenant=acme,
            id=f"child{value}" + "0" * 16,
            execution=row,
            position=position,
            task_id="shout",
            parent_task_run_id="parent" + "0" * 16,
            value=value,
            state="SUCCESS",
            histories=_history(
                start, ("CREATED", position), ("RUNNING", position), ("SUCCESS", position + 4)
            ),
            attempts=[_history(start, ("RUNNING", position), ("SUCCESS", position + 4))],
            outputs={"value": f"LOUD-{value}"},
        )
    logs = LogEntry.objects.for_tenant(acme)
    for offset, (level, message) in enumerate(
        [("DEBUG", "debugging details"), ("INFO", "Hello Ada"), ("WARN", "careful <b>now</b>")]
    ):
        logs.create(
            tenant=acme,
            execution=row,
            task_id="shout",
            level=level,
            message=message,
            timestamp=start + timedelta(seconds=offset + 2),
        )
    Execution.objects.for_tenant(acme).filter(pk=row.id).update(
        state="SUCCESS",
        end_date=start + timedelta(seconds=20),
        outputs={"final": "LOUD-x"},
        histories=_history(start, ("CREATED", 0), ("RUNNING", 1), ("SUCCESS", 20)),
    )
    row.refresh_from_db()
    return row


def test_the_execution_page_shows_header_inputs_gantt_tree_outputs_and_logs(finished, alice_web):
    response = alice_web.get(f"/ui/acme/executions/{finished.id}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="badge state state-success">SUCCESS' in page
    assert 'href="/ui/acme/flows/company.team/hello"' in page
    assert "20.0s" in page  # duration
    assert f"system.correlationId:{finished.id}" in page
    assert re.search(r'<th scope="row" class="mono">who</th>\s*<td>.*Ada', page)
    # Gantt (20 s): the parent runs 0-10 s, the iterations 1-5 s and 2-6 s, indented.
    assert "margin-left: 0.00%; width: 50.00%" in page
    assert "margin-left: 5.00%; width: 20.00%" in page
    assert "margin-left: 10.00%; width: 20.00%" in page
    assert 'padding-left: 16px" title="shout (x)"' in page
    # Tree: the iterations nest under their parent, with values, attempts and outputs.
    tree = page[page.index('id="task-runs"') : page.index('id="outputs"')]
    assert tree.count('<ul class="task-tree">') == 3  # the root list, one per iteration
    assert tree.count('class="task-iteration"') == 2
    assert "1 attempt ·" in tree
    assert "0 attempts ·" in tree
    assert '<span class="badge badge-muted" title="Loop value">y</span>' in tree
    assert "&quot;value&quot;: &quot;LOUD-y&quot;" in tree
    assert "<details" in tree
    assert "&quot;final&quot;: &quot;LOUD-x&quot;" in page
    # Logs: INFO and above by default, oldest first, escaped.
    logs = page[page.index('id="execution-logs"') :]
    assert "debugging details" not in logs
    assert logs.index("Hello Ada") < logs.index("careful &lt;b&gt;now&lt;/b&gt;")
    # Ended: nothing polls.
    assert "hx-trigger" not in page


def test_the_log_filter_lives_in_the_url(finished, alice_web):
    url = f"/ui/acme/executions/{finished.id}"
    page = alice_web.get(f"{url}?level=DEBUG").content.decode()
    assert "debugging details" in page
    page = alice_web.get(f"{url}?level=WARN").content.decode()
    assert "Hello Ada" not in page
    assert "careful" in page
    page = alice_web.get(f"{url}?level=TRACE&q=hello").content.decode()
    logs = page[page.index('id="execution-logs"') :]
    assert "Hello Ada" in logs
    assert "careful" not in logs
    page = alice_web.get(f"{url}?q=absent-text").content.decode()
    assert "No log line at INFO or above contains" in page


def test_a_running_execution_fetches_its_fragment_on_each_event(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    row = execution_create(tenant=acme, namespace="company.team", flow_id="hello", provided={})
    page = alice_web.get(f"/ui/acme/executions/{row.id}?level=WARN&q=x").content.decode()
    live = f"/ui/acme/executions/{row.id}/live?level=WARN&amp;q=x"
    events = f"/ui/acme/executions/{row.id}/events"
    assert f'hx-ext="sse" sse-connect="{events}" sse-close="end"' in page
    assert f'hx-get="{live}" hx-trigger="sse:change, every 10s" hx-swap="none"' in page
    assert "CREATED" in page  # its first task run, sent, not started yet
    fragment = alice_web.get(f"/ui/acme/executions/{row.id}/live?level=WARN&q=x")
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert "<html" not in body
    assert "<nav" not in body
    assert body.lstrip().startswith('<div id="execution-poller"')
    assert 'hx-trigger="sse:change, every 10s"' in body
    poller = body.lstrip().split("</div>", 1)[0]
    assert "hx-swap-oob" not in poller  # kept in place, and with it the page's stream
    for region in ("execution-summary", "execution-timeline", "execution-logs"):
        assert re.search(rf'id="{region}"[^>]*hx-swap-oob="true"', body)
    assert "CREATED" in body
    # Once it has ended, the fragment replaces the element that holds the stream with one
    # without any trigger: the stream closes, nothing is fetched any more.
    Execution.objects.for_tenant(acme).filter(pk=row.id).update(
        state="SUCCESS", end_date=timezone.now()
    )
    body = alice_web.get(f"/ui/acme/executions/{row.id}/live").content.decode()
    assert "hx-trigger" not in body
    assert "sse-connect" not in body
    assert 'data-state="SUCCESS" hx-swap-oob="true"></div>' in body


# ---------- tenants ----------


def test_another_tenants_pages_are_404(acme, globex, mallory, finished, client):
    client.force_login(mallory)
    for url in [
        f"/ui/globex/executions/{finished.id}",
        f"/ui/globex/executions/{finished.id}/live",
        f"/ui/globex/executions/{finished.id}/events",
        "/ui/globex/flows/company.team/hello/execute",
        "/ui/globex/flows/company.team/hello/executions",
        f"/ui/acme/executions/{finished.id}",
        "/ui/acme/executions/",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post("/ui/globex/flows/company.team/hello/execute", {}).status_code == 404
    page = client.get("/ui/globex/executions/").content.decode()
    assert finished.id not in page
    assert "No execution yet." in page
    assert Execution.objects.for_tenant(globex).count() == 0


def test_a_missing_execution_is_404(acme, alice_web):
    assert alice_web.get("/ui/acme/executions/nope").status_code == 404
    assert alice_web.get("/ui/acme/executions/nope/live").status_code == 404
    assert alice_web.get("/ui/acme/executions/nope/events").status_code == 404
    assert alice_web.get("/ui/acme/flows/company.team/nope/execute").status_code == 404


def test_pages_need_a_login(acme, client):
    response = client.get("/ui/acme/executions/")
    assert response.status_code == 302
    assert "/login" in response["Location"]
