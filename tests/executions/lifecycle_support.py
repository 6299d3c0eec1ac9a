"""Flows and helpers shared by the kill / pause / resume tests."""

from __future__ import annotations

from executions import services
from executions.models import Execution, TaskRun
from flows.services import flow_create

APPROVAL = """id: approval
namespace: company.team
tasks:
  - id: ask
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: answer
        type: STRING
      - id: amount
        type: INT
        max: 10
      - id: proof
        type: FILE
        required: false
      - id: note
        type: STRING
        defaults: none
  - id: last
    type: io.kestra.plugin.core.output.OutputValues
    values:
      answer: "{{ outputs.ask.onResume.answer }}"
      amount: "{{ outputs.ask.onResume.amount }}"
      proof: "{{ outputs.ask.onResume.proof }}"
      note: "{{ outputs.ask.onResume.note }}"
"""

PAUSE_THEN_LOG = """id: waiting
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT1H
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
"""

TWO_STEPS = """id: steps
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: two
"""


def start(tenant, user, source: str) -> Execution:
    flow = flow_create(tenant=tenant, user=user, source=source)
    return services.execution_create(
        tenant=tenant, namespace=flow.namespace.name, flow_id=flow.flow_id, provided={}
    )


def drive(tenant, sent, limit: int = 50) -> None:
    """Play executor and worker for every recorded message (the `sent` fixture)."""
    for _ in range(limit):
        if not sent:
            return
        kind, args, _ = sent.pop(0)
        if kind == "advance":
            services.execution_advance(tenant=tenant, execution_id=args[1])
        else:
            services.task_run_execute(tenant=tenant, execution_id=args[1], task_run_id=args[2])


def row(tenant, execution_id: str) -> Execution:
    return Execution.objects.for_tenant(tenant).get(pk=execution_id)


def runs(tenant, execution_id: str) -> dict[str, str]:
    rows = TaskRun.objects.for_tenant(tenant).filter(execution_id=execution_id)
    return {run.task_id: run.state for run in rows.order_by("position")}


def paused(tenant, user, sent) -> Execution:
    """An execution of APPROVAL, PAUSED at its `ask` task."""
    execution = start(tenant, user, APPROVAL)
    drive(tenant, sent)
    assert row(tenant, execution.id).state == "PAUSED"
    return execution
