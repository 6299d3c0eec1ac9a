"""The engine's read of a locked execution (snapshots.locked_snapshot): a process reads all
task runs once, then only those written since the version it knows; what it gets is always
what a full read gives, also after task runs were deleted or a save rolled back."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from executions import services, snapshots
from executions.models import Execution, TaskRun
from flows.services import flow_create

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """id: three
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: b
    type: io.kestra.plugin.core.debug.Return
    format: two
  - id: c
    type: io.kestra.plugin.core.debug.Return
    format: three
"""


def _fresh(tenant, execution_id):
    row = Execution.objects.for_tenant(tenant).get(pk=execution_id)
    row.tenant = tenant
    runs = TaskRun.objects.for_tenant(tenant).filter(execution=row).order_by("position")
    return snapshots.snapshot(row, list(runs))


def _locked(tenant, execution_id):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        _, snap = services._locked(tenant, execution_id)
    task_run_reads = [
        q["sql"] for q in queries.captured_queries if "executions_taskrun" in q["sql"]
    ]
    return snap, task_run_reads


def _run_to_end(acme, sent):
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="three", provided={}
    )
    ((_, args, _),) = [m for m in sent if m[0] == "run"]
    sent.clear()
    services.task_run_execute(tenant=acme, execution_id=row.id, task_run_id=args[2])
    return row.id


def test_a_process_reads_all_task_runs_once_then_none_while_the_version_holds(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=FLOW)
    execution_id = _run_to_end(acme, sent)
    snapshots.forget_all()  # another process: it knows nothing of this execution

    snap, reads = _locked(acme, execution_id)
    assert len(reads) == 1
    assert "version" not in reads[0].split("WHERE")[1]
    assert snap == _fresh(acme, execution_id)
    snap, reads = _locked(acme, execution_id)
    assert reads == []
    assert snap == _fresh(acme, execution_id)


def test_it_reads_only_what_was_written_since_the_version_it_knows(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=FLOW)
    row = services.execution_create(
        tenant=acme, namespace="company.team", flow_id="three", provided={}
    )
    _locked(acme, row.id)
    known = dict(snapshots._known)  # what this process knew then
    ((_, args, _),) = [m for m in sent if m[0] == "run"]
    services.task_run_execute(tenant=acme, execution_id=row.id, task_run_id=args[2])
    snapshots._known.clear()
    snapshots._known.update(known)  # as if another process had run the tasks

    snap, reads = _locked(acme, row.id)
    assert len(reads) == 1
    assert '"version" >' in reads[0]
    assert snap == _fresh(acme, row.id)
    assert snap.current.value == "SUCCESS"


def test_deleted_task_runs_make_it_read_them_all(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=FLOW)
    execution_id = _run_to_end(acme, sent)
    _locked(acme, execution_id)
    runs = TaskRun.objects.for_tenant(acme).filter(execution_id=execution_id)
    runs.filter(task_id="c").delete()  # a restart drops task runs, then saves
    with transaction.atomic():
        row, before = services._locked(acme, execution_id)
        snapshots.save(tenant=acme, row=row, before=before, after=before, wake_at=None)
    # the save counted what `before` held (3): the row says 3, the table holds 2
    Execution.objects.for_tenant(acme).filter(pk=execution_id).update(task_run_count=2)
    snapshots._known[(acme.pk, execution_id)].version -= 1  # known from before that save

    snap, reads = _locked(acme, execution_id)
    assert [r.task_id for r in snap.task_runs] == ["a", "b"]
    assert snap == _fresh(acme, execution_id)
    assert len(reads) == 2  # the changed ones, then, counts disagreeing, all of them


def test_a_rolled_back_save_is_not_taken_for_the_rows(acme, alice, sent):
    flow_create(tenant=acme, user=alice, source=FLOW)
    execution_id = _run_to_end(acme, sent)
    version = snapshots._known[(acme.pk, execution_id)].version
    with transaction.atomic():
        row, before = services._locked(acme, execution_id)
        changed = dataclasses.replace(before, task_runs=before.task_runs[:1])
        snapshots.save(tenant=acme, row=row, before=before, after=changed, wake_at=None)
        transaction.set_rollback(True)
    assert snapshots._known[(acme.pk, execution_id)].version == version
    snap, _ = _locked(acme, execution_id)
    assert snap == _fresh(acme, execution_id)
