"""Validation of a flow's `sla` list: each problem names its field and YAML line."""

from __future__ import annotations

import pytest

from flows.spec import FlowValidation, validate_flow_source
from flows.spec.formats import duration_value, parse_duration
from tenants.errors import Violation

HEAD = (
    "id: demo\nnamespace: company.team\ntasks:\n"
    "  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"
)  # the `sla:` line is line 7, its first entry's fields from line 8


def check(sla: str) -> FlowValidation:
    return validate_flow_source(HEAD + "sla:\n" + sla)


def problems(result: FlowValidation) -> list[tuple[str, int | None, str]]:
    return [(v.path, v.line, v.message) for v in result.violations]


def entry(**fields: str) -> str:
    lines = [f"{key}: {value}" for key, value in fields.items()]
    return "  - " + "\n    ".join(lines) + "\n"


def test_a_valid_list_of_both_kinds_passes():
    result = check(
        entry(id="slow", type="MAX_DURATION", behavior="FAIL", duration="PT1H")
        + entry(id="ok", type="EXECUTION_ASSERTION", behavior="NONE", **{"assert": "'{{ true }}'"})
        + "    labels:\n      sla: missed\n"
    )
    assert problems(result) == []


@pytest.mark.parametrize(
    ("_case", "sla", "expected"),
    [
        (
            "unknown type",
            entry(id="a", type="FOO", behavior="FAIL"),
            [
                (
                    "sla[0].type",
                    9,
                    "Property 'sla[0].type' must be one of MAX_DURATION, EXECUTION_ASSERTION; "
                    "got 'FOO'",
                )
            ],
        ),
        (
            "missing duration",
            entry(id="a", type="MAX_DURATION", behavior="FAIL"),
            [("sla[0].duration", 8, "Missing required property 'duration'")],
        ),
        (
            "missing assert",
            entry(id="a", type="EXECUTION_ASSERTION", behavior="CANCEL"),
            [("sla[0].assert", 8, "Missing required property 'assert'")],
        ),
        (
            "empty assert",
            entry(id="a", type="EXECUTION_ASSERTION", behavior="CANCEL", **{"assert": "''"}),
            [("sla[0].assert", 11, "Property 'sla[0].assert' must not be empty")],
        ),
        (
            "unknown behavior",
            entry(id="a", type="MAX_DURATION", behavior="KILL", duration="PT1S"),
            [
                (
                    "sla[0].behavior",
                    10,
                    "Property 'sla[0].behavior' must be one of FAIL, CANCEL, NONE; got 'KILL'",
                )
            ],
        ),
        (
            "no behavior",
            entry(id="a", type="MAX_DURATION", duration="PT1S"),
            [("sla[0].behavior", 8, "Missing required property 'behavior'")],
        ),
        (
            "no id",
            entry(type="MAX_DURATION", behavior="FAIL", duration="PT1S"),
            [("sla[0].id", 8, "Missing required property 'id'")],
        ),
        (
            "the other kind's property",
            entry(id="a", type="MAX_DURATION", behavior="FAIL", duration="PT1S", **{"assert": "x"}),
            [
                (
                    "sla[0].assert",
                    12,
                    "Unknown property 'assert'. Known properties: behavior, duration, id, "
                    "labels, type",
                )
            ],
        ),
        (
            "not a duration",
            entry(id="a", type="MAX_DURATION", behavior="FAIL", duration="5 minutes"),
            [
                (
                    "sla[0].duration",
                    11,
                    "Property 'sla[0].duration' must be an ISO-8601 duration such as PT10S or "
                    "P1DT2H, got '5 minutes'",
                )
            ],
        ),
        (
            "templated duration",
            entry(id="a", type="MAX_DURATION", behavior="FAIL", duration="'{{ vars.limit }}'"),
            [
                (
                    "sla[0].duration",
                    11,
                    "An SLA duration is not rendered: expected a duration such as PT1H, "
                    "got '{{ vars.limit }}'",
                )
            ],
        ),
        (
            "zero duration",
            entry(id="a", type="MAX_DURATION", behavior="FAIL", duration="PT0S"),
            [("sla[0].duration", 11, "An SLA duration must be positive, got 'PT0S'")],
        ),
        (
            "negative duration",
            entry(id="a", type="MAX_DURATION", behavior="FAIL", duration="-PT5M"),
            [("sla[0].duration", 11, "An SLA duration must be positive, got '-PT5M'")],
        ),
        (
            "a deadline past any date",
            entry(id="a", type="MAX_DURATION", behavior="FAIL", duration="P999999999D"),
            [
                (
                    "sla[0].duration",
                    11,
                    "An SLA duration must be at most P36500D (100 years), got 'P999999999D'",
                )
            ],
        ),
    ],
)
def test_each_problem_names_its_field_and_line(_case, sla, expected):
    assert problems(check(sla)) == expected


@pytest.mark.parametrize(
    ("_case", "labels", "path"),
    [
        (
            "map",
            "    labels:\n      system.correlationId: x\n",
            "sla[0].labels['system.correlationId']",
        ),
        ("list", "    labels:\n      - key: system.app\n        value: x\n", "sla[0].labels[0]"),
        ("readOnly, allowed on a flow only", "    labels:\n      system.readOnly: 'true'\n", None),
    ],
)
def test_system_labels_are_refused(_case, labels, path):
    result = check(entry(id="a", type="MAX_DURATION", behavior="NONE", duration="PT1S") + labels)
    [violation] = result.violations
    assert isinstance(violation, Violation)
    assert violation.line == 13
    assert violation.message.startswith("Label key 'system.")
    assert "is reserved" in violation.message
    if path is not None:
        assert violation.path == path


def test_durations_too_long_for_a_timedelta_are_refused_not_crashing():
    with pytest.raises(ValueError, match="too long a duration"):
        parse_duration("PT99999999999999999999S")
    assert duration_value(1e300) is None
    result = check(
        entry(id="a", type="MAX_DURATION", behavior="FAIL", duration="PT99999999999999999999S")
    )
    assert [v.path for v in result.violations] == ["sla[0].duration"]
