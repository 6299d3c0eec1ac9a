"""An execution of a 1-task flow costs a small, fixed number of SQL statements from the API
call to SUCCESS: each step is counted, with the Celery sends recorded instead of brokered,
so a change that adds a query per step shows up here rather than as a slower benchmark."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions import services
from executions.models import Execution, LogEntry, TaskRun
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)

ONE_TASK = """id: hello
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello {{ execution.id }}
"""

TWO_TASKS = (
    ONE_TASK
    + """  - id: again
    type: io.kestra.plugin.core.log.Log
    message: again
"""
)


def _counted(step):
    with CaptureQueriesContext(connection) as queries:
        step()
    return [q["sql"] for q in queries.captured_queries]


def _run(acme, sent):
    """Drive the execution by hand, as the broker would: statements per step."""
    counts: dict[str, int] = {}
    created = {}

    def create():
        created["row"] = services.execution_create(
            tenant=acme, namespace="company.team", flow_id="hello", provided={}
        )

    counts["create"] = len(_counted(create))
    execution_id = created["row"].id
    assert [name for name, _, _ in sent] == ["run"]  # no executor message: decided already
    runs = [args for _, args, _ in sent]
    sent.clear()
    counts["run"] = len(
        _counted(
            lambda: services.task_run_execute(
                tenant=acme, execution_id=execution_id, task_run_id=runs[0][2]
            )
        )
    )
    return execution_id, counts


def test_a_one_task_execution_takes_a_bounded_number_of_statements(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=ONE_TASK)
    services.flow_spec.__globals__["_SPECS"].clear()  # a cold process reads the revision once
    execution_id, counts = _run(acme, sent)

    assert Execution.objects.for_tenant(acme).get(pk=execution_id).state == "SUCCESS"
    messages = LogEntry.objects.for_tenant(acme).filter(execution_id=execution_id)
    assert f"hello {execution_id}" in {entry.message for entry in messages}
    assert sent == []  # the worker decided the end itself: no executor message left
    # statements, BEGIN and COMMIT included. create, which takes the first decision: the
    # flow, INSERT execution, INSERT task run, INSERT log, INSERT transition (RUNNING, for
    # Flow triggers). run: the claim (lock, UPDATE execution's version, UPDATE task run),
    # then the report that decides the end (lock, UPDATE task run, UPDATE execution, INSERT
    # logs, INSERT transition (SUCCESS)). The task runs are not read again: this
    # process knows them at the execution's version (a worker that does not reads them once,
    # one statement more, then only those written since).
    assert counts == {"create": 7, "run": 12}


def test_a_second_task_costs_one_transaction_and_no_message(acme, alice, sent):
    from flows.services import flow_update

    flow_create(tenant=acme, user=alice, source=ONE_TASK)
    _, one = _run(acme, sent)
    flow_update(
        tenant=acme, user=alice, namespace="company.team", flow_id="hello", source=TWO_TASKS
    )
    sent.clear()
    _, two = _run(acme, sent)
    # the worker reports the first task and claims the second in one transaction (BEGIN,
    # lock, UPDATE first, INSERT second, UPDATE execution, INSERT logs, COMMIT), runs it,
    # reports it
    assert two["run"] - one["run"] == 7, (one, two)
    assert sent == []


def test_the_worker_runs_a_sequential_flow_without_a_message_per_task(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=TWO_TASKS)
    execution_id, _ = _run(acme, sent)
    runs = TaskRun.objects.for_tenant(acme).filter(execution_id=execution_id)
    assert [(r.task_id, r.state, r.lease_owner) for r in runs.order_by("position")] == [
        ("say", "SUCCESS", ""),
        ("again", "SUCCESS", ""),
    ]
    assert Execution.objects.for_tenant(acme).get(pk=execution_id).state == "SUCCESS"
    assert sent == []
