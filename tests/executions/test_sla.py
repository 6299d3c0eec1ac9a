"""Flow SLAs on the platform: MAX_DURATION monitors stored with every new execution (API,
replay, retry as a new execution, subflow child; not a restart), applied by the scheduler's
job, deleted when the execution ends; assertions violated once per execution; nothing at
all for a flow without `sla`. The broker's messages are recorded and delivered by hand;
tests/executions/test_sla_celery.py runs the real worker and the scheduler loop."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from executions import lifecycle, restart, services, sla, snapshots
from executions.engine.model import new_execution
from executions.models import Execution, ExecutionTransition, LogEntry, SlaMonitor, TaskRun
from flows.services import flow_create
from tests.executions.test_subflows import Broker

pytestmark = pytest.mark.django_db(transaction=True)


def _flow(sla_yaml: str, tasks: str, flow_id: str = "watched") -> str:
    return f"id: {flow_id}\nnamespace: company.team\nsla:\n{sla_yaml}tasks:\n{tasks}"


def _max_duration(behavior: str = "FAIL", duration: str = "PT1H", labels: str = "") -> str:
    return (
        f"  - id: slow\n    type: MAX_DURATION\n    behavior: {behavior}\n"
        f"    duration: {duration}\n{labels}"
    )


LOG = "  - id: {id}\n    type: io.kestra.plugin.core.log.Log\n    message: {id}\n"
SLEEP = "  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1M\n"
PAUSE = "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n"


@pytest.fixture
def broker(sent, monkeypatch) -> Broker:
    return Broker(sent, monkeypatch)


def _create(tenant, flow_id: str = "watched", **provided) -> Execution:
    return services.execution_create(
        tenant=tenant, namespace="company.team", flow_id=flow_id, provided=provided
    )


def _row(tenant, execution_id: str) -> Execution:
    return Execution.objects.for_tenant(tenant).get(pk=execution_id)


def _monitors(tenant, execution_id: str) -> list[tuple[str, int, bool]]:
    rows = SlaMonitor.objects.for_tenant(tenant).filter(execution_id=execution_id)
    return [(r.sla_id, r.position, r.deadline is not None) for r in rows.order_by("position")]


def _runs(tenant, execution_id: str) -> dict[str, str]:
    rows = TaskRun.objects.for_tenant(tenant).filter(execution_id=execution_id)
    return {r.task_id: r.state for r in rows}


def _sla_logs(tenant, execution_id: str) -> list[tuple[str, str]]:
    rows = LogEntry.objects.for_tenant(tenant).filter(execution_id=execution_id)
    return [(r.level, r.message) for r in rows.order_by("timestamp", "id") if "SLA" in r.message]


def _due(tenant, execution_id: str) -> None:
    """The execution's deadlines have passed."""
    SlaMonitor.objects.for_tenant(tenant).filter(execution_id=execution_id).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )


# --- monitors: stored, deleted ------------------------------------------------------------


def test_a_new_execution_gets_its_deadline_and_loses_it_when_it_ends(acme, alice, broker):
    flow_create(
        tenant=acme,
        user=alice,
        source=_flow(_max_duration() + _max_duration(duration="PT2H"), LOG.format(id="one")),
    )
    row = _create(acme)
    monitors = SlaMonitor.objects.for_tenant(acme).filter(execution_id=row.id).order_by("position")
    assert [(m.sla_id, m.position) for m in monitors] == [("slow", 0), ("slow", 1)]
    start = row.start_date
    assert [m.deadline - start for m in monitors] == [timedelta(hours=1), timedelta(hours=2)]
    broker.drain(acme)
    assert _row(acme, row.id).state == "SUCCESS"
    assert _monitors(acme, row.id) == []


def test_an_execution_scheduled_later_is_watched_from_its_scheduled_date(acme, alice):
    flow_create(tenant=acme, user=alice, source=_flow(_max_duration(), LOG.format(id="one")))
    later = timezone.now() + timedelta(days=1)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="watched", provided={}, schedule_date=later
    )
    monitor = SlaMonitor.objects.for_tenant(acme).get(execution_id=row.id)
    assert monitor.deadline == later + timedelta(hours=1)


def test_replays_and_retries_are_watched_but_not_restarts(acme, alice, broker):
    tasks = (
        "  - id: boom\n    type: io.kestra.plugin.core.execution.Fail\n"
        "    retry:\n      type: constant\n      interval: PT0S\n      maxAttempt: 2\n"
        "      behavior: CREATE_NEW_EXECUTION\n"
    )
    flow_create(tenant=acme, user=alice, source=_flow(_max_duration(), tasks))
    first = _create(acme)
    broker.drain(acme)
    executions = list(Execution.objects.for_tenant(acme).order_by("attempt_number"))
    assert [(e.state, e.attempt_number) for e in executions] == [("RETRIED", 1), ("FAILED", 2)]
    retry = executions[1]
    # each execution had its monitor while it ran; none is left once they ended
    assert _monitors(acme, first.id) == []
    assert _monitors(acme, retry.id) == []
    # a replay from the start is a new CREATED execution: watched
    replay = restart.execution_replay(tenant=acme, execution_id=retry.id)
    assert _monitors(acme, replay.id) == [("slow", 0, True)]
    # a restart goes on from the history (Kestra watches executions that start CREATED)
    restart.execution_restart(tenant=acme, execution_id=retry.id)
    assert _monitors(acme, retry.id) == []
    from_task = restart.execution_replay(
        tenant=acme,
        execution_id=first.id,
        task_run_id=TaskRun.objects.for_tenant(acme).get(execution_id=first.id).id,
    )
    assert _monitors(acme, from_task.id) == []


def test_an_execution_stored_without_a_decision_is_watched_from_the_executors_first_step(
    acme, alice, broker
):
    """A batch of Schedule ticks stores CREATED executions and leaves the rest to the
    executor (`snapshots.insert_created`)."""
    flow_create(tenant=acme, user=alice, source=_flow(_max_duration(), SLEEP))
    created = new_execution(
        namespace="company.team", flow_id="watched", flow_revision=1, now=timezone.now()
    )
    with transaction.atomic():
        snapshots.insert_created(tenant=acme, created=[created], wake_at=None)
    assert _monitors(acme, created.id) == []
    services.execution_advance(tenant=acme, execution_id=created.id)
    monitor = SlaMonitor.objects.for_tenant(acme).get(execution_id=created.id)
    assert monitor.deadline == created.state.start_date + timedelta(hours=1)
    assert _row(acme, created.id).state == "RUNNING"


def test_a_subflow_child_is_watched_from_the_parents_transaction(acme, alice, broker):
    flow_create(tenant=acme, user=alice, source=_flow(_max_duration(), SLEEP, flow_id="child"))
    flow_create(
        tenant=acme,
        user=alice,
        source="id: parent\nnamespace: company.team\ntasks:\n  - id: launch\n"
        "    type: io.kestra.plugin.core.flow.Subflow\n    namespace: company.team\n"
        "    flowId: child\n",
    )
    parent = _create(acme, "parent")
    child = Execution.objects.for_tenant(acme).exclude(pk=parent.id).get()
    assert _monitors(acme, child.id) == [("slow", 0, True)]
    assert _monitors(acme, parent.id) == []


# --- the scheduler's job --------------------------------------------------------------------


def test_a_due_deadline_fails_the_execution_and_only_its_unfinished_task_runs(acme, alice, broker):
    parallel = (
        "  - id: both\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        "      - id: one\n        type: io.kestra.plugin.core.log.Log\n        message: one\n"
        "      - id: nap\n        type: io.kestra.plugin.core.flow.Sleep\n        duration: PT1M\n"
    )
    flow_create(
        tenant=acme,
        user=alice,
        source=_flow(_max_duration(labels="    labels:\n      sla: late\n"), parallel),
    )
    row = _create(acme)
    broker.drain(acme, keep={"nap"})  # `one` ran; `nap` waits for a busy worker
    assert _runs(acme, row.id) == {"both": "RUNNING", "one": "SUCCESS", "nap": "CREATED"}
    _due(acme, row.id)

    assert sla.monitors_process() == 1

    execution = _row(acme, row.id)
    assert execution.state == "FAILED"
    assert _runs(acme, row.id) == {"both": "FAILED", "one": "SUCCESS", "nap": "FAILED"}
    assert {"key": "sla", "value": "late"} in execution.labels
    logs = _sla_logs(acme, row.id)
    assert [level for level, _ in logs] == ["WARN", "ERROR"]
    assert logs[0][1].startswith("SLA 'slow' violated: execution duration of PT")
    assert logs[0][1].endswith(" exceed the maximum duration of PT1H.")
    assert logs[1][1] == "Execution failed due to " + logs[0][1]
    # through the normal save: the FAILED transition is there for Flow triggers
    transitions = ExecutionTransition.objects.for_tenant(acme).filter(execution_id=row.id)
    assert "FAILED" in {t.state for t in transitions}
    assert _monitors(acme, row.id) == []
    # the late message for `nap` finds it ended: nothing runs, nothing changes
    broker.drain(acme)
    assert _runs(acme, row.id) == {"both": "FAILED", "one": "SUCCESS", "nap": "FAILED"}
    assert sla.monitors_process() == 0


def test_a_due_deadline_cancels_a_paused_execution(acme, alice, broker):
    flow_create(tenant=acme, user=alice, source=_flow(_max_duration("CANCEL"), PAUSE))
    row = _create(acme)
    broker.drain(acme)
    assert _row(acme, row.id).state == "PAUSED"
    _due(acme, row.id)
    sla.monitors_process()
    assert _row(acme, row.id).state == "CANCELLED"
    assert _runs(acme, row.id) == {"wait": "CANCELLED"}
    assert [level for level, _ in _sla_logs(acme, row.id)] == ["WARN"]


def test_a_due_deadline_with_none_labels_the_execution_which_goes_on(acme, alice, broker):
    labels = "    labels:\n      - key: sla\n        value: missed\n"
    flow_create(
        tenant=acme,
        user=alice,
        source=_flow(_max_duration("NONE", labels=labels), LOG.format(id="one")),
    )
    row = _create(acme)
    _due(acme, row.id)
    sla.monitors_process()
    execution = _row(acme, row.id)
    assert execution.state == "RUNNING"
    assert {"key": "sla", "value": "missed"} in execution.labels
    assert _monitors(acme, row.id) == [("slow", 0, False)]  # handled: no deadline left
    assert sla.monitors_process() == 0
    broker.drain(acme)
    execution = _row(acme, row.id)
    assert execution.state == "SUCCESS"
    assert {"key": "sla", "value": "missed"} in execution.labels
    assert [level for level, _ in _sla_logs(acme, row.id)] == ["WARN"]
    assert _monitors(acme, row.id) == []


def test_the_job_drops_the_deadline_of_an_execution_that_ended_or_went(acme, alice, broker):
    flow_create(tenant=acme, user=alice, source=_flow(_max_duration(), LOG.format(id="one")))
    ended = _create(acme)
    broker.drain(acme)
    SlaMonitor.objects.for_tenant(acme).create(
        execution_id=ended.id, sla_id="slow", deadline=timezone.now()
    )
    SlaMonitor.objects.for_tenant(acme).create(
        execution_id="gone", sla_id="slow", deadline=timezone.now()
    )
    assert sla.monitors_process() == 2
    assert SlaMonitor.objects.for_tenant(acme).count() == 0
    assert _row(acme, ended.id).state == "SUCCESS"
    assert _sla_logs(acme, ended.id) == []


def test_an_execution_ends_without_waiting_for_a_deadline_the_scheduler_holds(acme, alice, broker):
    """The scheduler locks a due row, then the execution; whoever ends the execution locks
    the execution, then deletes its rows: it must skip the held row, not wait for it."""
    flow_create(tenant=acme, user=alice, source=_flow(_max_duration(), LOG.format(id="one")))
    row = _create(acme)
    held, release = threading.Event(), threading.Event()

    def scheduler_holds_the_row() -> None:
        try:
            with transaction.atomic():
                list(SlaMonitor.all_tenants.select_for_update().filter(execution_id=row.id))
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=scheduler_holds_the_row)
    thread.start()
    try:
        assert held.wait(10)
        broker.drain(acme)  # would wait forever on the held row
        assert _row(acme, row.id).state == "SUCCESS"
    finally:
        release.set()
        thread.join()
    assert _monitors(acme, row.id) == [("slow", 0, True)]  # the held one, left to the job
    _due(acme, row.id)
    assert sla.monitors_process() == 1
    assert _monitors(acme, row.id) == []
    assert _row(acme, row.id).state == "SUCCESS"


# --- assertions -------------------------------------------------------------------------------


def test_an_assertion_violated_with_none_is_applied_once_and_forgotten_at_the_end(
    acme, alice, broker
):
    assertion = (
        "  - id: watch\n    type: EXECUTION_ASSERTION\n    behavior: NONE\n"
        '    assert: "{{ outputs.one is not defined }}"\n    labels:\n      sla: missed\n'
    )
    flow_create(
        tenant=acme,
        user=alice,
        source=_flow(assertion, LOG.format(id="one") + PAUSE + LOG.format(id="two")),
    )
    row = _create(acme)
    broker.drain(acme)
    assert _row(acme, row.id).state == "PAUSED"
    assert _monitors(acme, row.id) == [("watch", 0, False)]  # remembered, without deadline
    lifecycle.execution_resume(tenant=acme, execution_id=row.id)
    broker.drain(acme)
    execution = _row(acme, row.id)
    assert execution.state == "SUCCESS"
    assert execution.labels.count({"key": "sla", "value": "missed"}) == 1
    assert _sla_logs(acme, row.id) == [
        ("WARN", "SLA 'watch' violated: assertion is false: {{ outputs.one is not defined }}.")
    ]
    assert _monitors(acme, row.id) == []


def test_an_assertion_cancels_at_creation(acme, alice, broker):
    assertion = (
        "  - id: gate\n    type: EXECUTION_ASSERTION\n    behavior: CANCEL\n"
        '    assert: "{{ inputs.go }}"\n'
    )
    source = _flow(assertion, LOG.format(id="one")).replace(
        "tasks:", "inputs:\n  - id: go\n    type: BOOLEAN\n    defaults: true\ntasks:"
    )
    flow_create(tenant=acme, user=alice, source=source)
    stopped = _create(acme, go="false")
    assert _row(acme, stopped.id).state == "CANCELLED"
    assert _runs(acme, stopped.id) == {}
    going = _create(acme)
    broker.drain(acme)
    assert _row(acme, going.id).state == "SUCCESS"


# --- a flow without sla -----------------------------------------------------------------------


def test_a_flow_without_sla_never_touches_the_sla_table(acme, alice, sent):
    flow_create(
        tenant=acme,
        user=alice,
        source="id: plain\nnamespace: company.team\ntasks:\n" + LOG.format(id="one"),
    )
    with CaptureQueriesContext(connection) as queries:
        row = _create(acme, "plain")
        while sent:
            _, args, _ = sent.pop(0)
            services.task_run_execute(tenant=acme, execution_id=args[1], task_run_id=args[2])
    assert _row(acme, row.id).state == "SUCCESS"
    assert not [q["sql"] for q in queries.captured_queries if "slamonitor" in q["sql"]]
