"""DATETIME, DATE, TIME and DURATION inputs: parsing, the normalized text and the bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest


@pytest.mark.parametrize(
    ("_case", "given", "expected"),
    [
        ("utc", "2019-10-06T18:27:49Z", "2019-10-06T18:27:49Z"),
        ("offset", "2019-10-06T20:27:49+02:00", "2019-10-06T18:27:49Z"),
        ("compact offset", "2019-10-06T13:27:49-0500", "2019-10-06T18:27:49Z"),
        ("milliseconds", "2019-10-06T18:27:49.500Z", "2019-10-06T18:27:49.500Z"),
        (
            "nanoseconds are cut to micros",
            "2019-10-06T18:27:49.123456789Z",
            "2019-10-06T18:27:49.123456Z",
        ),
        ("no seconds", "2019-10-06T18:27Z", "2019-10-06T18:27:00Z"),
        (
            "typed aware datetime",
            datetime(2019, 10, 6, 18, 27, 49, tzinfo=UTC),
            "2019-10-06T18:27:49Z",
        ),
    ],
)
def test_it_reads_instants_and_stores_them_in_utc(one, _case, given, expected):
    assert one({"type": "DATETIME"}, given) == (expected, None)


@pytest.mark.parametrize(
    "given",
    [
        "2019-10-06T18:27:49",  # no zone: Instant.parse refuses it
        "2019-10-06 18:27:49Z",
        "2019-13-06T18:27:49Z",
        "2019-10-06",
        datetime(2019, 10, 6, 18, 27, 49),
    ],
)
def test_it_refuses_what_is_not_an_instant(one, given):
    value, message = one({"type": "DATETIME"}, given)
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `DATETIME` (a date and time with")


def test_it_checks_instant_bounds_with_kestra_messages(one):
    definition = {
        "type": "DATETIME",
        "after": "2023-01-01T00:00:00Z",
        "before": "2023-12-31T23:59:59Z",
    }
    assert one(definition, "2023-01-01T00:00:10Z") == ("2023-01-01T00:00:10Z", None)
    assert one(definition, "2022-01-01T00:00:00Z")[1] == (
        "Invalid input for `x`, it must be after `2023-01-01T00:00:00Z`, "
        "but received `2022-01-01T00:00:00Z`"
    )
    assert one(definition, "2024-01-01T00:00:00Z")[1] == (
        "Invalid input for `x`, it must be before `2023-12-31T23:59:59Z`, "
        "but received `2024-01-01T00:00:00Z`"
    )


def test_it_reads_dates(one):
    assert one({"type": "DATE"}, "2019-10-06") == ("2019-10-06", None)
    assert one({"type": "DATE"}, date(2019, 10, 6)) == ("2019-10-06", None)
    for bad in ("2019-02-30", "06/10/2019", "20191006", "2019-10-06T00:00:00Z"):
        value, message = one({"type": "DATE"}, bad)
        assert value is None
        assert message.startswith("Invalid input for `x`, expected `DATE` (a date such as")


def test_it_checks_date_bounds_with_kestra_messages(one):
    definition = {"type": "DATE", "after": "2023-01-01", "before": "2023-12-31"}
    assert one(definition, "2023-01-02") == ("2023-01-02", None)
    assert one(definition, "2022-01-01")[1] == (
        "Invalid input for `x`, it must be after `2023-01-01`, but received `2022-01-01`"
    )
    assert one(definition, "2024-01-01")[1] == (
        "Invalid input for `x`, it must be before `2023-12-31`, but received `2024-01-01`"
    )


def test_it_accepts_min_and_max_as_date_bounds_too(one):
    assert one({"type": "DATE", "min": "2023-01-01"}, "2022-01-01")[1] == (
        "Invalid input for `x`, it must be after `2023-01-01`, but received `2022-01-01`"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("18:27:49", "18:27:49"),
        ("18:27", "18:27:00"),
        ("18:27:49.5", "18:27:49.5"),
        (time(1, 0), "01:00:00"),
    ],
)
def test_it_reads_local_times(one, given, expected):
    assert one({"type": "TIME"}, given) == (expected, None)


@pytest.mark.parametrize("given", ["25:00", "6pm", "18:27:49Z", "1:00"])
def test_it_refuses_what_is_not_a_local_time(one, given):
    value, message = one({"type": "TIME"}, given)
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `TIME`")


def test_it_checks_time_bounds_printing_them_as_java_does(one):
    definition = {"type": "TIME", "after": "01:00:00", "before": "11:59:59"}
    assert one(definition, "11:27:49") == ("11:27:49", None)
    assert one(definition, "00:00:01")[1] == (
        "Invalid input for `x`, it must be after `01:00`, but received `00:00:01`"
    )
    assert one(definition, "14:00:00")[1] == (
        "Invalid input for `x`, it must be before `11:59:59`, but received `14:00:00`"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("PT5M6S", "PT5M6S"),
        ("PT306S", "PT5M6S"),
        ("P2D", "PT48H"),
        ("P1DT2H", "PT26H"),
        ("pt15s", "PT15S"),
        ("PT0.5S", "PT0.5S"),
        ("-PT0.5S", "PT-0.5S"),
        ("-PT90M", "PT-1H-30M"),
        ("PT0S", "PT0S"),
        (timedelta(minutes=1, seconds=30), "PT1M30S"),
    ],
)
def test_it_reads_durations_and_writes_them_as_java_does(one, given, expected):
    assert one({"type": "DURATION"}, given) == (expected, None)


@pytest.mark.parametrize("given", ["5 minutes", "P1M", "PT", "P1W", 300])
def test_it_refuses_what_is_not_an_iso_duration(one, given):
    value, message = one({"type": "DURATION"}, given)
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `DURATION` (an ISO-8601")


def test_it_checks_duration_bounds_with_kestras_capital(one):
    definition = {"type": "DURATION", "min": "PT10S", "max": "PT20S"}
    assert one(definition, "PT15S") == ("PT15S", None)
    assert one(definition, "PT1S")[1] == (
        "Invalid input for `x`, It must be more than `PT10S`, but received `PT1S`"
    )
    assert one(definition, "PT30S")[1] == (
        "Invalid input for `x`, It must be less than `PT20S`, but received `PT30S`"
    )


def test_it_reports_an_unreadable_bound_as_a_definition_problem(one):
    value, message = one({"type": "DATE", "after": "soon"}, "2024-01-01")
    assert value is None
    assert message == "Invalid input for `x`, its `after` bound `soon` is not a valid DATE"


def test_it_reads_numbers_of_seconds_in_duration_defaults_and_bounds(one):
    # Kestra's Jackson reader takes seconds in a definition, not in a submitted value.
    assert one({"type": "DURATION", "defaults": 90}) == ("PT1M30S", None)
    assert one({"type": "DURATION", "max": 60}, "PT2M")[1] == (
        "Invalid input for `x`, It must be less than `PT1M`, but received `PT2M`"
    )
