"""What a due Schedule trigger decides, with a fixed clock: its tick variables, conditions on
the tick, lateMaximumDelay, recoverMissedSchedules and the walk of a backfill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from executions.engine.rendering import expressions_renderer
from triggers.engine.schedule import (
    Conditions,
    iso,
    next_date,
    parse_schedule,
    recovered_next_date,
    tick_variables,
)
from triggers.engine.ticks import FAIL, RUN, SKIP, WAIT, count_ticks, decide, first_backfill_tick

SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
CONDITION = "io.kestra.plugin.core.condition."


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def schedule(**spec):
    return parse_schedule({"id": "tick", "type": SCHEDULE, **spec})


def render(template, variables):
    return expressions_renderer(variables).render_typed(template)


CONDITIONS = Conditions(flow={"id": "f", "namespace": "company.team"}, render=render)


def test_the_variables_are_zoned_date_times_in_the_trigger_zone():
    daily = schedule(cron="0 9 * * *", timezone="Europe/Paris")
    tick = utc(2024, 3, 30, 8)
    assert tick_variables(daily, tick, CONDITIONS) == {
        "date": "2024-03-30T09:00:00+01:00",
        "next": "2024-03-31T09:00:00+02:00",
        "previous": "2024-03-29T09:00:00+01:00",
    }
    assert iso(schedule(cron="* * * * *"), utc(2024, 1, 1, 10)) == "2024-01-01T10:00:00Z"


def test_a_due_tick_runs_and_the_trigger_moves_to_the_next():
    hourly = schedule(cron="0 * * * *")
    decision = decide(
        hourly,
        next_due=utc(2024, 1, 1, 10),
        backfill=None,
        now=utc(2024, 1, 1, 10, 0, 1),
        conditions=CONDITIONS,
    )
    assert decision.action == RUN
    assert decision.tick == utc(2024, 1, 1, 10)
    assert decision.next_date == utc(2024, 1, 1, 11)
    assert decision.variables["date"] == "2024-01-01T10:00:00Z"


def test_missed_ticks_are_run_one_after_the_other():
    hourly = schedule(cron="0 * * * *")
    decision = decide(
        hourly,
        next_due=utc(2024, 1, 1, 10),
        backfill=None,
        now=utc(2024, 1, 1, 13, 30),
        conditions=CONDITIONS,
    )
    assert (decision.action, decision.next_date) == (RUN, utc(2024, 1, 1, 11))


def test_conditions_are_tested_on_the_tick_in_the_trigger_zone():
    # midnight in Paris on Monday 2024-01-08 is Sunday 23:00 in UTC
    mondays = schedule(
        cron="0 0 * * *",
        timezone="Europe/Paris",
        conditions=[{"type": CONDITION + "DayWeek", "dayOfWeek": "MONDAY"}],
    )
    monday = utc(2024, 1, 7, 23)
    decision = decide(mondays, next_due=monday, backfill=None, now=monday, conditions=CONDITIONS)
    assert decision.action == RUN
    # next and previous are the neighbouring ticks that pass
    assert decision.variables == {
        "date": "2024-01-08T00:00:00+01:00",
        "next": "2024-01-15T00:00:00+01:00",
        "previous": "2024-01-01T00:00:00+01:00",
    }
    assert decision.next_date == utc(2024, 1, 14, 23)
    tuesday = utc(2024, 1, 8, 23)
    skipped = decide(mondays, next_due=tuesday, backfill=None, now=tuesday, conditions=CONDITIONS)
    assert (skipped.action, skipped.reason) == (SKIP, "conditions not met")
    assert skipped.next_date == utc(2024, 1, 14, 23)


@pytest.mark.parametrize(
    ("_case", "condition", "runs"),
    [
        ("weekend", {"type": CONDITION + "Weekend"}, True),
        (
            "not weekend",
            {"type": CONDITION + "Not", "conditions": [{"type": CONDITION + "Weekend"}]},
            False,
        ),
        (
            "or",
            {
                "type": CONDITION + "Or",
                "conditions": [
                    {"type": CONDITION + "DayWeek", "dayOfWeek": "MONDAY"},
                    {"type": CONDITION + "DayWeek", "dayOfWeek": "SATURDAY"},
                ],
            },
            True,
        ),
        (
            "first saturday",
            {"type": CONDITION + "DayWeekInMonth", "dayOfWeek": "SATURDAY", "dayInMonth": "FIRST"},
            True,
        ),
        (
            "between",
            {
                "type": CONDITION + "DateTimeBetween",
                "after": "2024-01-01T00:00:00Z",
                "before": "2024-01-06T12:00:00Z",
            },
            True,
        ),
        ("time between", {"type": CONDITION + "TimeBetween", "after": "11:00:00Z"}, False),
        (
            "expression on trigger.date",
            {
                "type": CONDITION + "Expression",
                "expression": "{{ trigger.date | date('d') == '6' }}",
            },
            True,
        ),
        (
            "expression on schedule.next",
            {"type": CONDITION + "Expression", "expression": "{{ schedule.next is defined }}"},
            True,
        ),
    ],
)
def test_each_schedule_condition(_case, condition, runs):
    saturday_ten = utc(2024, 1, 6, 10)
    daily = schedule(cron="0 10 * * *", conditions=[condition])
    decision = decide(
        daily, next_due=saturday_ten, backfill=None, now=saturday_ten, conditions=CONDITIONS
    )
    assert decision.action == (RUN if runs else SKIP)


def test_a_condition_that_cannot_render_fails_the_tick():
    broken = schedule(
        cron="0 10 * * *",
        conditions=[{"type": CONDITION + "Expression", "expression": "{{ nope.missing }}"}],
    )
    tick = utc(2024, 1, 6, 10)
    decision = decide(broken, next_due=tick, backfill=None, now=tick, conditions=CONDITIONS)
    assert decision.action == FAIL
    assert decision.reason.startswith("Unable to evaluate the Schedule trigger 'tick': ")
    assert "nope" in decision.reason
    assert decision.next_date == utc(2024, 1, 7, 10)  # the plain next tick: not every second


def test_late_ticks_are_skipped():
    late = schedule(cron="*/10 * * * *", lateMaximumDelay="PT15M")
    now = utc(2024, 1, 1, 12, 3)
    decision = decide(
        late, next_due=utc(2024, 1, 1, 11, 0), backfill=None, now=now, conditions=CONDITIONS
    )
    assert decision.action == SKIP
    assert decision.reason == "late by more than 0:15:00"
    # the first tick not older than 15 minutes
    assert decision.next_date == utc(2024, 1, 1, 11, 50)
    fresh = decide(
        late, next_due=utc(2024, 1, 1, 11, 50), backfill=None, now=now, conditions=CONDITIONS
    )
    assert (fresh.action, fresh.next_date) == (RUN, utc(2024, 1, 1, 12))
    assert next_date(late, utc(2024, 1, 1, 12), now, CONDITIONS) == utc(2024, 1, 1, 12, 10)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("ALL", utc(2024, 1, 1, 10)),  # every missed tick, from the first
        ("LAST", utc(2024, 1, 1, 13)),  # only the latest
        ("NONE", utc(2024, 1, 1, 14)),  # none: the next one to come
        (None, utc(2024, 1, 1, 10)),  # Kestra's default is ALL
    ],
)
def test_recover_missed_schedules(policy, expected):
    spec = {"cron": "0 * * * *"} | ({"recoverMissedSchedules": policy} if policy else {})
    hourly = schedule(**spec)
    now = utc(2024, 1, 1, 13, 30)
    assert recovered_next_date(hourly, utc(2024, 1, 1, 10), now, CONDITIONS) == expected


def test_nothing_is_missed_while_the_next_tick_is_to_come_or_within_the_grace():
    hourly = schedule(cron="0 * * * *", recoverMissedSchedules="NONE")
    now = utc(2024, 1, 1, 13, 0, 10)
    assert recovered_next_date(hourly, utc(2024, 1, 1, 14), now, CONDITIONS) == utc(2024, 1, 1, 14)
    grace = timedelta(seconds=30)
    assert recovered_next_date(hourly, utc(2024, 1, 1, 13), now, CONDITIONS, grace) == utc(
        2024, 1, 1, 13
    )


def _backfill(start: datetime, end: datetime, daily) -> dict:
    return {
        "start": iso(daily, start),
        "end": iso(daily, end),
        "currentDate": iso(daily, first_backfill_tick(daily, start)),
        "paused": False,
        "inputs": {},
        "labels": [],
        "previousNextExecutionDate": iso(daily, utc(2024, 2, 1)),
        "done": 0,
    }


def test_a_backfill_walks_every_tick_from_start_to_end_then_resumes_the_schedule():
    daily = schedule(cron="0 0 * * *")
    backfill = _backfill(utc(2024, 1, 1), utc(2024, 1, 3, 12), daily)
    now = utc(2024, 2, 1, 9)
    seen = []
    while backfill is not None:
        decision = decide(daily, next_due=None, backfill=backfill, now=now, conditions=CONDITIONS)
        assert decision.action == RUN
        seen.append(decision.variables["date"])
        backfill = decision.backfill
    assert seen == ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]
    assert decision.next_date == utc(2024, 2, 1)  # previousNextExecutionDate
    assert count_ticks(daily, utc(2024, 1, 1), utc(2024, 1, 3, 12), 100) == 3


def test_a_backfill_keeps_late_ticks_and_counts_its_progress():
    daily = schedule(cron="0 0 * * *", lateMaximumDelay="PT1H")
    backfill = _backfill(utc(2024, 1, 1), utc(2024, 1, 2), daily)
    decision = decide(
        daily, next_due=None, backfill=backfill, now=utc(2024, 3, 1), conditions=CONDITIONS
    )
    assert decision.action == RUN
    assert decision.backfill["currentDate"] == "2024-01-02T00:00:00Z"
    assert decision.backfill["done"] == 1
    assert decision.next_date == utc(2024, 1, 2)


def test_a_paused_backfill_waits_and_an_empty_one_ends():
    daily = schedule(cron="0 0 * * *")
    paused = {**_backfill(utc(2024, 1, 1), utc(2024, 1, 3), daily), "paused": True}
    decision = decide(
        daily, next_due=None, backfill=paused, now=utc(2024, 2, 1), conditions=CONDITIONS
    )
    assert (decision.action, decision.next_date, decision.backfill) == (WAIT, None, paused)
    # no tick between 01:00 and 23:00: nothing to run, the schedule resumes
    empty = _backfill(utc(2024, 1, 1, 1), utc(2024, 1, 1, 23), daily)
    decision = decide(
        daily, next_due=None, backfill=empty, now=utc(2024, 2, 1), conditions=CONDITIONS
    )
    assert (decision.action, decision.backfill, decision.next_date) == (SKIP, None, utc(2024, 2, 1))


def test_a_backfill_skips_the_ticks_its_conditions_refuse():
    weekdays = schedule(
        cron="0 0 * * *",
        conditions=[{"type": CONDITION + "Not", "conditions": [{"type": CONDITION + "Weekend"}]}],
    )
    # Friday 5th to Monday 8th January 2024
    backfill = _backfill(utc(2024, 1, 5), utc(2024, 1, 8), weekdays)
    actions = []
    while backfill is not None:
        decision = decide(
            weekdays, next_due=None, backfill=backfill, now=utc(2024, 2, 1), conditions=CONDITIONS
        )
        actions.append((decision.action, decision.tick.day))
        backfill = decision.backfill
    assert actions == [(RUN, 5), (RUN, 8)]


def test_stop_after_and_plugin_defaults_are_read():
    parsed = parse_schedule(
        {"id": "s", "type": SCHEDULE, "cron": "@daily", "stopAfter": ["FAILED"]},
        [{"type": "io.kestra.plugin.core.trigger", "values": {"timezone": "Asia/Tokyo"}}],
    )
    assert parsed.stop_after == frozenset({"FAILED"})
    assert parsed.cron.next(utc(2024, 1, 1, 12)) == utc(2024, 1, 1, 15)  # midnight in Tokyo
