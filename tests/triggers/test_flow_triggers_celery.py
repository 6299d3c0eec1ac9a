"""Flow triggers on the real path: executions run by Celery worker processes, whose commits
nudge the evaluator (a Celery task on the same workers); two worker processes at once
evaluate every transition exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from executions import services
from executions.models import Execution, ExecutionTransition
from flows.services import flow_create
from tests.conftest import flow_yaml
from tests.executions.conftest import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)

FLOWS = Path(__file__).resolve().parents[3] / "shared" / "kestra-conformance" / "flows"
TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"}


def _settled(tenant, count: int, flow_id: str, timeout: float = 60) -> list[Execution]:
    """Wait until `count` executions of `flow_id` exist, every execution has ended and no
    transition is left; return them in start order."""
    deadline = time.monotonic() + timeout
    while True:
        rows = Execution.objects.for_tenant(tenant)
        found = list(rows.filter(flow_id=flow_id).order_by("start_date", "id"))
        if (
            len(found) >= count
            and not rows.exclude(state__in=TERMINAL).exists()
            and not ExecutionTransition.all_tenants.exists()
        ):
            return found
        assert time.monotonic() < deadline, (len(found), [e.state for e in rows])
        time.sleep(0.05)


@pytest.mark.skipif(not FLOWS.is_dir(), reason="the conformance corpus is absent")
def test_a_listener_sees_every_state_of_an_upstream_that_pauses(celery_worker_process, acme, alice):
    """FlowTriggerCaseTest.triggerWithPause: states RUNNING, PAUSED, RUNNING, SUCCESS."""
    for name in ("trigger-flow-with-pause.yaml", "trigger-flow-listener-with-pause.yaml"):
        flow_create(tenant=acme, user=alice, source=(FLOWS / name).read_text())
    upstream = services.execution_create(
        tenant=acme,
        namespace="io.kestra.tests.trigger.pause",
        flow_id="trigger-flow-with-pause",
        provided={},
    )

    listeners = _settled(acme, 4, "trigger-flow-listener-with-pause")

    assert Execution.objects.for_tenant(acme).get(pk=upstream.id).state == "SUCCESS"
    assert len(listeners) == 4
    assert [e.outputs["status"] for e in listeners] == ["RUNNING", "PAUSED", "RUNNING", "SUCCESS"]
    assert {e.state for e in listeners} == {"SUCCESS"}
    assert {e.trigger["variables"]["executionId"] for e in listeners} == {upstream.id}


LISTENER = """id: listener_{n}
namespace: company.listeners
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.executionId }}}}"
triggers:
  - id: on_upstream
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: upstream_{n}
"""


@pytest.fixture
def second_worker(celery_worker_process, tmp_path):
    with celery_worker(tmp_path / "worker-2.log", "triggers-second") as log_path:
        yield log_path


def test_two_worker_processes_start_each_downstream_exactly_once(
    celery_worker_process, second_worker, acme, alice
):
    flows = 5
    for n in range(flows):
        flow_create(tenant=acme, user=alice, source=flow_yaml(f"upstream_{n}"))
        flow_create(tenant=acme, user=alice, source=LISTENER.format(n=n))
    upstream_ids = []
    for _ in range(4):
        for n in range(flows):
            row = services.execution_create(
                tenant=acme, namespace="company.team", flow_id=f"upstream_{n}", provided={}
            )
            upstream_ids.append(row.id)

    deadline = time.monotonic() + 60
    while True:
        listeners = Execution.objects.for_tenant(acme).filter(namespace="company.listeners")
        if (
            listeners.count() >= len(upstream_ids)
            and not Execution.objects.for_tenant(acme).exclude(state__in=TERMINAL).exists()
            and not ExecutionTransition.all_tenants.exists()
        ):
            break
        assert time.monotonic() < deadline, listeners.count()
        time.sleep(0.05)
    time.sleep(0.5)  # a duplicate would show up now

    started_by = sorted(e.trigger["variables"]["executionId"] for e in listeners.all())
    assert started_by == sorted(upstream_ids)  # each upstream once, none twice
    for execution in listeners.all():
        n = execution.flow_id.removeprefix("listener_")
        upstream = Execution.objects.for_tenant(acme).get(
            pk=execution.trigger["variables"]["executionId"]
        )
        assert upstream.flow_id == f"upstream_{n}"
