"""Flow triggers end to end in one process: upstream executions run by the engine (the
`drive` fixture plays the executor and the workers), their transitions evaluated by
`transitions_drain`, the downstream executions run the same way. The real Celery path and
concurrent evaluators: tests/triggers/test_flow_triggers_celery.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from executions import services
from executions.models import Execution, ExecutionTransition, LogEntry
from flows.services import flow_create, flow_update
from tenants.models import Tenant
from tests.conftest import flow_yaml
from triggers import controls, flow_triggers
from triggers.models import PreconditionWindow, Trigger

pytestmark = pytest.mark.django_db

FLOWS = Path(__file__).resolve().parents[3] / "shared" / "kestra-conformance" / "flows"
needs_corpus = pytest.mark.skipif(not FLOWS.is_dir(), reason="the conformance corpus is absent")


@pytest.fixture(autouse=True)
def _no_nudges(monkeypatch):
    """The evaluator runs here, by hand: no message to a broker."""
    from triggers import tasks

    monkeypatch.setattr(tasks.evaluate_flow_triggers, "delay", lambda *a, **k: None)


@pytest.fixture
def clock(monkeypatch):
    """The time windows' clock, set by the test."""
    now = {"at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC)}
    monkeypatch.setattr(flow_triggers, "clock", lambda: now["at"])
    return now


def run(drive, tenant, namespace: str, flow_id: str, inputs=None, labels=()) -> Execution:
    row = drive(
        tenant,
        lambda: services.execution_create(
            tenant=tenant,
            namespace=namespace,
            flow_id=flow_id,
            provided=inputs or {},
            labels=labels,
        ),
    )
    return Execution.objects.for_tenant(tenant).get(pk=row.id)


def evaluate(drive, tenant) -> list[Execution]:
    """Evaluate every pending transition, run what they started; the new executions."""
    before = set(Execution.objects.for_tenant(tenant).values_list("pk", flat=True))
    for _ in range(5):  # the executions started have transitions too: evaluate them as well
        drive(tenant, flow_triggers.transitions_drain)
        if not ExecutionTransition.all_tenants.exists():
            break
    return list(
        Execution.objects.for_tenant(tenant).exclude(pk__in=before).order_by("start_date", "id")
    )


def downstream(tenant, flow_id: str) -> list[Execution]:
    return list(
        Execution.objects.for_tenant(tenant).filter(flow_id=flow_id).order_by("start_date", "id")
    )


@needs_corpus
def test_preconditions_fire_once_both_upstream_flows_ran(drive, acme, alice):
    """Kestra's MultipleConditionTriggerCaseTest.flowTriggerPreconditions: A, A, then B."""
    for name in (
        "flow-trigger-preconditions-flow-a.yaml",
        "flow-trigger-preconditions-flow-b.yaml",
        "flow-trigger-preconditions-flow-listen.yaml",
    ):
        flow_create(tenant=acme, user=alice, source=(FLOWS / name).read_text())
    namespace = "io.kestra.tests.trigger.preconditions"

    first = run(drive, acme, namespace, "flow-trigger-preconditions-flow-a")
    assert first.state == "SUCCESS"
    assert evaluate(drive, acme) == []
    run(drive, acme, namespace, "flow-trigger-preconditions-flow-a")
    assert evaluate(drive, acme) == []
    window = PreconditionWindow.objects.for_tenant(acme).get()
    # A meets its `flows` entry and the `flow1` filter group; B's are still missing
    assert set(window.results) == {"condition_1", "condition_3_flow1"}

    upstream_b = run(drive, acme, namespace, "flow-trigger-preconditions-flow-b")
    started = evaluate(drive, acme)

    assert [e.flow_id for e in started] == ["flow-trigger-preconditions-flow-listen"]
    listen = started[0]
    assert listen.state == "SUCCESS"
    assert listen.task_runs.count() == 1
    assert listen.trigger["variables"]["executionId"] == upstream_b.id
    assert listen.trigger["variables"]["state"] == "SUCCESS"
    assert not PreconditionWindow.objects.for_tenant(acme).exists()  # resetOnSuccess


@needs_corpus
def test_legacy_conditions_and_inputs_from_the_upstream(drive, acme, alice):
    """FlowTriggerCaseTest.trigger: inputs rendered with the upstream's outputs."""
    for name in ("trigger-flow.yaml", "trigger-flow-listener.yaml"):
        flow_create(tenant=acme, user=alice, source=(FLOWS / name).read_text())
    upstream = run(drive, acme, "io.kestra.tests.trigger", "trigger-flow")

    started = evaluate(drive, acme)

    assert len(started) == 1
    listener = started[0]
    assert listener.state == "SUCCESS"
    assert listener.inputs["from-parent"] == f"from parents: {upstream.id}"
    run_outputs = listener.task_runs.get().outputs
    assert run_outputs["value"] == f"childs: from parents: {upstream.id}"
    variables = listener.trigger["variables"]
    assert variables["executionId"] == upstream.id
    assert (variables["namespace"], variables["flowId"]) == (
        "io.kestra.tests.trigger",
        "trigger-flow",
    )
    assert listener.trigger["type"] == "io.kestra.plugin.core.trigger.Flow"
    labels = {item["key"]: item["value"] for item in listener.labels}
    assert labels["system.correlationId"] == upstream.id  # carried from the upstream


ALERT_ON_FAILURE = """id: alert_on_failure
namespace: company.monitoring
tasks:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.namespace }}.{{ trigger.flowId }} ended {{ trigger.state }}"
triggers:
  - id: on_failure
    type: io.kestra.plugin.core.trigger.Flow
    states: [FAILED, WARNING]
    preconditions:
      id: company_namespace
      where:
        - id: company_prefix
          filters:
            - field: NAMESPACE
              type: STARTS_WITH
              value: company
"""

FAILING = """id: {flow_id}
namespace: {namespace}
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""


def test_the_alert_on_failure_seed_example(drive, acme, alice):
    flow_create(tenant=acme, user=alice, source=ALERT_ON_FAILURE)
    flow_create(
        tenant=acme, user=alice, source=FAILING.format(flow_id="etl", namespace="company.team")
    )
    flow_create(
        tenant=acme, user=alice, source=FAILING.format(flow_id="etl", namespace="other.team")
    )
    flow_create(tenant=acme, user=alice, source=flow_yaml("fine", "company.team"))

    failed = run(drive, acme, "company.team", "etl")
    run(drive, acme, "other.team", "etl")
    run(drive, acme, "company.team", "fine")
    started = evaluate(drive, acme)

    assert failed.state == "FAILED"
    assert [e.flow_id for e in started] == ["alert_on_failure"]
    alert = started[0]
    assert alert.state == "SUCCESS"
    messages = (
        LogEntry.objects.for_tenant(acme).filter(execution=alert).values_list("message", flat=True)
    )
    assert "company.team.etl ended FAILED" in set(messages)


SILVER_LAYER = """id: silver_layer
namespace: company.team
tasks:
  - id: transform_data
    type: io.kestra.plugin.core.log.Log
    message: deduplication, cleaning, and minor aggregations
triggers:
  - id: flow_trigger
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: bronze_layer
      timeWindow:
        type: DAILY_TIME_DEADLINE
        deadline: "09:00:00"
      flows:
        - namespace: company.team
          flowId: bronze_layer
          states: [SUCCESS]
        - namespace: company.team
          flowId: bronze_layer_2
          states: [SUCCESS]
"""


def test_the_silver_layer_seed_example_waits_for_both_before_the_deadline(
    drive,
    acme,
    alice,
    clock,
):
    flow_create(tenant=acme, user=alice, source=SILVER_LAYER)
    for flow_id in ("bronze_layer", "bronze_layer_2"):
        flow_create(tenant=acme, user=alice, source=flow_yaml(flow_id))

    clock["at"] = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    run(drive, acme, "company.team", "bronze_layer")
    assert evaluate(drive, acme) == []
    clock["at"] = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    run(drive, acme, "company.team", "bronze_layer_2")
    assert [e.flow_id for e in evaluate(drive, acme)] == ["silver_layer"]

    # the next day, the first bronze before the deadline and the second after it: nothing
    clock["at"] = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    run(drive, acme, "company.team", "bronze_layer")
    assert evaluate(drive, acme) == []
    clock["at"] = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    run(drive, acme, "company.team", "bronze_layer_2")
    assert evaluate(drive, acme) == []
    assert len(downstream(acme, "silver_layer")) == 1


def _two_flow_listener(time_window: str, reset: str = "") -> str:
    return f"""id: listener
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: both
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: both
      {reset}
      timeWindow:
{time_window}
      flows:
        - namespace: company.team
          flowId: up_a
        - namespace: company.team
          flowId: up_b
"""


WINDOWS = {
    # (window, [(clock, upstream)], fired?)
    "duration-same-day": (
        "        type: DURATION_WINDOW\n        window: P1D",
        [((2026, 11, 30, 1), "up_a"), ((2026, 11, 30, 23), "up_b")],
        True,
    ),
    "duration-across-midnight": (
        "        type: DURATION_WINDOW\n        window: P1D",
        [((2026, 11, 30, 23), "up_a"), ((2026, 12, 1, 1), "up_b")],
        False,
    ),
    "duration-ten-minute-buckets": (
        "        type: DURATION_WINDOW\n        window: PT10M",
        [((2026, 11, 30, 8, 11), "up_a"), ((2026, 11, 30, 8, 19), "up_b")],
        True,
    ),
    "duration-next-bucket": (
        "        type: DURATION_WINDOW\n        window: PT10M",
        [((2026, 11, 30, 8, 18), "up_a"), ((2026, 11, 30, 8, 21), "up_b")],
        False,
    ),
    "sliding-within": (
        "        type: SLIDING_WINDOW\n        window: PT1H",
        [((2026, 11, 30, 8, 50), "up_a"), ((2026, 11, 30, 9, 40), "up_b")],
        True,
    ),
    "sliding-expired": (
        "        type: SLIDING_WINDOW\n        window: PT1H",
        [((2026, 11, 30, 8, 50), "up_a"), ((2026, 11, 30, 9, 51), "up_b")],
        False,
    ),
    "daily-window-inside": (
        '        type: DAILY_TIME_WINDOW\n        startTime: "06:00:00"\n'
        '        endTime: "09:00:00"',
        [((2026, 11, 30, 6, 30), "up_a"), ((2026, 11, 30, 8, 59), "up_b")],
        True,
    ),
    "daily-window-before-start": (
        '        type: DAILY_TIME_WINDOW\n        startTime: "06:00:00"\n'
        '        endTime: "09:00:00"',
        [((2026, 11, 30, 5, 59), "up_a"), ((2026, 11, 30, 8, 0), "up_b")],
        False,
    ),
    "deadline-passed": (
        '        type: DAILY_TIME_DEADLINE\n        deadline: "08:00:00"',
        [((2026, 11, 30, 7, 0), "up_a"), ((2026, 11, 30, 8, 30), "up_b")],
        False,
    ),
}


@pytest.mark.parametrize("upsert", [True, False], ids=["one-statement", "read-locked"])
@pytest.mark.parametrize("case", sorted(WINDOWS))
def test_each_time_window_type(case, upsert, drive, acme, alice, clock, monkeypatch):
    monkeypatch.setattr(flow_triggers, "UPSERT_WINDOWS", upsert)  # both ways of storing them
    window, events, fired = WINDOWS[case]
    flow_create(tenant=acme, user=alice, source=_two_flow_listener(window))
    for flow_id in ("up_a", "up_b"):
        flow_create(tenant=acme, user=alice, source=flow_yaml(flow_id))
    for when, flow_id in events:
        clock["at"] = datetime(*when, tzinfo=UTC)
        run(drive, acme, "company.team", flow_id)
        evaluate(drive, acme)
    assert len(downstream(acme, "listener")) == (1 if fired else 0)


def test_without_reset_on_success_each_later_match_fires_again(drive, acme, alice, clock):
    listener = _two_flow_listener("        type: DURATION_WINDOW", reset="resetOnSuccess: false")
    flow_create(tenant=acme, user=alice, source=listener)
    for flow_id in ("up_a", "up_b"):
        flow_create(tenant=acme, user=alice, source=flow_yaml(flow_id))
    for flow_id in ("up_a", "up_b", "up_a", "up_b"):
        run(drive, acme, "company.team", flow_id)
        evaluate(drive, acme)
    assert len(downstream(acme, "listener")) == 3  # after B, then A again, then B again


LISTEN_ANY = """id: listener
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: any
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: up_a
"""


def test_an_upstream_in_another_tenant_never_triggers(drive, acme, alice, globex, mallory):
    flow_create(tenant=acme, user=alice, source=LISTEN_ANY)
    flow_create(tenant=globex, user=mallory, source=flow_yaml("up_a"))
    run(drive, globex, "company.team", "up_a")
    evaluate(drive, globex)
    assert downstream(acme, "listener") == []


def test_disabled_triggers_and_flows_and_the_flow_itself_do_not_fire(drive, acme, alice):
    flow_create(tenant=acme, user=alice, source=LISTEN_ANY)
    flow_create(tenant=acme, user=alice, source=flow_yaml("up_a"))
    listener = Trigger.objects.for_tenant(acme).get(flow_id="listener")
    controls.trigger_set_disabled(tenant=acme, trigger=listener, disabled=True)
    run(drive, acme, "company.team", "up_a")
    assert evaluate(drive, acme) == []

    controls.trigger_set_disabled(tenant=acme, trigger=listener, disabled=False)
    flow_update(
        tenant=acme,
        user=alice,
        namespace="company.team",
        flow_id="listener",
        source=LISTEN_ANY + "disabled: true\n",
    )
    run(drive, acme, "company.team", "up_a")
    assert evaluate(drive, acme) == []

    itself = LISTEN_ANY.replace("flowId: up_a", "flowId: listener").replace("disabled: true\n", "")
    flow_update(
        tenant=acme, user=alice, namespace="company.team", flow_id="listener", source=itself
    )
    run(drive, acme, "company.team", "listener")
    assert evaluate(drive, acme) == []


def _version(tenant) -> int:
    return Tenant.objects.get(pk=tenant.pk).flow_triggers_version


def test_the_in_memory_index_follows_every_change_of_a_flow_trigger(
    drive, acme, alice, django_assert_num_queries
):
    """Evaluators keep each tenant's Flow triggers in memory, reloaded when the tenant's
    version moves: a new trigger, a disabled one, an enabled one."""
    flow_create(tenant=acme, user=alice, source=flow_yaml("up_a"))
    unchanged = _version(acme)
    flow_update(
        tenant=acme,
        user=alice,
        namespace="company.team",
        flow_id="up_a",
        source=flow_yaml("up_a", extra="description: no trigger here\n"),
    )
    assert _version(acme) == unchanged  # no Flow trigger involved: the copies stay valid

    run(drive, acme, "company.team", "up_a")
    assert evaluate(drive, acme) == []  # loads the index: nothing listens yet
    flow_create(tenant=acme, user=alice, source=LISTEN_ANY)
    assert _version(acme) == unchanged + 1
    run(drive, acme, "company.team", "up_a")
    assert [e.flow_id for e in evaluate(drive, acme)] == ["listener"]

    version = _version(acme)
    with django_assert_num_queries(0):  # loaded at this version already
        found = flow_triggers.candidates(acme, "company.team", "up_a", "SUCCESS", version=version)
    assert [t.flow_id for t in found] == ["listener"]

    listener = Trigger.objects.for_tenant(acme).get(flow_id="listener")
    controls.trigger_set_disabled(tenant=acme, trigger=listener, disabled=True)
    run(drive, acme, "company.team", "up_a")
    assert evaluate(drive, acme) == []
    controls.trigger_set_disabled(tenant=acme, trigger=listener, disabled=False)
    run(drive, acme, "company.team", "up_a")
    assert [e.flow_id for e in evaluate(drive, acme)] == ["listener"]


def test_the_indexes_kept_stay_within_their_total_the_oldest_going_first(
    drive, acme, alice, globex, mallory, monkeypatch
):
    monkeypatch.setattr(flow_triggers, "INDEX_MAX_TOTAL_KEYS", 1)
    flow_create(tenant=acme, user=alice, source=LISTEN_ANY)
    flow_create(tenant=globex, user=mallory, source=LISTEN_ANY)
    for tenant in (acme, globex, acme):
        found = flow_triggers.candidates(
            tenant, "company.team", "up_a", "SUCCESS", version=_version(tenant)
        )
        assert [t.flow_id for t in found] == ["listener"]
        assert list(flow_triggers._indexes) == [tenant.pk]  # the other one went
    assert flow_triggers._indexed_keys == flow_triggers._indexes[acme.pk].size


def test_a_tenant_with_too_many_keys_to_keep_is_matched_by_the_database(
    drive, acme, alice, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(flow_triggers, "INDEX_MAX_KEYS", 0)
    flow_create(tenant=acme, user=alice, source=LISTEN_ANY)
    version = _version(acme)
    with django_assert_num_queries(2):  # the load, stopped at the limit, then the match
        found = flow_triggers.candidates(acme, "company.team", "up_a", "SUCCESS", version=version)
    assert [t.flow_id for t in found] == ["listener"]
    with django_assert_num_queries(1):  # the tenant stays matched by the database
        flow_triggers.candidates(acme, "company.team", "up_a", "SUCCESS", version=version)


def test_inputs_that_do_not_render_give_a_failed_execution_saying_why(drive, acme, alice):
    source = LISTEN_ANY.replace(
        "    conditions:",
        '    inputs:\n      name: "{{ outputs.nothing.value }}"\n    conditions:',
    ).replace("tasks:", "inputs:\n  - id: name\n    type: STRING\ntasks:", 1)
    flow_create(tenant=acme, user=alice, source=source)
    flow_create(tenant=acme, user=alice, source=flow_yaml("up_a"))
    run(drive, acme, "company.team", "up_a")
    started = evaluate(drive, acme)
    assert [e.state for e in started] == ["FAILED"]
    messages = " ".join(
        LogEntry.objects.for_tenant(acme)
        .filter(execution=started[0])
        .values_list("message", flat=True)
    )
    assert "inputs.name" in messages
    assert "cannot be rendered" in messages


def test_candidates_come_from_the_key_index(acme, alice):
    flow_create(tenant=acme, user=alice, source=LISTEN_ANY)
    flow_create(tenant=acme, user=alice, source=ALERT_ON_FAILURE)
    found = {t.flow_id for t in flow_triggers.candidates(acme, "company.team", "up_a", "SUCCESS")}
    assert found == {"listener"}  # alert_on_failure listens to FAILED and WARNING only
    found = {t.flow_id for t in flow_triggers.candidates(acme, "company.team", "x", "FAILED")}
    assert found == {"alert_on_failure"}
    assert flow_triggers.candidates(acme, "company.team", "up_a", "RUNNING") == []


def test_windows_survive_a_restart_of_the_evaluator(drive, acme, alice, clock):
    """The window is a row: a new process (here, forgotten caches) finds what A met."""
    flow_create(tenant=acme, user=alice, source=_two_flow_listener("        type: DURATION_WINDOW"))
    for flow_id in ("up_a", "up_b"):
        flow_create(tenant=acme, user=alice, source=flow_yaml(flow_id))
    run(drive, acme, "company.team", "up_a")
    evaluate(drive, acme)
    from executions import snapshots

    snapshots.forget_all()
    clock["at"] += timedelta(hours=1)
    run(drive, acme, "company.team", "up_b")
    assert [e.flow_id for e in evaluate(drive, acme)] == ["listener"]


def test_a_precondition_on_a_missing_flow_is_accepted_with_a_warning(acme, alice, alice_api):
    response = alice_api.post(
        "/api/v1/acme/flows/validate", SILVER_LAYER, content_type="application/x-yaml"
    )
    assert response.status_code == 200, response.content
    result = response.json()[0]
    assert result["violations"] == []
    warned = {w["path"]: w for w in result["warnings"]}
    assert set(warned) == {
        "triggers[0].preconditions.flows[0]",
        "triggers[0].preconditions.flows[1]",
    }
    assert (
        "company.team.bronze_layer does not exist"
        in warned["triggers[0].preconditions.flows[0]"]["message"]
    )
    assert warned["triggers[0].preconditions.flows[1]"]["line"] == 19

    flow_create(tenant=acme, user=alice, source=SILVER_LAYER)  # saved all the same
    row = Trigger.objects.for_tenant(acme).get(flow_id="silver_layer")
    assert "bronze_layer does not exist" in row.warning
    assert "bronze_layer_2 does not exist" in row.warning

    flow_create(tenant=acme, user=alice, source=flow_yaml("bronze_layer"))
    flow_create(tenant=acme, user=alice, source=flow_yaml("bronze_layer_2"))
    row.refresh_from_db()
    assert row.warning == ""


def test_expired_windows_are_purged(drive, acme, alice, clock):
    flow_create(tenant=acme, user=alice, source=_two_flow_listener("        type: DURATION_WINDOW"))
    for flow_id in ("up_a", "up_b"):
        flow_create(tenant=acme, user=alice, source=flow_yaml(flow_id))
    clock["at"] = datetime.now(UTC) - timedelta(days=2)
    run(drive, acme, "company.team", "up_a")
    evaluate(drive, acme)
    assert PreconditionWindow.objects.for_tenant(acme).count() == 1
    assert flow_triggers.windows_purge_expired() == 1
    assert not PreconditionWindow.objects.for_tenant(acme).exists()


LEGACY_MULTIPLE = """id: listener
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: both
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS]
      - id: multiple
        type: io.kestra.core.models.conditions.types.MultipleCondition
        window: P1D
        conditions:
          flow-a:
            type: io.kestra.plugin.core.condition.ExecutionFlow
            namespace: company.team
            flowId: up_a
          flow-b:
            type: io.kestra.plugin.core.condition.ExecutionFlow
            namespace: company.team
            flowId: up_b
"""


def test_the_legacy_multiple_condition_waits_for_each_of_its_conditions(drive, acme, alice):
    flow_create(tenant=acme, user=alice, source=LEGACY_MULTIPLE)
    for flow_id in ("up_a", "up_b"):
        flow_create(tenant=acme, user=alice, source=flow_yaml(flow_id))
    keys = {t.flow_id for t in flow_triggers.candidates(acme, "company.team", "up_b", "SUCCESS")}
    assert keys == {"listener"}

    run(drive, acme, "company.team", "up_a")
    assert evaluate(drive, acme) == []
    window = PreconditionWindow.objects.for_tenant(acme).get()
    assert (window.condition_id, set(window.results)) == ("multiple", {"flow-a"})
    run(drive, acme, "company.team", "up_b")
    assert [e.flow_id for e in evaluate(drive, acme)] == ["listener"]


def test_transitions_of_a_tenant_without_flow_triggers_are_dropped_unmatched(
    drive, acme, alice, django_assert_max_num_queries
):
    flow_create(tenant=acme, user=alice, source=flow_yaml("up_a"))
    assert acme.has_flow_triggers is False
    run(drive, acme, "company.team", "up_a")
    assert ExecutionTransition.all_tenants.count() == 2  # RUNNING, SUCCESS
    with django_assert_max_num_queries(5):  # savepoint, claim, held elsewhere?, delete, release
        assert flow_triggers.transitions_process() == 2
    assert not ExecutionTransition.all_tenants.exists()


WATCHED = """id: watched
namespace: company.team
inputs:
  - id: late
    type: BOOLEAN
    defaults: false
sla:
  - id: on_time
    type: EXECUTION_ASSERTION
    behavior: NONE
    assert: "{{ not inputs.late }}"
    labels:
      sla: violated
tasks:
  - id: work
    type: io.kestra.plugin.core.log.Log
    message: working
"""

SLA_ALERT = """id: sla_alert
namespace: company.monitoring
tasks:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.flowId }} missed its SLA"
triggers:
  - id: on_violation
    type: io.kestra.plugin.core.trigger.Flow
    states: [SUCCESS, WARNING, FAILED, CANCELLED]
    preconditions:
      id: violated
      flows:
        - namespace: company.team
          labels:
            sla: violated
"""


def test_an_sla_violation_is_matched_by_a_flow_trigger_to_alert(drive, acme, alice):
    flow_create(tenant=acme, user=alice, source=WATCHED)
    flow_create(tenant=acme, user=alice, source=SLA_ALERT)
    run(drive, acme, "company.team", "watched", inputs={"late": False})
    assert evaluate(drive, acme) == []
    late = run(drive, acme, "company.team", "watched", inputs={"late": True})
    assert {"key": "sla", "value": "violated"} in late.labels
    started = evaluate(drive, acme)
    assert [e.flow_id for e in started] == ["sla_alert"]
    assert started[0].trigger["variables"]["executionId"] == late.id
