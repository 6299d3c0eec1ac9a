"""A Schedule trigger's YAML refused at its line: cron, time zone, durations, enums, and the
conditions a Schedule cannot evaluate on its tick."""

from __future__ import annotations

from flows.spec import validate_flow_source

HEAD = """id: scheduled
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
"""


def _problems(trigger_lines: str) -> dict[str, tuple[int | None, str]]:
    result = validate_flow_source(HEAD + trigger_lines)
    return {v.path: (v.line, v.message) for v in result.violations}


def test_bad_cron_zone_and_durations_are_refused_at_their_line():
    problems = _problems(
        '    cron: "0 25 * * *"\n'  # line 10
        "    timezone: Europe/Atlantis\n"
        "    lateMaximumDelay: one hour\n"
        "    recoverMissedSchedules: SOME\n"
        "    stopAfter: [FAILED, BROKEN]\n"
    )
    assert problems["triggers[0].cron"] == (
        10,
        "invalid cron expression '0 25 * * *': value 25 out of range 0-23 for hours",
    )
    assert problems["triggers[0].timezone"][0] == 11
    assert "Europe/Atlantis" in problems["triggers[0].timezone"][1]
    assert problems["triggers[0].lateMaximumDelay"][0] == 12
    assert "ISO-8601 duration" in problems["triggers[0].lateMaximumDelay"][1]
    assert problems["triggers[0].recoverMissedSchedules"][0] == 13
    assert problems["triggers[0].stopAfter[1]"][0] == 14


def test_six_fields_need_with_seconds_and_five_refuse_it():
    assert "withSeconds" in _problems('    cron: "0 0 9 * * *"\n')["triggers[0].cron"][1]
    assert (
        "expected 6 fields"
        in _problems('    cron: "0 9 * * *"\n    withSeconds: true\n')["triggers[0].cron"][1]
    )
    assert _problems('    cron: "0 0 9 * * *"\n    withSeconds: true\n') == {}


def test_only_schedule_conditions_are_accepted():
    problems = _problems(
        '    cron: "@daily"\n'
        "    conditions:\n"
        "      - type: io.kestra.plugin.core.condition.ExecutionStatus\n"  # line 12
        "        in: [SUCCESS]\n"
        "      - type: io.kestra.plugin.core.condition.Not\n"
        "        conditions:\n"
        "          - type: io.kestra.plugin.core.condition.PublicHoliday\n"  # line 16
        "            country: FR\n"
        "      - type: io.kestra.plugin.core.condition.DayWeek\n"
        "        dayOfWeek: MONDAY\n"
    )
    assert problems == {
        "triggers[0].conditions[0].type": (
            12,
            "ExecutionStatus cannot be used on a Schedule trigger: its conditions are tested "
            "on the tick date (DayWeek, DayWeekInMonth, DateTimeBetween, TimeBetween, Weekend, "
            "Expression, Not, Or)",
        ),
        "triggers[0].conditions[1].conditions[0].type": (
            16,
            "PublicHoliday is not supported: it needs the public holiday calendars of Kestra's "
            "Jollyday library, which Aviary does not ship; use DayWeek, DateTimeBetween or an "
            "Expression over a list of dates instead",
        ),
    }


def test_legacy_names_and_schedule_conditions_pass():
    assert (
        _problems(
            '    cron: "0 9 * * *"\n'
            "    scheduleConditions:\n"
            "      - type: io.kestra.core.models.conditions.types.DayWeekInMonthCondition\n"
            "        dayOfWeek: MONDAY\n"
            "        dayInMonth: FIRST\n"
            "    conditions:\n"
            "      - type: io.kestra.plugin.core.condition.Or\n"
            "        conditions:\n"
            "          - type: io.kestra.plugin.core.condition.Weekend\n"
            "          - type: io.kestra.plugin.core.condition.Expression\n"
            "            expression: \"{{ trigger.date | date('d') == '1' }}\"\n"
        )
        == {}
    )
