"""Subflows on the platform: the child is made in the parent's transaction, its end gives the
parent its result (once), kills go down, recursion stops, tenants stay apart. The broker's
messages are recorded and delivered by hand (`Broker`), so every step is a plain call; the
last tests run on a real Celery worker."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from executions import services, subflows, tasks
from executions.engine.inputs import FileUpload
from executions.models import Execution, LogEntry, TaskRun
from flows.services import flow_create
from tenants.storage.local import LocalStorage

pytestmark = pytest.mark.django_db(transaction=True)

CHILD = """id: child
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: nobody
  - id: token
    type: SECRET
    required: false
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: "hello {{ inputs.name }}"
outputs:
  - id: greeting
    type: STRING
    value: "{{ outputs.hello.value }}"
"""

SLEEPY = """id: sleepy
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
"""


def parent(flow_id: str, extra: str = "", first: str = "") -> str:
    return f"""id: parent
namespace: company.team
tasks:{first}
  - id: launch
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: {flow_id}
{extra}"""


LOG_FIRST = """
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: first"""


def ping_pong(first: str = "") -> tuple[str, str]:
    return (
        parent("pong", first=first).replace("id: parent", "id: ping"),
        parent("ping", first=first).replace("id: parent", "id: pong"),
    )


class Broker:
    """The messages sent, delivered one after the other by calling their handlers."""

    def __init__(self, sent: list, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent = sent
        for name in ("subflow_ended", "kill_subflows"):
            task = getattr(tasks, name)
            monkeypatch.setattr(task, "delay", lambda *a, name=name: sent.append((name, a, {})))
        self.delivered: list[str] = []

    def drain(self, tenant, *, keep: set[str] = frozenset()) -> None:
        """Deliver everything (but the task runs of `keep`: left unrun, as a busy worker)."""
        held = []
        while self.sent:
            name, args, kwargs = self.sent.pop(0)
            self.delivered.append(name)
            if name == "run":
                task_id = TaskRun.objects.for_tenant(tenant).get(pk=args[2]).task_id
                if task_id in keep:
                    held.append((name, args, kwargs))
                    continue
                services.task_run_execute(
                    tenant=tenant, execution_id=args[1], task_run_id=args[2], **kwargs
                )
            elif name == "advance":
                services.execution_advance(tenant=tenant, execution_id=args[1])
            elif name == "subflow_ended":
                subflows.subflow_ended(tenant=tenant, execution_id=args[1])
            elif name == "kill_subflows":
                subflows.kill_children(tenant=tenant, execution_id=args[1], task_run_id=args[2])
        self.sent.extend(held)


@pytest.fixture
def broker(sent, monkeypatch) -> Broker:
    return Broker(sent, monkeypatch)


def create(tenant, flow_id: str = "parent", **provided):
    return services.execution_create(
        tenant=tenant, namespace="company.team", flow_id=flow_id, provided=provided
    )


def rows(tenant):
    return Execution.objects.for_tenant(tenant).order_by("start_date", "id")


def errors_of(tenant, execution_id: str) -> list[str]:
    logs = LogEntry.objects.for_tenant(tenant).filter(execution_id=execution_id, level="ERROR")
    return list(logs.values_list("message", flat=True))


def test_the_child_is_made_with_the_parent_and_its_end_completes_the_parent(acme, alice, broker):
    flow_create(tenant=acme, user=alice, source=CHILD)
    flow_create(tenant=acme, user=alice, source=parent("child", "    inputs:\n      name: Ada\n"))
    row = create(acme)
    child = rows(acme).exclude(pk=row.pk).get()
    assert child.state == "RUNNING"  # its first decision was taken with the parent's create
    assert child.trigger["variables"]["executionId"] == row.pk
    launch = TaskRun.objects.for_tenant(acme).get(execution=row)
    assert (launch.state, launch.outputs) == ("RUNNING", {"executionId": child.pk})
    assert [name for name, *_ in broker.sent] == ["run"]  # the child's task, nothing else

    broker.drain(acme)
    row.refresh_from_db()
    launch.refresh_from_db()
    assert row.state == "SUCCESS"
    assert launch.outputs == {
        "executionId": child.pk,
        "state": "SUCCESS",
        "outputs": {"greeting": "hello Ada"},
    }
    assert broker.delivered.count("subflow_ended") == 1

    logs = LogEntry.objects.for_tenant(acme).count()
    subflows.subflow_ended(tenant=acme, execution_id=child.pk)  # delivered twice
    assert LogEntry.objects.for_tenant(acme).count() == logs
    row.refresh_from_db()
    assert row.state == "SUCCESS"


def test_secret_inputs_of_the_child_are_sealed_at_rest(acme, alice, broker):
    flow_create(tenant=acme, user=alice, source=CHILD)
    flow_create(
        tenant=acme, user=alice, source=parent("child", "    inputs:\n      token: s3cr3t\n")
    )
    row = create(acme)
    child = rows(acme).exclude(pk=row.pk).get()
    assert child.inputs["token"] != "s3cr3t"
    broker.drain(acme)
    assert rows(acme).filter(state="SUCCESS").count() == 2


def test_a_missing_child_flow_fails_the_parent_in_its_create(acme, alice, broker):
    flow_create(tenant=acme, user=alice, source=parent("nowhere"))
    row = create(acme)
    assert row.state == "FAILED"
    assert errors_of(acme, row.pk) == [
        "Unable to find flow 'company.team'.'nowhere' with revision '0'"
    ]
    assert rows(acme).count() == 1


def test_a_flow_of_another_tenant_is_never_started(acme, globex, alice, mallory, broker):
    flow_create(tenant=globex, user=mallory, source=CHILD)
    flow_create(tenant=acme, user=alice, source=parent("child"))
    row = create(acme)
    assert row.state == "FAILED"
    assert "Unable to find flow 'company.team'.'child'" in errors_of(acme, row.pk)[0]
    assert rows(globex).count() == 0


def test_invalid_child_inputs_fail_the_task_with_their_messages(acme, alice, broker):
    typed = CHILD.replace("type: STRING\n    defaults: nobody", "type: INT")
    flow_create(tenant=acme, user=alice, source=typed)
    flow_create(tenant=acme, user=alice, source=parent("child", "    inputs:\n      name: Ada\n"))
    row = create(acme)
    assert row.state == "FAILED"
    (message,) = errors_of(acme, row.pk)
    assert message.startswith("Invalid inputs for flow 'company.team.child': ")
    assert "inputs.name" in message


def test_a_recursion_made_at_once_stops_at_the_depth_limit(acme, alice, broker, monkeypatch):
    monkeypatch.setitem(settings.AVIARY, "SUBFLOW_MAX_DEPTH", 3)
    for source in ping_pong():
        flow_create(tenant=acme, user=alice, source=source)
    row = create(acme, "ping")
    assert row.state == "FAILED"
    assert list(rows(acme).values_list("state", flat=True)) == ["FAILED"] * 4
    deepest = rows(acme).last()
    assert "more than 3 levels of subflows" in errors_of(acme, deepest.pk)[0]
    broker.drain(acme)
    assert rows(acme).count() == 4


def test_a_recursion_made_step_by_step_stops_at_the_depth_limit(acme, alice, broker, monkeypatch):
    monkeypatch.setitem(settings.AVIARY, "SUBFLOW_MAX_DEPTH", 2)
    for source in ping_pong(first=LOG_FIRST):
        flow_create(tenant=acme, user=alice, source=source)
    create(acme, "ping")
    broker.drain(acme)  # each level starts its child from a worker's report
    assert list(rows(acme).values_list("state", flat=True)) == ["FAILED"] * 3
    assert "more than 2 levels of subflows" in errors_of(acme, rows(acme).last().pk)[0]


def test_without_wait_the_parent_goes_on_while_the_child_runs(acme, alice, broker):
    flow_create(tenant=acme, user=alice, source=SLEEPY)
    flow_create(tenant=acme, user=alice, source=parent("sleepy", "    wait: false\n"))
    row = create(acme)
    assert row.state == "SUCCESS"
    assert rows(acme).exclude(pk=row.pk).get().state == "RUNNING"


def test_killing_the_parent_kills_the_child_and_records_it(acme, alice, broker):
    from executions.lifecycle import execution_kill

    flow_create(tenant=acme, user=alice, source=SLEEPY)
    flow_create(tenant=acme, user=alice, source=parent("sleepy"))
    row = create(acme)
    child = rows(acme).exclude(pk=row.pk).get()
    broker.drain(acme, keep={"nap"})  # the child's task is on a (busy) worker
    execution_kill(tenant=acme, execution_id=row.pk)
    broker.drain(acme, keep={"nap"})
    child.refresh_from_db()
    row.refresh_from_db()
    assert (row.state, child.state) == ("KILLED", "KILLED")
    assert "kill_subflows" in broker.delivered
    launch = TaskRun.objects.for_tenant(acme).get(execution=row)
    assert launch.state == "KILLED"  # the child's end is recorded on the killed parent


def test_for_each_item_starts_one_child_per_batch_and_merges_outputs(acme, alice, broker):
    flow_create(
        tenant=acme, user=alice, source=CHILD.replace("defaults: nobody", "required: false")
    )
    flow_create(
        tenant=acme,
        user=alice,
        source="""id: parent
namespace: company.team
inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      rows: 4
    namespace: company.team
    flowId: child
    inputs:
      name: "{{ taskrun.iteration }}"
""",
    )
    data = "".join(f"line {n}\n" for n in range(10)).encode()
    row = create(acme, file=FileUpload("items.txt", data))
    broker.drain(acme)
    row.refresh_from_db()
    assert row.state == "SUCCESS"
    assert rows(acme).filter(state="SUCCESS").count() == 4
    runs = {r.task_id: r for r in TaskRun.objects.for_tenant(acme).filter(execution=row)}
    assert runs["each_items"].outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 3}
    merged = LocalStorage(acme.slug).get(runs["each_merge"].outputs["subflowOutputs"])
    assert merged.decode().splitlines() == [
        '{"greeting":"hello 1"}',
        '{"greeting":"hello 2"}',
        '{"greeting":"hello 3"}',
    ]


def test_the_pages_link_a_subflow_to_its_child_and_back(acme, alice, broker, client):
    flow_create(tenant=acme, user=alice, source=CHILD)
    flow_create(tenant=acme, user=alice, source=parent("child"))
    row = create(acme)
    broker.drain(acme)
    child = rows(acme).exclude(pk=row.pk).get()
    client.force_login(alice)
    page = client.get(f"/ui/acme/executions/{row.pk}").content.decode()
    assert f'data-subflow-child href="/ui/acme/executions/{child.pk}"' in page
    page = client.get(f"/ui/acme/executions/{child.pk}").content.decode()
    assert f'data-subflow-parent href="/ui/acme/executions/{row.pk}"' in page
    assert "<code>launch</code>" in page
    own = client.get(f"/ui/acme/executions/{row.pk}").content.decode()
    assert "data-subflow-parent" not in own


# --- on a real Celery worker --------------------------------------------------------------
def _wait(tenant, pk: str, states: set[str], timeout: float = 30) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        row = Execution.objects.for_tenant(tenant).get(pk=pk)
        if row.state in states:
            return row
        assert time.monotonic() < deadline, f"{pk} is still {row.state}"
        time.sleep(0.05)


def test_on_a_worker_a_killed_parent_kills_its_running_child(celery_worker_process, acme, alice):
    from executions.lifecycle import execution_kill

    flow_create(tenant=acme, user=alice, source=SLEEPY)
    flow_create(tenant=acme, user=alice, source=parent("sleepy"))
    row = create(acme)
    child = rows(acme).exclude(pk=row.pk).get()
    nap = TaskRun.objects.for_tenant(acme).get(execution=child)
    deadline = time.monotonic() + 30
    while TaskRun.objects.for_tenant(acme).get(pk=nap.pk).state != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    execution_kill(tenant=acme, execution_id=row.pk)
    assert _wait(acme, child.pk, {"KILLED"}).state == "KILLED"
    deadline = time.monotonic() + 30
    while TaskRun.objects.for_tenant(acme).get(execution=row).state != "KILLED":
        assert time.monotonic() < deadline, "the parent's task run never took the child's end"
        time.sleep(0.05)


def test_on_a_worker_for_each_item_waits_for_every_batch(celery_worker_process, acme, alice):
    flow_create(tenant=acme, user=alice, source=CHILD)
    flow_create(
        tenant=acme,
        user=alice,
        source="""id: parent
namespace: company.team
inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      partitions: 3
    namespace: company.team
    flowId: child
    inputs:
      name: "{{ read(taskrun.items) | trim }}"
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.each_items.iterations.SUCCESS }}"
""",
    )
    row = create(acme, file=FileUpload("items.txt", b"a\nb\nc\nd\n"))
    row = _wait(acme, row.pk, {"SUCCESS", "FAILED", "WARNING", "KILLED"})
    assert row.state == "SUCCESS", errors_of(acme, row.pk)
    after = TaskRun.objects.for_tenant(acme).get(execution=row, task_id="after")
    assert after.outputs == {"value": "3"}
    names = sorted(r.inputs["name"] for r in rows(acme).exclude(pk=row.pk))
    assert names == ["a\nd", "b", "c"]
