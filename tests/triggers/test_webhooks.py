"""The webhook endpoint without a worker: finding the webhook (key, tenant, disabled), limits
(413, 429), conditions (204), inputs and labels of the execution it starts. The runs
themselves (conformance, wait, returnOutputs) are in test_webhooks_celery.py."""

from __future__ import annotations

import hmac
import json
import textwrap

import pytest
from rest_framework.test import APIClient

from executions.models import Execution, LogEntry
from flows.services import flow_create, flow_update
from tenants.secrets.services import secret_set
from triggers import webhooks
from triggers.engine.webhook import WebhookCall, parse_body, trigger_variables
from triggers.models import Trigger

pytestmark = pytest.mark.django_db

URL = "/api/v1/{tenant}/executions/webhook/company.team/hook/{key}"
KEY = "s3cret-key_0123456789"


def hook_yaml(trigger: str = "", flow: str = "") -> str:
    """A flow `company.team.hook` with one webhook trigger `in` (key KEY) and `trigger`
    appended to it (YAML indented for the trigger's mapping)."""
    source = textwrap.dedent(
        f"""\
        id: hook
        namespace: company.team
        labels:
          team: data
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{{{ trigger.body }}}}"
        triggers:
          - id: in
            type: io.kestra.plugin.core.trigger.Webhook
            key: {KEY}
        """
    )
    return source + textwrap.indent(textwrap.dedent(trigger), "    ") + textwrap.dedent(flow)


@pytest.fixture
def client() -> APIClient:
    """No credentials at all: the key is the only secret."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    """Counters are keyed by tenant and flow ids, which a new test database hands out
    again: a day-long window of an earlier run must not count in this one."""
    from executions import notify

    url = notify.redis_url()
    if url:
        client = notify.redis_client(url)
        for name in client.scan_iter(match="aviary:rate:*"):
            client.delete(name)


@pytest.fixture
def hook(acme, alice):
    return flow_create(tenant=acme, user=alice, source=hook_yaml())


def executions(tenant) -> list[Execution]:
    return list(Execution.objects.for_tenant(tenant).order_by("start_date", "id"))


def post_json(client: APIClient, url: str, body, method: str = "post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


# --- finding the webhook --------------------------------------------------------------------


def test_it_starts_the_flow_with_the_right_key_and_no_credentials(client, acme, hook):
    response = post_json(client, URL.format(tenant="acme", key=KEY) + "?a=1&a=2", {"x": 1})
    assert response.status_code == 200, response.content
    [execution] = executions(acme)
    document = response.json()
    assert document["id"] == execution.id
    assert document["namespace"] == "company.team"
    assert document["flowId"] == "hook"
    assert document["trigger"]["id"] == "in"
    assert document["trigger"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    variables = document["trigger"]["variables"]
    assert variables["body"] == {"x": 1}
    assert variables["parameters"] == {"a": ["1", "2"]}
    assert variables["headers"]["content-type"] == ["application/json"]
    assert response["X-Aviary-Execution-Id"] == execution.id


def test_it_answers_404_to_a_wrong_key(client, acme, hook):
    for key in ["wrong", KEY + "x", KEY[:-1], "x" * 300]:
        response = post_json(client, URL.format(tenant="acme", key=key), {})
        assert response.status_code == 404
        assert response.json()["message"] == "Webhook not found"
    assert executions(acme) == []


def test_it_answers_404_to_an_unknown_flow_or_tenant(client, acme, hook):
    response = client.post("/api/v1/acme/executions/webhook/company.team/nope/" + KEY)
    assert response.status_code == 404
    assert response.json()["message"] == "Flow not found"
    response = client.post(URL.format(tenant="nobody", key=KEY))
    assert response.status_code == 404
    assert response.json()["message"] == "Flow not found"
    assert executions(acme) == []


def test_it_answers_404_to_a_flow_without_webhook(client, acme, alice):
    source = hook_yaml().split("triggers:")[0]
    flow_create(tenant=acme, user=alice, source=source)
    response = client.get(URL.format(tenant="acme", key=KEY))
    assert response.status_code == 404
    assert response.json()["message"] == "Webhook not found"


def test_it_hides_one_tenants_webhook_from_anothers_path(client, acme, globex, hook, mallory):
    # globex has the same flow with another key: acme's key opens nothing there
    flow_create(tenant=globex, user=mallory, source=hook_yaml().replace(KEY, "globex-key-1"))
    response = post_json(client, URL.format(tenant="globex", key=KEY), {})
    assert response.status_code == 404
    assert response.json()["message"] == "Webhook not found"
    # and without such a flow, globex's path says the flow is unknown
    response = post_json(client, f"/api/v1/globex/executions/webhook/company.team/h2/{KEY}", {})
    assert response.status_code == 404
    assert response.json()["message"] == "Flow not found"
    assert executions(acme) == []
    assert executions(globex) == []


def test_it_compares_the_key_in_constant_time(client, acme, hook, monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(left, right):
        compared.append((left, right))
        return real(left, right)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    assert client.post(URL.format(tenant="acme", key="guess")).status_code == 404
    assert compared == [(KEY.encode(), b"guess")]
    assert client.post(URL.format(tenant="acme", key=KEY)).status_code == 200
    assert compared[-1] == (KEY.encode(), KEY.encode())


def test_it_renders_and_trims_a_key_from_a_secret(client, acme, alice):
    secret_set(tenant=acme, namespace="company", key="HOOK_KEY", value="  from-secret-42 \n")
    source = hook_yaml().replace(f"key: {KEY}", "key: \"{{ secret('HOOK_KEY') }}\"")
    flow_create(tenant=acme, user=alice, source=source)
    assert client.post(URL.format(tenant="acme", key="from-secret-42")).status_code == 200
    literal = URL.format(tenant="acme", key="{{ secret('HOOK_KEY') }}")
    assert client.post(literal).status_code == 404
    assert len(executions(acme)) == 1


def test_it_ignores_a_key_that_cannot_be_rendered(client, acme, alice):
    source = hook_yaml().replace(f"key: {KEY}", "key: \"{{ secret('MISSING') }}\"")
    flow_create(tenant=acme, user=alice, source=source)
    response = client.post(URL.format(tenant="acme", key="anything"))
    assert response.status_code == 404
    assert response.json()["message"] == "Webhook not found"


@pytest.mark.parametrize(
    ("_case", "trigger", "flow"),
    [
        ("trigger disabled in the YAML", "disabled: true\n", ""),
        ("flow disabled", "", "disabled: true\n"),
    ],
)
def test_it_answers_404_when_disabled(_case, client, acme, alice, trigger, flow):
    flow_create(tenant=acme, user=alice, source=hook_yaml(trigger, flow))
    response = client.post(URL.format(tenant="acme", key=KEY))
    assert response.status_code == 404
    assert response.json()["message"] == "Webhook not found"
    assert executions(acme) == []


def test_it_answers_404_when_a_user_disabled_the_trigger(client, acme, hook):
    Trigger.objects.for_tenant(acme).filter(flow_row=hook).update(disabled=True)
    assert client.post(URL.format(tenant="acme", key=KEY)).status_code == 404
    Trigger.objects.for_tenant(acme).filter(flow_row=hook).update(disabled=False)
    assert client.post(URL.format(tenant="acme", key=KEY)).status_code == 200


def test_it_follows_the_current_revision(client, acme, alice, hook):
    source = hook_yaml().replace(KEY, "rotated-key-2")
    flow_update(tenant=acme, user=alice, namespace="company.team", flow_id="hook", source=source)
    assert client.post(URL.format(tenant="acme", key=KEY)).status_code == 404
    assert client.post(URL.format(tenant="acme", key="rotated-key-2")).status_code == 200


# --- limits -----------------------------------------------------------------------------------


def test_it_refuses_a_body_over_the_limit(client, acme, hook, settings):
    settings.AVIARY = {**settings.AVIARY, "WEBHOOK_MAX_BODY_BYTES": 10}
    url = URL.format(tenant="acme", key=KEY)
    response = client.post(url, data=b"12345678901", content_type="text/plain")
    assert response.status_code == 413
    assert response.json()["message"] == "The webhook body is larger than 10 bytes"
    assert executions(acme) == []
    response = client.post(url, data=b"1234567890", content_type="text/plain")
    assert response.status_code == 200
    assert response.json()["trigger"]["variables"]["body"] == "1234567890"


def test_it_limits_the_calls_per_flow(client, acme, alice, hook, settings):
    # a window of a day, so that the test never straddles two windows
    settings.AVIARY = {
        **settings.AVIARY,
        "WEBHOOK_RATE_LIMIT": 2,
        "WEBHOOK_RATE_WINDOW_SECONDS": 86400,
    }
    url = URL.format(tenant="acme", key=KEY)
    codes = [client.post(url).status_code for _ in range(2)]
    refused = client.post(url)
    assert codes == [200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 86400
    assert refused.json()["message"].startswith("Too many calls to the webhook of company.team")
    assert len(executions(acme)) == 2
    # another flow has its own allowance; a wrong key uses none of it
    other = hook_yaml().replace("id: hook", "id: other")
    flow_create(tenant=acme, user=alice, source=other)
    other_url = URL.replace("/hook/", "/other/").format(tenant="acme", key=KEY)
    assert client.post(other_url.replace(KEY, "wrong")).status_code == 404
    assert [client.post(other_url).status_code for _ in range(3)] == [200, 200, 429]


# --- what the execution gets ------------------------------------------------------------------


CONDITION = """\
conditions:
  - type: io.kestra.plugin.core.condition.Expression
    expression: "{{ trigger.body.kind == 'push' and trigger.parameters.branch[0] == 'main' }}"
"""


def test_it_answers_204_when_a_condition_fails(client, acme, alice):
    flow_create(tenant=acme, user=alice, source=hook_yaml(CONDITION))
    url = URL.format(tenant="acme", key=KEY)
    response = post_json(client, url + "?branch=dev", {"kind": "push"})
    assert response.status_code == 204
    assert response.content == b""
    assert post_json(client, url + "?branch=main", {"kind": "pull"}).status_code == 204
    assert executions(acme) == []
    assert post_json(client, url + "?branch=main", {"kind": "push"}).status_code == 200
    assert len(executions(acme)) == 1


def test_it_answers_204_when_a_condition_cannot_be_evaluated(client, acme, alice):
    condition = CONDITION.replace("trigger.body.kind", "trigger.body.missing.deeper")
    flow_create(tenant=acme, user=alice, source=hook_yaml(condition))
    response = post_json(client, URL.format(tenant="acme", key=KEY) + "?branch=main", {})
    assert response.status_code == 204
    assert executions(acme) == []


INPUTS_FLOW = """\
inputs:
  - id: count
    type: INT
  - id: who
    type: STRING
    defaults: nobody
"""
INPUTS_TRIGGER = """\
inputs:
  count: "{{ trigger.body.count }}"
  who: "{{ trigger.headers['x-user'][0] }}"
labels:
  source: "{{ trigger.parameters.source[0] }}"
  team: hooks
"""


def test_it_types_the_triggers_inputs_and_adds_its_labels(client, acme, alice):
    flow_create(tenant=acme, user=alice, source=hook_yaml(INPUTS_TRIGGER, INPUTS_FLOW))
    url = URL.format(tenant="acme", key=KEY) + "?source=github"
    response = client.post(
        url, data=json.dumps({"count": 7}), content_type="application/json", HTTP_X_USER="ann"
    )
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["inputs"] == {"count": 7, "who": "ann"}
    labels = {item["key"]: item["value"] for item in document["labels"]}
    # the flow's label `team` is overridden by the trigger's (correction 16)
    assert labels["team"] == "hooks"
    assert labels["source"] == "github"
    assert document["state"]["current"] != "FAILED"


@pytest.mark.parametrize(
    ("_case", "body", "problem"),
    [
        (
            "not a number",
            {"count": "many"},
            "Invalid input 'inputs.count': Invalid input for `count`",
        ),
        ("cannot be rendered", {}, "Invalid input 'inputs.count': cannot be rendered"),
    ],
)
def test_it_stores_a_failed_execution_for_invalid_inputs(_case, client, acme, alice, body, problem):
    flow_create(tenant=acme, user=alice, source=hook_yaml(INPUTS_TRIGGER, INPUTS_FLOW))
    url = URL.format(tenant="acme", key=KEY) + "?source=x"
    response = client.post(
        url, data=json.dumps(body), content_type="application/json", HTTP_X_USER="ann"
    )
    assert response.status_code == 200
    assert response.json()["state"]["current"] == "FAILED"
    [execution] = executions(acme)
    messages = [entry.message for entry in LogEntry.objects.for_tenant(acme)]
    assert any(message.startswith(problem) for message in messages), messages
    assert execution.state == "FAILED"


def test_it_skips_a_trigger_label_that_cannot_be_rendered(client, acme, alice):
    trigger = 'labels:\n  bad: "{{ trigger.nothing.here }}"\n  good: yes-{{ 1 + 1 }}\n'
    flow_create(tenant=acme, user=alice, source=hook_yaml(trigger))
    response = client.post(URL.format(tenant="acme", key=KEY))
    labels = {item["key"]: item["value"] for item in response.json()["labels"]}
    assert labels["good"] == "yes-2"
    assert "bad" not in labels
    assert labels["team"] == "data"


# --- the call as templates see it (pure) ------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [
        ("object", b'{"a": 1, "b": true}', {"a": 1, "b": True}),
        ("array", b'[1, "x"]', [1, "x"]),
        ("text", b"bla", "bla"),
        ("a JSON scalar stays text", b"12", "12"),
        ("a JSON string stays text", b'"x"', '"x"'),
        ("empty", b"", None),
        ("not UTF-8", b"\xff\xfe", "\ufffd\ufffd"),
        ("nested 100 deep", b"[" * 100 + b"]" * 100, json.loads("[" * 100 + "]" * 100)),
        ("nested deeper stays text", b"[" * 101 + b"]" * 101, "[" * 101 + "]" * 101),
        ("far too deep for Python", b"[" * 100_000 + b"]" * 100_000, "[" * 100_000 + "]" * 100_000),
    ],
)
def test_it_parses_the_body_as_kestra_does(_case, raw, expected):
    assert parse_body(raw) == expected


def test_it_makes_nul_characters_storable(client, acme, hook):
    call = WebhookCall("POST", b'{"a\\u0000": ["\\u0000"]}', {"x": ["\x00"]}, {"p\x00": ["\x00"]})
    assert trigger_variables(call) == {
        "body": {"a\ufffd": ["\ufffd"]},
        "headers": {"x": ["\ufffd"]},
        "parameters": {"p\ufffd": ["\ufffd"]},
    }
    url = URL.format(tenant="acme", key=KEY) + "?p=%00"
    response = client.post(url, data=b"RIFF\x00\x01", content_type="application/octet-stream")
    assert response.status_code == 200
    variables = response.json()["trigger"]["variables"]
    assert variables["body"] == "RIFF\ufffd\x01"
    assert variables["parameters"] == {"p": ["\ufffd"]}


def test_it_gives_the_call_to_templates():
    call = WebhookCall("PUT", b"[]", {"x-a": ["1"]}, {"p": ["1", "2"]})
    assert trigger_variables(call) == {
        "body": [],
        "headers": {"x-a": ["1"]},
        "parameters": {"p": ["1", "2"]},
    }
