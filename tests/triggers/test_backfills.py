"""Backfills of Schedule triggers: the services the API and the pages call, and the scheduler
walking them (executions driven to their end in-process: executor and worker code run here
on the messages the scheduler sends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.models import Execution
from tenants.errors import Conflict, InvalidInput, Unprocessable
from tests.triggers.schedule_support import (  # noqa: F401 - fixture
    _fresh_scheduler_caches,
    create_scheduled,
    dates_of,
    due_at,
    end,
    executions_of,
)
from triggers.backfills import (
    backfill_delete,
    backfill_progress,
    backfill_set_paused,
    backfill_start,
)
from triggers.models import Trigger
from triggers.scheduler import schedules_run_due

pytestmark = pytest.mark.django_db

DAILY = 'cron: "0 0 * * *"\ninputs:\n  region: eu\nlabels:\n  origin: schedule\n'
FLOW_INPUTS = """\
inputs:
  - id: region
    type: STRING
  - id: size
    type: INT
    defaults: 1
"""


def _midnight(days_ago: int):
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


@pytest.fixture
def daily(acme, alice) -> Trigger:
    return create_scheduled(acme, alice, "nightly", DAILY, extra=FLOW_INPUTS)


def _row(trigger: Trigger) -> Trigger:
    return Trigger.objects.for_tenant(trigger.tenant).get(pk=trigger.pk)


def test_a_backfill_over_three_days_runs_one_execution_per_day(acme, daily, drive):
    normal_next = daily.next_date
    backfill_start(
        tenant=acme,
        trigger=daily,
        start=_midnight(3),
        end=_midnight(1) + timedelta(hours=12),
        inputs={"size": "5"},
        labels=[{"key": "run", "value": "catch-up {{ trigger.date | date('d') }}"}],
    )
    progress = backfill_progress(_row(daily))
    assert progress == {
        "total": 3,
        "done": 0,
        "percent": 0,
        "currentDate": _row(daily).backfill["currentDate"],
        "end": _row(daily).backfill["end"],
        "paused": False,
    }
    for _ in range(6):  # each pass runs the next tick once the previous execution ended
        drive(acme, lambda: schedules_run_due())
    executions = executions_of(acme, "nightly")
    expected = [_midnight(days).isoformat().replace("+00:00", "Z") for days in (3, 2, 1)]
    assert [e.trigger["variables"]["date"] for e in executions] == expected
    assert {e.state for e in executions} == {"SUCCESS"}
    for execution in executions:
        assert execution.inputs == {"region": "eu", "size": 5}  # the backfill's over the flow's
        labels = {label["key"]: label["value"] for label in execution.labels}
        day = execution.trigger["variables"]["date"][8:10].lstrip("0")
        assert labels["run"] == f"catch-up {day}"
        assert labels["origin"] == "schedule"
    row = _row(daily)
    assert row.backfill is None  # done: removed, as in Kestra
    assert row.next_date == normal_next  # the schedule's own ticks resume where they were
    assert backfill_progress(row) is None


def test_the_normal_ticks_wait_while_a_backfill_runs(acme, daily):
    backfill_start(tenant=acme, trigger=daily, start=_midnight(2), end=_midnight(2))
    now = timezone.now()
    assert schedules_run_due(now=now) == 1
    (execution,) = executions_of(acme, "nightly")
    assert execution.trigger["variables"]["date"].startswith(_midnight(2).date().isoformat())
    end(acme, execution.id)
    assert schedules_run_due(now=now) == 0  # the backfill ended; today's tick is not due yet
    assert _row(daily).backfill is None


def test_a_paused_backfill_starts_nothing_until_resumed(acme, daily):
    backfill_start(tenant=acme, trigger=daily, start=_midnight(3), end=_midnight(1))
    paused = backfill_set_paused(tenant=acme, trigger=daily, paused=True)
    assert paused.backfill["paused"] is True
    assert paused.next_date is None
    assert schedules_run_due(now=timezone.now()) == 0
    assert backfill_progress(paused)["paused"] is True
    resumed = backfill_set_paused(tenant=acme, trigger=daily, paused=False)
    assert resumed.next_date == _midnight(3)
    assert schedules_run_due(now=timezone.now()) == 1
    assert dates_of(acme, "nightly")[0].startswith(_midnight(3).date().isoformat())


def test_deleting_a_backfill_resumes_the_schedule(acme, daily):
    normal_next = daily.next_date
    backfill_start(tenant=acme, trigger=daily, start=_midnight(3))
    row = backfill_delete(tenant=acme, trigger=daily)
    assert row.backfill is None
    assert row.next_date == normal_next
    with pytest.raises(InvalidInput, match="No backfill found"):
        backfill_delete(tenant=acme, trigger=daily)
    with pytest.raises(InvalidInput, match="No backfill found"):
        backfill_set_paused(tenant=acme, trigger=daily, paused=True)


def test_a_second_backfill_is_a_conflict(acme, daily):
    backfill_start(tenant=acme, trigger=daily, start=_midnight(3))
    with pytest.raises(Conflict, match="has a backfill already"):
        backfill_start(tenant=acme, trigger=daily, start=_midnight(5))
    assert _row(daily).backfill["start"].startswith(_midnight(3).date().isoformat())


@pytest.mark.parametrize(
    ("_case", "arguments", "paths"),
    [
        ("no start", {"start": None}, ["start"]),
        ("start in the future", {"start": _midnight(-2)}, ["start", "end"]),
        ("end before start", {"start": _midnight(2), "end": _midnight(4)}, ["end"]),
        ("end in the future", {"start": _midnight(2), "end": _midnight(-1)}, ["end"]),
        ("naive start", {"start": _midnight(2).replace(tzinfo=None)}, ["start"]),
        ("wrong input", {"start": _midnight(2), "inputs": {"size": "seven"}}, ["inputs.size"]),
        (
            "system label",
            {"start": _midnight(2), "labels": {"system.readOnly": "true"}},
            ["labels[0].key"],
        ),
    ],
)
def test_a_bad_backfill_names_its_fields_and_changes_nothing(acme, daily, _case, arguments, paths):
    with pytest.raises(Unprocessable) as refused:
        backfill_start(tenant=acme, trigger=daily, **arguments)
    assert [violation.path for violation in refused.value.violations] == paths
    assert _row(daily).backfill is None
    assert _row(daily).next_date == daily.next_date


def test_the_trigger_inputs_count_when_the_backfill_is_checked(acme, alice):
    # the flow requires `region`, which neither the trigger nor the backfill gives
    bare = create_scheduled(acme, alice, "bare", 'cron: "0 0 * * *"\n', extra=FLOW_INPUTS)
    with pytest.raises(Unprocessable) as refused:
        backfill_start(tenant=acme, trigger=bare, start=_midnight(2))
    assert [violation.path for violation in refused.value.violations] == ["inputs.region"]
    started = backfill_start(tenant=acme, trigger=bare, start=_midnight(2), inputs={"region": "us"})
    assert started.backfill["inputs"] == {"region": "us"}


def test_only_schedule_triggers_are_backfilled(acme, alice):
    from flows.services import flow_create

    flow_create(
        tenant=acme,
        user=alice,
        source="id: hooked\nnamespace: company.team\ntasks:\n"
        "  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        "triggers:\n  - id: hook\n    type: io.kestra.plugin.core.trigger.Webhook\n"
        "    key: abcdefgh\n",
    )
    hook = Trigger.objects.for_tenant(acme).get(trigger_id="hook")
    with pytest.raises(Unprocessable, match="only Schedule triggers can be backfilled"):
        backfill_start(tenant=acme, trigger=hook, start=_midnight(2))


def test_progress_counts_the_ticks_run(acme, daily):
    backfill_start(tenant=acme, trigger=daily, start=_midnight(4), end=_midnight(1))
    now = timezone.now()
    schedules_run_due(now=now)
    (first,) = executions_of(acme, "nightly")
    end(acme, first.id)
    schedules_run_due(now=now)
    progress = backfill_progress(_row(daily))
    assert (progress["total"], progress["done"], progress["percent"]) == (4, 2, 50)
    assert Execution.objects.for_tenant(acme).count() == 2


def test_an_unknown_trigger_is_not_found(acme, daily, globex):
    from tenants.errors import NotFound

    with pytest.raises(NotFound):
        backfill_start(tenant=globex, trigger=daily, start=_midnight(2))
    due_at(daily, daily.next_date)  # unchanged
    assert _row(daily).backfill is None
