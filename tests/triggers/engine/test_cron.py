"""Schedule ticks: five fields, six with `withSeconds`, nicknames, time zones and the two DST
changes of a year (Europe/Paris, America/New_York), on fixed dates."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from triggers.engine.cron import Cron, CronError, next_tick, previous_tick

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def walk(cron: Cron, start: datetime, count: int) -> list[str]:
    ticks = []
    for tick in cron.after(start):
        ticks.append(cron.local(tick).isoformat())
        if len(ticks) == count:
            return ticks
    return ticks


def test_it_fires_every_minute_in_utc_by_default():
    cron = Cron({"cron": "* * * * *"})
    assert cron.next(utc(2024, 1, 1, 10, 0, 30)) == utc(2024, 1, 1, 10, 1)
    assert cron.next(utc(2024, 1, 1, 10, 1)) == utc(2024, 1, 1, 10, 2)  # strictly after
    assert cron.previous(utc(2024, 1, 1, 10, 1)) == utc(2024, 1, 1, 10, 0)
    assert cron.previous(utc(2024, 1, 1, 10, 1, 0, 500)) == utc(2024, 1, 1, 10, 1)


def test_with_seconds_the_first_field_is_the_second():
    cron = Cron({"cron": "*/15 * * * * *", "withSeconds": True})
    assert walk(cron, utc(2024, 1, 1, 10, 0, 1), 4) == [
        "2024-01-01T10:00:15+00:00",
        "2024-01-01T10:00:30+00:00",
        "2024-01-01T10:00:45+00:00",
        "2024-01-01T10:01:00+00:00",
    ]


@pytest.mark.parametrize(
    ("nickname", "after", "expected"),
    [
        ("@hourly", utc(2024, 1, 1, 10, 5), utc(2024, 1, 1, 11)),
        ("@daily", utc(2024, 1, 1, 10), utc(2024, 1, 2)),
        ("@midnight", utc(2024, 1, 1, 10), utc(2024, 1, 2)),
        ("@weekly", utc(2024, 1, 1, 10), utc(2024, 1, 7)),  # Sunday
        ("@monthly", utc(2024, 1, 15), utc(2024, 2, 1)),
        ("@yearly", utc(2024, 1, 15), utc(2025, 1, 1)),
        ("@annually", utc(2024, 1, 15), utc(2025, 1, 1)),
    ],
)
def test_nicknames(nickname, after, expected):
    assert next_tick({"cron": nickname}, after) == expected


def test_a_daily_time_is_local_to_the_trigger_zone():
    cron = Cron({"cron": "0 9 * * *", "timezone": "Europe/Paris"})
    assert cron.next(utc(2024, 1, 15, 12)) == utc(2024, 1, 16, 8)  # 09:00 CET
    assert cron.next(utc(2024, 7, 15, 12)) == utc(2024, 7, 16, 7)  # 09:00 CEST
    offset = Cron({"cron": "0 9 * * *", "timezone": "UTC+2"})
    assert offset.next(utc(2024, 1, 15, 12)) == utc(2024, 1, 16, 7)


def test_paris_spring_forward_fires_the_skipped_time_right_after_the_change():
    # 2024-03-31: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day
    cron = Cron({"cron": "30 2 * * *", "timezone": "Europe/Paris"})
    assert walk(cron, utc(2024, 3, 29, 12), 3) == [
        "2024-03-30T02:30:00+01:00",
        "2024-03-31T03:00:00+02:00",
        "2024-04-01T02:30:00+02:00",
    ]


def test_paris_fall_back_fires_a_repeated_time_once():
    # 2024-10-27: 03:00 CEST becomes 02:00 CET; 02:30 happens twice
    cron = Cron({"cron": "30 2 * * *", "timezone": "Europe/Paris"})
    ticks = walk(cron, utc(2024, 10, 26, 12), 3)
    assert ticks == [
        "2024-10-27T02:30:00+02:00",
        "2024-10-28T02:30:00+01:00",
        "2024-10-29T02:30:00+01:00",
    ]
    # asked from inside the repeated hour, after the first 02:30: the next is tomorrow's
    assert cron.next(utc(2024, 10, 27, 1, 10)) == utc(2024, 10, 28, 1, 30)


def test_an_hourly_schedule_runs_in_both_passes_of_the_repeated_hour():
    cron = Cron({"cron": "0 * * * *", "timezone": "Europe/Paris"})
    assert walk(cron, utc(2024, 10, 26, 22, 30), 4) == [
        "2024-10-27T01:00:00+02:00",
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:00:00+01:00",
        "2024-10-27T03:00:00+01:00",
    ]


def test_new_york_changes():
    cron = Cron({"cron": "30 2 * * *", "timezone": "America/New_York"})
    # 2024-03-10: 02:00 EST becomes 03:00 EDT
    assert walk(cron, utc(2024, 3, 9, 12), 2) == [
        "2024-03-10T03:00:00-04:00",
        "2024-03-11T02:30:00-04:00",
    ]
    early = Cron({"cron": "30 1 * * *", "timezone": "America/New_York"})
    # 2024-11-03: 02:00 EDT becomes 01:00 EST; 01:30 happens twice, fires once
    assert walk(early, utc(2024, 11, 2, 12), 2) == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-04T01:30:00-05:00",
    ]


def test_ticks_never_go_back_in_time_around_the_changes():
    for expression in ("*/20 * * * *", "0 2 * * *", "30 1 * * 0", "*/7 * * * *"):
        for zone in ("Europe/Paris", "America/New_York"):
            cron = Cron({"cron": expression, "timezone": zone})
            for start in (utc(2024, 3, 8), utc(2024, 10, 25)):
                previous = start
                for tick in cron.after(start):
                    if tick > start + timedelta(days=10):
                        break
                    assert tick > previous
                    previous = tick


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *",
        "*/5 * * * *",
        "30 2 * * *",
        "0 1,2,3 * * *",
        "15 2 * * 1-5",
        "0 0 1 * *",
        "0 9 * * MON",
        "*/10 * * * * *",
        "0 30 2 * * *",
    ],
)
def test_the_parsed_walk_matches_cronsim(expression):
    """`Cron` copies a parsed cronsim prototype instead of parsing on every walk: the same
    ticks as a fresh CronSim, in every zone, forwards and backwards, around both changes."""
    rng = random.Random(expression)
    for zone in (UTC, PARIS, NEW_YORK):
        name = "UTC" if zone is UTC else str(zone)
        cron = Cron({"cron": expression, "timezone": name})
        for _ in range(15):
            start = utc(2024, 3, 9) + timedelta(seconds=rng.randrange(0, 3600 * 24 * 240))
            for reverse in (False, True):
                fresh = CronSim(expression, start.astimezone(zone), reverse=reverse)
                ours = cron.before(start) if reverse else cron.after(start)
                expected = [
                    t.astimezone(UTC)
                    for t in (next(fresh) for _ in range(5))
                    if (t < start if reverse else t > start)
                ]
                got = [next(ours) for _ in range(len(expected))]
                assert got == expected, (name, start, reverse)


def test_previous_and_next_of_the_spec():
    spec = {"cron": "0 * * * *", "timezone": "Europe/Paris"}
    assert previous_tick(spec, utc(2024, 1, 1, 10, 30)) == utc(2024, 1, 1, 10)
    assert next_tick(spec, utc(2024, 1, 1, 10, 30)) == utc(2024, 1, 1, 11)
    assert next_tick({"cron": "61 * * * *"}, utc(2024, 1, 1)) is None


def test_an_unusable_cron_or_zone_is_a_cron_error():
    with pytest.raises(CronError, match="invalid cron expression '61 \\* \\* \\* \\*'"):
        Cron({"cron": "61 * * * *"})
    with pytest.raises(CronError, match="Mars/Olympus"):
        Cron({"cron": "* * * * *", "timezone": "Mars/Olympus"})
