"""Shared by the tests of restart, replay, change of state, labels and bulk actions: flows,
and the `Driver` behind the `drive` fixture (tests/executions/conftest.py), which plays the
executor and the workers by hand: the Celery sends recorded by the `sent` fixture run in
order here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from executions import services
from executions.models import Execution, LogEntry, TaskRun

# `flaky` fails on its first attempt only (`ko` is undefined), as Kestra's restart_last_failed.
FLAKY = """id: flaky
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first
  - id: flaky
    type: io.kestra.plugin.core.log.Log
    message: "{{ taskrun.attemptsCount == 1 ? 'ok' : ko }}"
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: last
"""

HELLO = """id: hello
namespace: company.team
tasks:
  - id: one
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: two
    type: io.kestra.plugin.core.debug.Return
    format: two
"""


class Driver:
    """`drive(step)`: run `step` (a service or API call) with its commit callbacks, then
    every message it sent, and those they send, until none is left."""

    def __init__(self, sent: list, capture: Any) -> None:
        self.sent = sent
        self.capture = capture

    def __call__(self, tenant: Any, step: Callable[[], Any]) -> Any:
        with self.capture(execute=True):
            result = step()
        self.settle(tenant)
        return result

    def settle(self, tenant: Any) -> None:
        for _ in range(200):
            if not self.sent:
                return
            name, args, kwargs = self.sent.pop(0)
            with self.capture(execute=True):
                if name == "advance":
                    services.execution_advance(tenant=tenant, execution_id=args[1])
                else:
                    services.task_run_execute(
                        tenant=tenant, execution_id=args[1], task_run_id=args[2], **kwargs
                    )
        raise AssertionError("the execution did not settle")


def run(drive: Driver, tenant: Any, flow_id: str, labels: tuple = ()) -> Execution:
    """A new execution of `company.team.<flow_id>`, driven to its end."""
    row = drive(
        tenant,
        lambda: services.execution_create(
            tenant=tenant, namespace="company.team", flow_id=flow_id, provided={}, labels=labels
        ),
    )
    return Execution.objects.for_tenant(tenant).get(pk=row.id)


def task_runs(tenant: Any, execution_id: str) -> list[TaskRun]:
    return list(
        TaskRun.objects.for_tenant(tenant).filter(execution_id=execution_id).order_by("position")
    )


def states(tenant: Any, execution_id: str) -> list[tuple[str, str]]:
    return [(run.task_id, run.state) for run in task_runs(tenant, execution_id)]


def history(row: Any) -> list[str]:
    return [state for state, _ in row.histories]


def messages(tenant: Any, execution_id: str) -> list[str]:
    rows = LogEntry.objects.for_tenant(tenant).filter(execution_id=execution_id)
    return list(rows.values_list("message", flat=True))
