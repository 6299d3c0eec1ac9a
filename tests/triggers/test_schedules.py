"""The scheduler's Schedule triggers on PostgreSQL, with a fixed clock (`now` passed in): the
execution a tick starts, the trigger lock and stopAfter, invalid inputs and conditions,
lateMaximumDelay, recoverMissedSchedules, and a flow's concurrency limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from executions.models import Execution, LogEntry
from executions.services import execution_advance
from flows.services import flow_create
from tests.triggers.schedule_support import (  # noqa: F401 - fixture
    _fresh_scheduler_caches,
    create_scheduled,
    dates_of,
    due_at,
    end,
    executions_of,
    scheduled_flow,
    utc,
)
from triggers.models import Trigger
from triggers.scheduler import (
    schedule_locks_release,
    schedules_recover_missed,
    schedules_run_due,
)

pytestmark = pytest.mark.django_db

HOURLY = """\
cron: "0 * * * *"
"""


def _row(trigger: Trigger) -> Trigger:
    return Trigger.objects.for_tenant(trigger.tenant).get(pk=trigger.pk)


def test_a_tick_starts_an_execution_with_the_trigger_variables_labels_and_inputs(acme, alice):
    trigger = create_scheduled(
        acme,
        alice,
        "report",
        """\
        cron: "0 9 * * *"
        timezone: Europe/Paris
        labels:
          day: "{{ trigger.date | date('yyyy-MM-dd') }}"
          team: schedulers
        inputs:
          when: "{{ trigger.date }}"
          size: 7
        """,
        extra="""\
        labels:
          team: data
          owner: ops
        inputs:
          - id: when
            type: DATETIME
          - id: size
            type: INT
          - id: region
            type: STRING
            defaults: eu
        """,
    )
    tick = utc(2024, 3, 30, 8)  # 09:00 in Paris
    due_at(trigger, tick)
    assert schedules_run_due(now=tick + timedelta(seconds=1)) == 1
    (execution,) = executions_of(acme, "report")
    assert execution.state == "CREATED"  # the executor starts it, on the message sent
    variables = {
        "date": "2024-03-30T09:00:00+01:00",
        "next": "2024-03-31T09:00:00+02:00",
        "previous": "2024-03-29T09:00:00+01:00",
    }
    assert execution.trigger == {
        "id": "every",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "variables": variables,
    }
    assert execution.variables == {"schedule": variables}
    assert execution.schedule_date is None  # Kestra sets no scheduleDate on these
    labels = {label["key"]: label["value"] for label in execution.labels}
    assert labels == {
        "team": "schedulers",  # the trigger's label wins over the flow's
        "owner": "ops",
        "day": "2024-03-30",
        "system.correlationId": execution.id,
    }
    assert execution.inputs == {"when": "2024-03-30T08:00:00Z", "size": 7, "region": "eu"}
    row = _row(trigger)
    assert row.execution_id == execution.id  # the lock
    assert row.last_date == tick
    assert row.next_date == utc(2024, 3, 31, 7)


def test_a_locked_trigger_waits_for_its_execution_then_runs_the_ticks_it_missed(acme, alice):
    trigger = create_scheduled(acme, alice, "hourly", HOURLY)
    due_at(trigger, utc(2024, 1, 1, 10))
    now = utc(2024, 1, 1, 12, 30)
    assert schedules_run_due(now=now) == 1
    assert schedules_run_due(now=now) == 0  # 11:00 is due, but the 10:00 run is not over
    (first,) = executions_of(acme, "hourly")
    end(acme, first.id)
    assert schedules_run_due(now=now) == 1
    assert dates_of(acme, "hourly") == ["2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z"]
    second = executions_of(acme, "hourly")[1]
    assert _row(trigger).execution_id == second.id
    Execution.objects.for_tenant(acme).filter(pk=second.id).delete()  # a deleted run unlocks
    assert schedules_run_due(now=now) == 1
    assert dates_of(acme, "hourly")[-1] == "2024-01-01T12:00:00Z"


def test_stop_after_disables_the_trigger_when_its_execution_ends_so(acme, alice):
    trigger = create_scheduled(acme, alice, "fragile", HOURLY + "stopAfter: [FAILED]\n")
    due_at(trigger, utc(2024, 1, 1, 10))
    schedules_run_due(now=utc(2024, 1, 1, 10, 0, 1))
    (execution,) = executions_of(acme, "fragile")
    end(acme, execution.id, "SUCCESS")
    assert schedule_locks_release() == 1
    assert (_row(trigger).disabled, _row(trigger).execution_id) == (False, "")
    schedules_run_due(now=utc(2024, 1, 1, 11, 0, 1))
    second = executions_of(acme, "fragile")[1]
    end(acme, second.id, "FAILED")
    assert schedule_locks_release() == 1
    row = _row(trigger)
    assert (row.disabled, row.execution_id) == (True, "")
    assert schedules_run_due(now=utc(2024, 1, 1, 15)) == 0  # disabled: nothing runs


def test_a_disabled_trigger_or_flow_starts_nothing(acme, alice):
    trigger = create_scheduled(acme, alice, "quiet", HOURLY + "disabled: true\n")
    due_at(trigger, utc(2024, 1, 1, 10))
    other = create_scheduled(acme, alice, "paused", HOURLY)
    Trigger.objects.for_tenant(acme).filter(pk=other.pk).update(disabled=True)
    due_at(other, utc(2024, 1, 1, 10))
    assert schedules_run_due(now=utc(2024, 1, 1, 12)) == 0
    assert Execution.objects.for_tenant(acme).count() == 0


def test_an_invalid_input_gives_a_failed_execution_saying_why(acme, alice):
    trigger = create_scheduled(
        acme,
        alice,
        "typed",
        HOURLY + "inputs:\n  size: seven\n  other: '{{ nope.missing }}'\n",
        extra="inputs:\n  - id: size\n    type: INT\n",
    )
    due_at(trigger, utc(2024, 1, 1, 10))
    assert schedules_run_due(now=utc(2024, 1, 1, 10, 0, 1)) == 1
    (execution,) = executions_of(acme, "typed")
    assert execution.state == "FAILED"
    assert [h[0] for h in execution.histories] == ["CREATED", "FAILED"]
    messages = list(
        LogEntry.objects.for_tenant(acme)
        .filter(execution_id=execution.id, level="ERROR")
        .values_list("message", flat=True)
    )
    assert any(m.startswith("Invalid input 'inputs.other': cannot be rendered") for m in messages)
    assert any(m.startswith("Invalid input 'inputs.size'") for m in messages)
    row = _row(trigger)
    assert row.execution_id == ""  # a FAILED execution holds nothing
    assert row.next_date == utc(2024, 1, 1, 11)


def test_a_condition_that_cannot_render_gives_a_failed_execution(acme, alice):
    trigger = create_scheduled(
        acme,
        alice,
        "unsure",
        HOURLY
        + "stopAfter: [FAILED]\nconditions:\n"
        + "  - type: io.kestra.plugin.core.condition.Expression\n"
        + "    expression: '{{ nope.missing }}'\n",
    )
    due_at(trigger, utc(2024, 1, 1, 10))
    assert schedules_run_due(now=utc(2024, 1, 1, 10, 0, 1)) == 1
    (execution,) = executions_of(acme, "unsure")
    assert execution.state == "FAILED"
    (log,) = LogEntry.objects.for_tenant(acme).filter(execution_id=execution.id)
    assert log.level == "ERROR"
    assert log.message.startswith("Unable to evaluate the Schedule trigger 'every': ")
    row = _row(trigger)
    assert row.warning == log.message
    assert row.disabled is True  # stopAfter FAILED applies to that FAILED execution too


def test_conditions_skip_the_ticks_they_refuse(acme, alice):
    trigger = create_scheduled(
        acme,
        alice,
        "weekdays",
        """\
        cron: "0 6 * * *"
        conditions:
          - type: io.kestra.plugin.core.condition.Not
            conditions:
              - type: io.kestra.plugin.core.condition.Weekend
        """,
    )
    due_at(trigger, utc(2024, 1, 6, 6))  # a Saturday
    assert schedules_run_due(now=utc(2024, 1, 6, 6, 0, 1)) == 0
    assert _row(trigger).next_date == utc(2024, 1, 8, 6)  # straight to Monday
    assert _row(trigger).last_date == utc(2024, 1, 6, 6)


def test_late_ticks_are_skipped(acme, alice):
    trigger = create_scheduled(acme, alice, "punctual", HOURLY + "lateMaximumDelay: PT10M\n")
    due_at(trigger, utc(2024, 1, 1, 10))
    assert schedules_run_due(now=utc(2024, 1, 1, 13, 5)) == 0
    assert _row(trigger).next_date == utc(2024, 1, 1, 13)
    assert schedules_run_due(now=utc(2024, 1, 1, 13, 5)) == 1
    assert dates_of(acme, "punctual") == ["2024-01-01T13:00:00Z"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("ALL", ["2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z", "2024-01-01T12:00:00Z"]),
        ("LAST", ["2024-01-01T12:00:00Z"]),
        ("NONE", []),
    ],
)
def test_recover_missed_schedules_after_a_downtime(acme, alice, policy, expected):
    trigger = create_scheduled(
        acme, alice, f"missed-{policy.lower()}", HOURLY + f"recoverMissedSchedules: {policy}\n"
    )
    due_at(trigger, utc(2024, 1, 1, 10))  # the scheduler was down from 09:59 to 12:30
    now = utc(2024, 1, 1, 12, 30)
    schedules_recover_missed(now=now)
    for _ in range(5):
        schedules_run_due(now=now)
        for execution in executions_of(acme, trigger.flow_id):
            end(acme, execution.id)
    assert dates_of(acme, trigger.flow_id) == expected
    assert _row(trigger).next_date == utc(2024, 1, 1, 13)


def test_a_flow_concurrency_limit_holds_for_scheduled_executions(acme, alice):
    source = scheduled_flow(
        "limited", HOURLY, extra="concurrency:\n  limit: 1\n  behavior: CANCEL\n"
    )
    source += "  - id: again\n    type: io.kestra.plugin.core.trigger.Schedule\n"
    source += "    cron: '0 * * * *'\n"
    flow_create(tenant=acme, user=alice, source=source)
    for row in Trigger.objects.for_tenant(acme).filter(flow_id="limited"):
        due_at(row, utc(2024, 1, 1, 10))
    assert schedules_run_due(now=utc(2024, 1, 1, 10, 0, 1)) == 2
    first, second = Execution.objects.for_tenant(acme).filter(flow_id="limited")
    # the executor's first decision, as the messages sent after commit ask for
    execution_advance(tenant=acme, execution_id=first.id)
    execution_advance(tenant=acme, execution_id=second.id)
    states = Execution.objects.for_tenant(acme).filter(flow_id="limited").values_list("state")
    assert sorted(state for (state,) in states) == ["CANCELLED", "RUNNING"]


def test_another_tenants_trigger_runs_in_its_own_tenant(acme, alice, globex, mallory):
    ours = create_scheduled(acme, alice, "mine", HOURLY)
    theirs = create_scheduled(globex, mallory, "mine", HOURLY)
    due_at(ours, utc(2024, 1, 1, 10))
    due_at(theirs, utc(2024, 1, 1, 10))
    assert schedules_run_due(now=utc(2024, 1, 1, 10, 0, 1)) == 2
    (acme_run,) = executions_of(acme, "mine")
    (globex_run,) = executions_of(globex, "mine")
    assert {label["value"] for label in acme_run.labels} == {acme_run.id}
    assert acme_run.id != globex_run.id
    assert _row(ours).execution_id == acme_run.id
    assert _row(theirs).execution_id == globex_run.id


def test_tasks_read_the_tick_as_trigger_and_as_schedule(acme, alice, drive):
    # the flow's task logs "tick {{ trigger.date }}" (schedule_support.scheduled_flow)
    trigger = create_scheduled(acme, alice, "templated", HOURLY + "timezone: America/New_York\n")
    due_at(trigger, utc(2024, 3, 10, 7))  # 03:00 EDT, the hour after the spring change
    drive(acme, lambda: schedules_run_due(now=utc(2024, 3, 10, 7, 0, 1)))
    (execution,) = executions_of(acme, "templated")
    assert execution.state == "SUCCESS"
    messages = LogEntry.objects.for_tenant(acme).filter(execution_id=execution.id)
    assert "tick 2024-03-10T03:00:00-04:00" in [entry.message for entry in messages]
    assert execution.variables["schedule"]["previous"] == "2024-03-10T01:00:00-05:00"
