"""Webhook calls whose executions run on a real Celery worker: Kestra's conformance flow
webhook.yaml with each outcome EXPECTED.md lists, and `wait` / `returnOutputs`."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from executions.models import Execution, TaskRun
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)

FLOWS = Path(__file__).resolve().parents[3] / "shared" / "kestra-conformance" / "flows"
TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"}
CONFORMANCE_URL = "/api/v1/acme/executions/webhook/io.kestra.tests/webhook/a-secret-key"


def _ended(tenant, execution_id: str, timeout: float = 60) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        row = Execution.objects.for_tenant(tenant).get(pk=execution_id)
        if row.state in TERMINAL:
            return row
        assert time.monotonic() < deadline, f"{execution_id} still {row.state}"
        time.sleep(0.05)


def _returned_trigger(tenant, execution_id: str) -> dict:
    """What the flow's Return task printed: `{{ trigger | json }}`."""
    row = _ended(tenant, execution_id)
    assert row.state == "SUCCESS"
    run = TaskRun.objects.for_tenant(tenant).get(execution=row, task_id="out")
    return json.loads(run.outputs["value"])


@pytest.fixture
def conformance_flow(acme, alice):
    if not FLOWS.is_dir():
        pytest.skip("the Kestra conformance corpus is not beside the checkout")
    return flow_create(tenant=acme, user=alice, source=(FLOWS / "webhook.yaml").read_text())


def test_it_runs_webhook_yaml_for_a_post_with_json_and_repeated_parameters(
    celery_worker_process, acme, conformance_flow
):
    response = APIClient().post(
        CONFORMANCE_URL + "?name=john&age=12&age=13",
        data=json.dumps({"a": 1, "b": True}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    document = response.json()
    assert [label["key"] for label in document["labels"]][:2] == ["flow-label-1", "flow-label-2"]
    assert document["labels"][0]["value"] == "flow-label-1"
    assert document["labels"][1]["value"] == "flow-label-2"
    trigger = _returned_trigger(acme, document["id"])
    assert trigger["body"]["a"] == 1
    assert trigger["body"]["b"] is True
    assert trigger["parameters"]["name"] == ["john"]
    assert {"12", "13"} <= set(trigger["parameters"]["age"])


def test_it_runs_webhook_yaml_for_a_put_with_a_json_array(
    celery_worker_process, acme, conformance_flow
):
    response = APIClient().put(
        CONFORMANCE_URL, data=json.dumps([{"a": 1}, 2]), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert _returned_trigger(acme, response.json()["id"])["body"] == [{"a": 1}, 2]


def test_it_runs_webhook_yaml_for_a_text_body(celery_worker_process, acme, conformance_flow):
    response = APIClient().post(CONFORMANCE_URL, data=b"bla", content_type="text/plain")
    assert response.status_code == 200, response.content
    assert _returned_trigger(acme, response.json()["id"])["body"] == "bla"


def test_it_runs_webhook_yaml_for_a_get_without_body(celery_worker_process, acme, conformance_flow):
    response = APIClient().get(CONFORMANCE_URL)
    assert response.status_code == 200, response.content
    trigger = _returned_trigger(acme, response.json()["id"])
    assert trigger["body"] is None
    assert trigger["parameters"] == {}


def test_it_answers_404_for_an_unknown_flow_of_webhook_yaml(acme, conformance_flow):
    response = APIClient().post(CONFORMANCE_URL.replace("/webhook/a-", "/webhookk/a-"))
    assert response.status_code == 404
    assert response.json()["message"] == "Flow not found"
    assert not Execution.objects.for_tenant(acme).exists()


def outputs_flow(options: str) -> str:
    return textwrap.dedent(
        """\
        id: answer
        namespace: company.team
        tasks:
          - id: double
            type: io.kestra.plugin.core.debug.Return
            format: "{{ trigger.body.n * 2 }}"
        outputs:
          - id: doubled
            type: STRING
            value: "{{ outputs.double.value }}"
        triggers:
          - id: hook
            type: io.kestra.plugin.core.trigger.Webhook
            key: answer-key
        """
    ) + textwrap.indent(options, "    ")


ANSWER_URL = "/api/v1/acme/executions/webhook/company.team/answer/answer-key"


def _call_answer() -> dict:
    response = APIClient().post(
        ANSWER_URL, data=json.dumps({"n": 21}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return {"body": response.json(), "headers": response}


def test_it_answers_at_once_without_wait(celery_worker_process, acme, alice):
    flow_create(tenant=acme, user=alice, source=outputs_flow(""))
    response = _call_answer()
    assert response["body"]["state"]["current"] not in TERMINAL
    assert _ended(acme, response["body"]["id"]).state == "SUCCESS"


def test_it_answers_with_the_ended_execution_when_it_waits(celery_worker_process, acme, alice):
    flow_create(tenant=acme, user=alice, source=outputs_flow("wait: true\n"))
    answer = _call_answer()["body"]
    assert answer["state"]["current"] == "SUCCESS"
    assert answer["outputs"] == {"doubled": "42"}
    assert [run["taskId"] for run in answer["taskRunList"]] == ["double"]


def test_it_answers_with_the_outputs_when_asked(celery_worker_process, acme, alice):
    flow_create(tenant=acme, user=alice, source=outputs_flow("wait: true\nreturnOutputs: true\n"))
    answer = _call_answer()
    assert answer["body"] == {"doubled": "42"}
    assert answer["headers"]["X-Aviary-Execution-State"] == "SUCCESS"
    execution_id = answer["headers"]["X-Aviary-Execution-Id"]
    assert Execution.objects.for_tenant(acme).get(pk=execution_id).state == "SUCCESS"


def test_it_stops_waiting_after_the_wait_limit(celery_worker_process, acme, alice, settings):
    settings.AVIARY = {**settings.AVIARY, "WEBHOOK_WAIT_SECONDS": 1}
    source = outputs_flow("wait: true\n").replace(
        "tasks:\n",
        "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT5S\n",
    )
    flow_create(tenant=acme, user=alice, source=source)
    started = time.monotonic()
    answer = _call_answer()["body"]
    assert time.monotonic() - started < 4
    assert answer["state"]["current"] not in TERMINAL
    assert _ended(acme, answer["id"]).state == "SUCCESS"
