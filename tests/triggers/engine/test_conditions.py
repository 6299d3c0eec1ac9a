"""The condition evaluator against Kestra 0.20's condition classes (no database)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from executions.engine.rendering import expressions_renderer
from triggers.engine.conditions import (
    ConditionContext,
    ConditionError,
    condition_name,
    condition_passes,
    conditions_pass,
)

NEW = "io.kestra.plugin.core.condition."
OLD = "io.kestra.core.models.conditions.types."


def render(template: str, variables: Mapping[str, Any]) -> Any:
    return expressions_renderer(variables).render_typed(template)


def upstream(**fields: Any) -> dict[str, Any]:
    execution = {
        "id": "up1",
        "namespace": "company.team.sub",
        "flowId": "upstream",
        "state": {"current": "SUCCESS"},
        "labels": [{"key": "env", "value": "prod"}, {"key": "team", "value": "data"}],
        "outputs": {"count": 3},
        "taskRunList": [],
    }
    execution.update(fields)
    return execution


def passes(condition: dict[str, Any], **context: Any) -> bool:
    context.setdefault("render", render)
    return condition_passes(condition, ConditionContext(**context))


@pytest.mark.parametrize(
    ("_case", "type_name"),
    [
        ("new", NEW + "ExecutionStatus"),
        ("new with suffix", NEW + "ExecutionStatusCondition"),
        ("legacy package", OLD + "ExecutionStatusCondition"),
    ],
)
def test_it_reads_every_spelling_of_a_type(_case: str, type_name: str) -> None:
    condition = {"type": type_name, "in": ["SUCCESS"]}
    assert condition_name(condition) == "ExecutionStatus"
    assert passes(condition, execution=upstream()) is True
    assert passes(condition, execution=upstream(state={"current": "FAILED"})) is False


def test_it_names_the_legacy_variable_condition_expression() -> None:
    assert condition_name({"type": OLD + "VariableCondition"}) == "Expression"


@pytest.mark.parametrize(
    ("_case", "properties", "state", "expected"),
    [
        ("in holds it", {"in": ["SUCCESS", "WARNING"]}, "WARNING", True),
        ("in lacks it", {"in": ["SUCCESS"]}, "FAILED", False),
        ("notIn holds it", {"notIn": ["FAILED"]}, "FAILED", False),
        ("notIn lacks it", {"notIn": ["FAILED"]}, "SUCCESS", True),
        ("both, refused", {"in": ["FAILED"], "notIn": ["FAILED"]}, "FAILED", False),
        ("neither", {}, "RUNNING", True),
        ("empty in allows nothing", {"in": []}, "SUCCESS", False),
    ],
)
def test_it_checks_the_execution_status(
    _case: str, properties: dict[str, Any], state: str, expected: bool
) -> None:
    condition = {"type": NEW + "ExecutionStatus", **properties}
    assert passes(condition, execution=upstream(state={"current": state})) is expected


@pytest.mark.parametrize(
    "type_name",
    ["ExecutionStatus", "ExecutionFlow", "ExecutionNamespace", "HasRetryAttempt"],
)
def test_it_refuses_execution_conditions_without_an_execution(type_name: str) -> None:
    condition = {"type": NEW + type_name, "namespace": "a", "flowId": "b"}
    with pytest.raises(ConditionError, match=f"{type_name}: invalid condition with null execution"):
        passes(condition)


def test_it_matches_the_execution_flow() -> None:
    condition = {
        "type": NEW + "ExecutionFlow",
        "namespace": "company.team.sub",
        "flowId": "upstream",
    }
    assert passes(condition, execution=upstream()) is True
    assert passes(condition, execution=upstream(flowId="other")) is False
    assert passes(condition, execution=upstream(namespace="company.team")) is False


@pytest.mark.parametrize(
    ("_case", "properties", "expected"),
    [
        ("equals by default", {"namespace": "company.team.sub"}, True),
        ("equals is exact", {"namespace": "company.team"}, False),
        ("prefix", {"namespace": "company.team", "comparison": "PREFIX"}, True),
        ("prefix that is not", {"namespace": "team", "comparison": "PREFIX"}, False),
        ("suffix", {"namespace": "team.sub", "comparison": "SUFFIX"}, True),
        ("suffix that is not", {"namespace": "company", "comparison": "SUFFIX"}, False),
        ("legacy prefix", {"namespace": "company", "prefix": True}, True),
        (
            "comparison wins over prefix",
            {"namespace": "company", "prefix": True, "comparison": "EQUALS"},
            False,
        ),
    ],
)
def test_it_compares_the_execution_namespace(
    _case: str, properties: dict[str, Any], expected: bool
) -> None:
    condition = {"type": NEW + "ExecutionNamespace", **properties}
    assert passes(condition, execution=upstream()) is expected


@pytest.mark.parametrize(
    ("_case", "labels", "expected"),
    [
        ("list, all present", [{"key": "env", "value": "prod"}], True),
        ("map, all present", {"env": "prod", "team": "data"}, True),
        ("one value differs", {"env": "prod", "team": "ops"}, False),
        ("one key missing", [{"key": "region", "value": "eu"}], False),
    ],
)
def test_it_requires_every_label(_case: str, labels: Any, expected: bool) -> None:
    condition = {"type": NEW + "ExecutionLabels", "labels": labels}
    assert passes(condition, execution=upstream()) is expected


def test_it_finds_no_label_on_an_execution_without_labels() -> None:
    condition = {"type": NEW + "ExecutionLabels", "labels": {"env": "prod"}}
    assert passes(condition, execution=upstream(labels=None)) is False


def test_it_compares_label_values_as_text() -> None:
    condition = {"type": NEW + "ExecutionLabels", "labels": {"version": 2}}
    execution = upstream(labels=[{"key": "version", "value": "2"}])
    assert passes(condition, execution=execution) is True


@pytest.mark.parametrize(
    ("_case", "expression", "outputs", "expected"),
    [
        ("true", "{{ trigger.outputs.count > 2 }}", {"count": 3}, True),
        ("false", "{{ trigger.outputs.count > 5 }}", {"count": 3}, False),
        ("no outputs: false without rendering", "{{ undefined_thing }}", None, False),
        ("empty outputs: false", "{{ true }}", {}, False),
        ("text 0 passes (not TruthUtils)", "{{ trigger.outputs.count - 3 }}", {"count": 3}, True),
    ],
)
def test_it_evaluates_the_upstream_outputs(
    _case: str, expression: str, outputs: Any, expected: bool
) -> None:
    condition = {"type": NEW + "ExecutionOutputs", "expression": expression}
    assert passes(condition, execution=upstream(outputs=outputs)) is expected


def test_it_keeps_other_trigger_variables_beside_the_outputs() -> None:
    condition = {
        "type": NEW + "ExecutionOutputs",
        "expression": "{{ trigger.outputs.count == 3 and trigger.kind == 'x' }}",
    }
    context = {"execution": upstream(), "variables": {"trigger": {"kind": "x"}}}
    assert passes(condition, **context) is True


@pytest.mark.parametrize(
    ("_case", "expression", "expected"),
    [
        ("true", "{{ 1 == 1 }}", True),
        ("false", "{{ 1 == 2 }}", False),
        ("false with spaces", "  false  ", False),
        ("blank", "{{ '' }}   ", False),
        ("null renders empty", "{{ null }}", False),
        ("zero is true here", "{{ 0 }}", True),
        ("False is not false", "False", True),
        ("any text", "yes", True),
        ("variables", "{{ trigger.body.kind == 'push' }}", True),
    ],
)
def test_it_uses_the_expression_conditions_own_truth(
    _case: str, expression: str, expected: bool
) -> None:
    condition = {"type": NEW + "Expression", "expression": expression}
    variables = {"trigger": {"body": {"kind": "push"}}}
    assert passes(condition, variables=variables) is expected


def test_it_reports_an_expression_that_cannot_render() -> None:
    condition = {"type": NEW + "Expression", "expression": "{{ nothing.here }}"}
    with pytest.raises(ConditionError, match=r"Expression: cannot render '\{\{ nothing.here \}\}'"):
        passes(condition)


def test_it_needs_a_renderer_for_a_template() -> None:
    condition = {"type": NEW + "Expression", "expression": "{{ true }}"}
    with pytest.raises(ConditionError, match="no renderer"):
        condition_passes(condition, ConditionContext())
    assert condition_passes({**condition, "expression": "true"}, ConditionContext()) is True


TRUE = {"type": NEW + "Expression", "expression": "true"}
FALSE = {"type": NEW + "Expression", "expression": "false"}


@pytest.mark.parametrize(
    ("_case", "children", "not_expected", "or_expected"),
    [
        ("all true", [TRUE, TRUE], False, True),
        ("one true", [FALSE, TRUE], False, True),
        ("all false", [FALSE, FALSE], True, False),
    ],
)
def test_it_combines_with_not_and_or(
    _case: str, children: list[dict[str, Any]], not_expected: bool, or_expected: bool
) -> None:
    assert passes({"type": NEW + "Not", "conditions": children}) is not_expected
    assert passes({"type": OLD + "OrCondition", "conditions": children}) is or_expected


def test_it_nests_conditions() -> None:
    status = {"type": NEW + "ExecutionStatus", "in": ["FAILED"]}
    condition = {
        "type": NEW + "Or",
        "conditions": [FALSE, {"type": NEW + "Not", "conditions": [status]}],
    }
    assert passes(condition, execution=upstream()) is True
    assert passes(condition, execution=upstream(state={"current": "FAILED"})) is False


def attempt(state: str) -> dict[str, Any]:
    return {"state": {"current": state}}


@pytest.mark.parametrize(
    ("_case", "properties", "attempts", "expected"),
    [
        ("retried, state allowed", {"in": ["FAILED"]}, ["FAILED", "SUCCESS"], True),
        ("retried, no state allowed", {"in": ["KILLED"]}, ["FAILED", "SUCCESS"], False),
        ("retried, no filter", {}, ["FAILED", "SUCCESS"], True),
        ("retried, all refused", {"notIn": ["FAILED", "SUCCESS"]}, ["FAILED", "SUCCESS"], False),
        ("one attempt only", {"in": ["FAILED"]}, ["FAILED"], False),
        ("no attempts", {}, [], False),
    ],
)
def test_it_looks_for_a_retry_attempt(
    _case: str, properties: dict[str, Any], attempts: list[str], expected: bool
) -> None:
    task_run = {"taskId": "t", "attempts": [attempt(s) for s in attempts] or None}
    execution = upstream(taskRunList=[task_run])
    condition = {"type": NEW + "HasRetryAttempt", **properties}
    assert passes(condition, execution=execution) is expected


def test_it_reads_the_triggers_flow_for_the_deprecated_flow_conditions() -> None:
    flow = {"namespace": "company.team", "id": "mine"}
    flow_condition = {"type": OLD + "FlowCondition", "namespace": "company.team", "flowId": "mine"}
    assert passes(flow_condition, flow=flow) is True
    assert passes({**flow_condition, "flowId": "other"}, flow=flow) is False
    namespace = {"type": NEW + "FlowNamespaceCondition", "namespace": "company"}
    assert passes(namespace, flow=flow) is False
    assert passes({**namespace, "prefix": True}, flow=flow) is True


# --- dates -------------------------------------------------------------------------------------

SATURDAY = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)  # the first Saturday of June 2024


@pytest.mark.parametrize(
    ("_case", "day", "date", "expected"),
    [
        ("the day", "SATURDAY", SATURDAY, True),
        ("another day", "MONDAY", SATURDAY, False),
        # 23:30 UTC Saturday is Sunday in Tokyo: the tick's own zone decides
        (
            "the local day",
            "SUNDAY",
            datetime(2024, 6, 1, 23, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo")),
            True,
        ),
    ],
)
def test_it_checks_the_day_of_week_of_the_tick(
    _case: str, day: str, date: datetime, expected: bool
) -> None:
    assert passes({"type": NEW + "DayWeek", "dayOfWeek": day}, date=date) is expected


@pytest.mark.parametrize(
    ("_case", "date_template", "expected"),
    [
        ("a plain date", "2024-06-03", True),
        ("a zoned date-time", "2024-06-03T23:00:00-05:00", True),
        ("a zone region", "2024-06-03T01:00:00+02:00[Europe/Paris]", True),
        ("a template", "{{ trigger.date }}", False),  # the tick is a Saturday
        ("rendered from variables", "{{ trigger.day }}", True),
    ],
)
def test_it_renders_the_date_property(_case: str, date_template: str, expected: bool) -> None:
    condition = {"type": NEW + "DayWeekCondition", "dayOfWeek": "MONDAY", "date": date_template}
    variables = {"trigger": {"day": "2024-06-03"}}
    assert passes(condition, date=SATURDAY, variables=variables) is expected


def test_it_renders_the_default_date_from_variables_without_a_tick() -> None:
    condition = {"type": NEW + "Weekend"}
    assert passes(condition, variables={"trigger": {"date": "2024-06-02T08:00:00Z"}}) is True
    assert passes(condition, variables={"trigger": {"date": "2024-06-03T08:00:00Z"}}) is False


def test_it_refuses_a_date_that_does_not_parse() -> None:
    condition = {"type": NEW + "Weekend", "date": "next tuesday"}
    with pytest.raises(ConditionError, match="Weekend: expected a date-time with a zone"):
        passes(condition, date=SATURDAY)


def test_it_refuses_a_date_time_without_a_zone() -> None:
    condition = {
        "type": NEW + "DateTimeBetween",
        "date": "2024-06-01T10:00:00",
        "after": "2024-01-01T00:00:00Z",
    }
    with pytest.raises(ConditionError, match="DateTimeBetween: expected a date-time with a zone"):
        passes(condition, date=SATURDAY)


@pytest.mark.parametrize(
    ("_case", "day", "which", "date", "expected"),
    [
        ("first saturday", "SATURDAY", "FIRST", "2024-06-01", True),
        ("second saturday", "SATURDAY", "SECOND", "2024-06-08", True),
        ("third saturday", "SATURDAY", "THIRD", "2024-06-15", True),
        ("fourth saturday", "SATURDAY", "FOURTH", "2024-06-22", True),
        ("last saturday", "SATURDAY", "LAST", "2024-06-29", True),
        ("fourth is not last here", "SATURDAY", "LAST", "2024-06-22", False),
        ("first monday, month starts on saturday", "MONDAY", "FIRST", "2024-06-03", True),
        ("second monday is not the first", "MONDAY", "FIRST", "2024-06-10", False),
        ("last day of the month", "SUNDAY", "LAST", "2024-06-30", True),
        ("last friday of february, leap year", "THURSDAY", "LAST", "2024-02-29", True),
        ("last friday of december", "TUESDAY", "LAST", "2024-12-31", True),
    ],
)
def test_it_finds_the_nth_weekday_in_the_month(
    _case: str, day: str, which: str, date: str, expected: bool
) -> None:
    condition = {
        "type": NEW + "DayWeekInMonth",
        "dayOfWeek": day,
        "dayInMonth": which,
        "date": date,
    }
    assert passes(condition) is expected


@pytest.mark.parametrize(
    ("_case", "date", "expected"),
    [
        ("saturday", SATURDAY, True),
        ("sunday", SATURDAY + timedelta(days=1), True),
        ("monday", SATURDAY + timedelta(days=2), False),
        ("friday", SATURDAY - timedelta(days=1), False),
    ],
)
def test_it_knows_the_weekend(_case: str, date: datetime, expected: bool) -> None:
    assert passes({"type": OLD + "WeekendCondition"}, date=date) is expected


@pytest.mark.parametrize(
    ("_case", "bounds", "expected"),
    [
        ("inside", {"after": "2024-05-31T00:00:00Z", "before": "2024-06-02T00:00:00Z"}, True),
        ("after only", {"after": "2024-05-31T00:00:00Z"}, True),
        ("before only", {"before": "2024-05-31T00:00:00Z"}, False),
        ("bounds are strict", {"after": "2024-06-01T10:00:00Z"}, False),
        ("offsets compare as instants", {"after": "2024-06-01T11:59:00+02:00"}, True),
        ("offsets compare as instants, before", {"before": "2024-06-01T12:00:00+02:00"}, False),
        ("a region", {"before": "2024-06-01T12:01:00+02:00[Europe/Paris]"}, True),
    ],
)
def test_it_checks_a_date_time_window(_case: str, bounds: dict[str, str], expected: bool) -> None:
    condition = {"type": NEW + "DateTimeBetween", **bounds}
    assert passes(condition, date=SATURDAY) is expected


@pytest.mark.parametrize("type_name", ["DateTimeBetween", "TimeBetween"])
def test_it_refuses_a_window_without_bounds(type_name: str) -> None:
    with pytest.raises(ConditionError, match="no before nor after"):
        passes({"type": NEW + type_name}, date=SATURDAY)


@pytest.mark.parametrize(
    ("_case", "bounds", "date", "expected"),
    [
        ("inside", {"after": "09:00:00Z", "before": "11:00:00Z"}, SATURDAY, True),
        ("outside", {"after": "10:30:00Z"}, SATURDAY, False),
        ("strict", {"before": "10:00:00Z"}, SATURDAY, False),
        ("no offset counts as UTC", {"after": "09:59:59"}, SATURDAY, True),
        (
            "offset of the bound",
            {"after": "11:30:00+02:00", "before": "12:30:00+02:00"},
            SATURDAY,
            True,
        ),
        (
            "offset of the tick",
            {"after": "11:30:00+02:00", "before": "12:30:00+02:00"},
            SATURDAY.astimezone(timezone(timedelta(hours=2))),
            True,
        ),
        # OffsetTime does not wrap: 23:30-02:00 is 25:30 UTC, after 01:00Z
        (
            "no wrap around midnight",
            {"before": "01:00:00Z"},
            datetime(2024, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
            False,
        ),
    ],
)
def test_it_checks_a_time_window(
    _case: str, bounds: dict[str, str], date: datetime, expected: bool
) -> None:
    condition = {"type": NEW + "TimeBetween", **bounds}
    assert passes(condition, date=date) is expected


def test_it_refuses_public_holidays_and_says_why() -> None:
    condition = {"type": NEW + "PublicHoliday", "country": "FR"}
    with pytest.raises(ConditionError, match=r"PublicHoliday is not supported.*holiday calendars"):
        passes(condition, date=SATURDAY)


def test_it_refuses_an_unknown_type() -> None:
    with pytest.raises(ConditionError, match=r"Unknown condition type 'io\.kestra\.Nope'"):
        passes({"type": "io.kestra.Nope"})


def test_it_refuses_a_multiple_condition_on_its_own() -> None:
    condition = {"type": NEW + "MultipleCondition", "id": "m", "conditions": {}}
    with pytest.raises(ConditionError, match="precondition windows"):
        passes(condition)


def test_it_requires_all_conditions_and_skips_multiple_conditions() -> None:
    multiple = {"type": OLD + "MultipleCondition", "id": "m", "conditions": {"a": FALSE}}
    context = ConditionContext(render=render)
    assert conditions_pass([TRUE, multiple], context) is True
    assert conditions_pass([TRUE, FALSE], context) is False
    assert conditions_pass([], context) is True
