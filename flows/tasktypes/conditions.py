"""Core conditions of Kestra 0.20, used in a trigger's `conditions` (and nested in Not/Or and
the legacy MultipleCondition)."""

from __future__ import annotations

from flows.tasktypes.common import (
    CONDITION_MAP,
    CONDITIONS,
    ID_PATTERN,
    STATES,
    boolean,
    duration,
    enum,
    labels,
    string,
)
from flows.tasktypes.registry import condition
from flows.tasktypes.triggers import TIME_WINDOW

_OLD = "io.kestra.core.models.conditions.types."
_NEW = "io.kestra.plugin.core.condition."
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_DATE = string("The date to test (default {{ trigger.date }}).")
_STATE_LIST = {"type": "array", "items": enum(STATES), "description": "Execution states."}


def _aliases(name: str, legacy: str | None = None) -> tuple[str, str]:
    """Both legacy spellings Kestra keeps: the old package and the `...Condition` class."""
    legacy = legacy or f"{name}Condition"
    return (_OLD + legacy, _NEW + f"{name}Condition")


TYPES = [
    condition(
        _NEW + "ExecutionStatus",
        "True when the upstream execution's state is in `in` and not in `notIn`.",
        {"in": _STATE_LIST, "notIn": _STATE_LIST},
        aliases=_aliases("ExecutionStatus"),
    ),
    condition(
        _NEW + "ExecutionFlow",
        "True for executions of the given flow.",
        {"namespace": string("Namespace of the flow."), "flowId": string("Id of the flow.")},
        required=("namespace", "flowId"),
        aliases=_aliases("ExecutionFlow"),
    ),
    condition(
        _NEW + "ExecutionNamespace",
        "True for executions of flows in the namespace.",
        {
            "namespace": string("The namespace, or its prefix or suffix."),
            "comparison": enum(("EQUALS", "PREFIX", "SUFFIX"), "How to compare."),
            "prefix": boolean("(Deprecated) use comparison: PREFIX."),
        },
        required=("namespace",),
        aliases=_aliases("ExecutionNamespace"),
    ),
    condition(
        _NEW + "ExecutionLabels",
        "True when the execution carries all these labels.",
        {"labels": labels("The labels to look for.")},
        required=("labels",),
        aliases=_aliases("ExecutionLabels"),
    ),
    condition(
        _NEW + "ExecutionOutputs",
        "True when the expression over the upstream outputs is truthy.",
        {"expression": string("The expression.", minLength=1)},
        required=("expression",),
        aliases=_aliases("ExecutionOutputs"),
    ),
    condition(
        _NEW + "Expression",
        "True when the expression renders truthy.",
        {"expression": string("The expression.", minLength=1)},
        required=("expression",),
        aliases=(_OLD + "VariableCondition", _NEW + "ExpressionCondition"),
    ),
    condition(
        _NEW + "HasRetryAttempt",
        "True when a task run was retried with a state in `in` and not in `notIn`.",
        {"in": _STATE_LIST, "notIn": _STATE_LIST},
        aliases=_aliases("HasRetryAttempt"),
    ),
    condition(
        _NEW + "DayWeek",
        "True on the given day of the week.",
        {"date": _DATE, "dayOfWeek": enum(_DAYS, "The day.")},
        required=("dayOfWeek",),
        aliases=_aliases("DayWeek"),
    ),
    condition(
        _NEW + "DayWeekInMonth",
        "True on the first, second... or last given weekday of the month.",
        {
            "date": _DATE,
            "dayOfWeek": enum(_DAYS, "The day."),
            "dayInMonth": enum(("FIRST", "SECOND", "THIRD", "FOURTH", "LAST"), "Which one."),
        },
        required=("dayOfWeek", "dayInMonth"),
        aliases=_aliases("DayWeekInMonth"),
    ),
    condition(
        _NEW + "Weekend",
        "True on Saturdays and Sundays.",
        {"date": _DATE},
        aliases=_aliases("Weekend"),
    ),
    condition(
        _NEW + "DateTimeBetween",
        "True when the date is between `after` and `before`.",
        {
            "date": _DATE,
            "after": string("Lower bound, an ISO date-time with offset.", format="zoned-date-time"),
            "before": string(
                "Upper bound, an ISO date-time with offset.", format="zoned-date-time"
            ),
        },
        aliases=_aliases("DateTimeBetween"),
    ),
    condition(
        _NEW + "TimeBetween",
        "True when the time of day is between `after` and `before`.",
        {
            "date": _DATE,
            "after": string("Lower bound, HH:MM:SS with an optional offset.", format="offset-time"),
            "before": string(
                "Upper bound, HH:MM:SS with an optional offset.", format="offset-time"
            ),
        },
        aliases=_aliases("TimeBetween"),
    ),
    condition(
        _NEW + "PublicHoliday",
        "True on public holidays of a country.",
        {
            "date": _DATE,
            "country": string("ISO country code."),
            "subDivision": string("ISO subdivision code."),
        },
        aliases=_aliases("PublicHoliday"),
    ),
    condition(
        _NEW + "Not",
        "True when none of the conditions is true.",
        children={"conditions": CONDITIONS},
        required=("conditions",),
        aliases=_aliases("Not"),
    ),
    condition(
        _NEW + "Or",
        "True when any of the conditions is true.",
        children={"conditions": CONDITIONS},
        required=("conditions",),
        aliases=_aliases("Or"),
    ),
    condition(
        _NEW + "MultipleCondition",
        "(Deprecated: use Flow trigger preconditions) all conditions seen within a window.",
        {
            "id": string("Unique id of the condition.", pattern=ID_PATTERN),
            "timeWindow": TIME_WINDOW,
            "resetOnSuccess": boolean("Forget what was seen once it fired (default true)."),
            "window": duration("(Deprecated) use timeWindow.window."),
            "windowAdvance": duration("(Deprecated) use timeWindow.windowAdvance."),
        },
        children={"conditions": CONDITION_MAP},
        required=("id", "conditions"),
        aliases=(_OLD + "MultipleCondition",),
        deprecated=True,
    ),
    condition(
        _NEW + "FlowCondition",
        "(Deprecated: use ExecutionFlow) true for executions of the given flow.",
        {"namespace": string("Namespace of the flow."), "flowId": string("Id of the flow.")},
        required=("namespace", "flowId"),
        aliases=(_OLD + "FlowCondition",),
        deprecated=True,
    ),
    condition(
        _NEW + "FlowNamespaceCondition",
        "(Deprecated: use ExecutionNamespace) true for flows of the namespace.",
        {
            "namespace": string("The namespace or its prefix."),
            "prefix": boolean("Compare as a prefix."),
        },
        required=("namespace",),
        aliases=(_OLD + "FlowNamespaceCondition",),
        deprecated=True,
    ),
]
