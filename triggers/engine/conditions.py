"""Trigger conditions evaluated the way Kestra 0.20 does (`io.kestra.plugin.core.condition.*`).

One entry point, `condition_passes`, for every spelling of every core condition type (new
names, legacy `io.kestra.core.models.conditions.types.XCondition`, `...condition.XCondition`),
resolved through the type registry. A condition that cannot be evaluated (no upstream
execution where one is needed, a template that fails, a date that does not parse) raises
`ConditionError`: Kestra's scheduler fails the tick on it, its Flow-trigger and webhook paths
log it and treat the condition as false, so the caller chooses.

Kestra quirks kept on purpose:
- `Expression` and `ExecutionOutputs` are false only when the rendered text is blank or trims
  to "false" (their own test, not `TruthUtils`): "0" passes.
- `ExecutionOutputs` is false without evaluating anything when the upstream has no outputs,
  and sees them as `trigger.outputs`.
- `DateTimeBetween`/`TimeBetween` bounds are strict (`isAfter`/`isBefore`), and TimeBetween
  compares times shifted to UTC without wrapping around midnight, as `OffsetTime` does.
- `PublicHoliday` needs Jollyday's holiday calendars, which Aviary does not ship: it raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from executions.engine.rendering import RenderError
from flows.expressions import ExpressionError
from flows.expressions.serialize import output_text
from flows.tasktypes import registry

_PREFIX = "io.kestra.plugin.core.condition."
_DEFAULT_DATE = "{{ trigger.date }}"
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_ORDINALS = {"FIRST": 0, "SECOND": 1, "THIRD": 2, "FOURTH": 3}
MULTIPLE = "MultipleCondition"

Render = Callable[[str, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class ConditionContext:
    """What a condition may look at. `execution` is the upstream execution in Kestra's JSON
    shape (Flow triggers), `flow` the flow owning the trigger (`namespace`, `id`), `date` the
    tick date of a Schedule (aware), `variables` what templates see, `render` the renderer
    (template, variables) -> typed value, raising `RenderError` or `ExpressionError`."""

    execution: Mapping[str, Any] | None = None
    flow: Mapping[str, Any] | None = None
    date: datetime | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    render: Render | None = None


class ConditionError(Exception):
    """A condition that cannot be evaluated; the message names the condition and the cause."""


def condition_name(condition: Mapping[str, Any]) -> str:
    """`ExecutionStatus` for every spelling of ExecutionStatus; the raw type when unknown."""
    type_name = condition.get("type") if isinstance(condition, Mapping) else None
    registered = registry.get(type_name) if isinstance(type_name, str) else None
    if registered is None or registered.kind != "condition":
        return str(type_name)
    return registered.name.removeprefix(_PREFIX)


def conditions_pass(conditions: Iterable[Mapping[str, Any]], context: ConditionContext) -> bool:
    """True when every condition passes. MultipleCondition entries are skipped: they depend
    on a window of past executions, which the Flow-trigger evaluator keeps."""
    return all(
        condition_passes(condition, context)
        for condition in conditions
        if condition_name(condition) != MULTIPLE
    )


def condition_passes(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    """Whether `condition` holds in `context`; `ConditionError` when it cannot be told."""
    name = condition_name(condition)
    test = _TESTS.get(name)
    if test is None:
        if name == MULTIPLE:
            raise ConditionError(
                "MultipleCondition depends on past executions and is evaluated by the Flow "
                "trigger's precondition windows, not on its own"
            )
        raise ConditionError(f"Unknown condition type {condition.get('type')!r}")
    return test(condition, context)


# --- upstream execution ---------------------------------------------------------------------


def _execution(name: str, context: ConditionContext) -> Mapping[str, Any]:
    if context.execution is None:
        raise ConditionError(f"{name}: invalid condition with null execution")
    return context.execution


def _state_allowed(state: Any, condition: Mapping[str, Any]) -> bool:
    """`in` (when given) must hold the state and `notIn` (when given) must not."""
    allowed, refused = condition.get("in"), condition.get("notIn")
    if allowed is not None and state not in allowed:
        return False
    return not (refused is not None and state in refused)


def _current_state(document: Any) -> Any:
    state = document.get("state") if isinstance(document, Mapping) else None
    return state.get("current") if isinstance(state, Mapping) else state


def _execution_status(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    execution = _execution("ExecutionStatus", context)
    return _state_allowed(_current_state(execution), condition)


def _execution_flow(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    execution = _execution("ExecutionFlow", context)
    return execution.get("namespace") == condition.get("namespace") and execution.get(
        "flowId"
    ) == condition.get("flowId")


_COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "EQUALS": lambda actual, wanted: actual == wanted,
    "PREFIX": str.startswith,
    "SUFFIX": str.endswith,
}


def _execution_namespace(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    execution = _execution("ExecutionNamespace", context)
    comparison = condition.get("comparison") or ("PREFIX" if condition.get("prefix") else "EQUALS")
    compare = _COMPARISONS.get(str(comparison))
    if compare is None:
        raise ConditionError(f"ExecutionNamespace: unknown comparison {comparison!r}")
    return compare(str(execution.get("namespace") or ""), str(condition.get("namespace") or ""))


def _label_pairs(labels: Any) -> set[tuple[str, str]]:
    """Labels as (key, value) pairs from a list of {key, value} or a map."""
    if isinstance(labels, Mapping):
        return {(str(key), _label_text(value)) for key, value in labels.items()}
    if isinstance(labels, list):
        return {
            (str(label.get("key")), _label_text(label.get("value")))
            for label in labels
            if isinstance(label, Mapping)
        }
    return set()


def _label_text(value: Any) -> str:
    return value if isinstance(value, str) else output_text(value)


def _execution_labels(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    execution = _execution("ExecutionLabels", context)
    return _label_pairs(condition.get("labels")) <= _label_pairs(execution.get("labels"))


def _execution_outputs(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    execution = _execution("ExecutionOutputs", context)
    outputs = execution.get("outputs")
    if not outputs:
        return False  # Kestra's shortcut: nothing to evaluate
    trigger = dict(_mapping(context.variables.get("trigger")))
    trigger["outputs"] = outputs
    variables = {**context.variables, "trigger": trigger}
    rendered = _render("ExecutionOutputs", str(condition.get("expression")), variables, context)
    return _expression_true(rendered)


def _has_retry_attempt(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    execution = _execution("HasRetryAttempt", context)
    for task_run in execution.get("taskRunList") or []:
        attempts = task_run.get("attempts") or []
        if len(attempts) > 1 and any(
            _state_allowed(_current_state(attempt), condition) for attempt in attempts
        ):
            return True
    return False


# --- the flow owning the trigger (deprecated conditions) --------------------------------------


def _flow(name: str, context: ConditionContext) -> Mapping[str, Any]:
    if context.flow is None:
        raise ConditionError(f"{name}: invalid condition with no flow")
    return context.flow


def _flow_condition(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    flow = _flow("FlowCondition", context)
    return flow.get("namespace") == condition.get("namespace") and flow.get("id") == condition.get(
        "flowId"
    )


def _flow_namespace_condition(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    namespace = str(_flow("FlowNamespaceCondition", context).get("namespace") or "")
    wanted = str(condition.get("namespace") or "")
    return namespace.startswith(wanted) if condition.get("prefix") else namespace == wanted


# --- expressions ------------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _render(
    name: str, template: str, variables: Mapping[str, Any], context: ConditionContext
) -> str:
    """The template rendered to text, as Kestra's `RunContext.render` gives it."""
    if context.render is None:
        if "{{" not in template and "{%" not in template:
            return template
        raise ConditionError(f"{name}: no renderer to evaluate {template!r}")
    try:
        value = context.render(template, variables)
    except (RenderError, ExpressionError) as error:
        raise ConditionError(f"{name}: cannot render {template!r}: {error}") from error
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return output_text(value)


def _expression_true(rendered: str) -> bool:
    """Kestra's Expression test: false when blank or when it trims to "false"."""
    text = rendered.strip()
    return text not in ("", "false")


def _expression(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    template = str(condition.get("expression"))
    return _expression_true(_render("Expression", template, context.variables, context))


def _not(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    return not any(condition_passes(child, context) for child in _children("Not", condition))


def _or(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    return any(condition_passes(child, context) for child in _children("Or", condition))


def _children(name: str, condition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    children = condition.get("conditions")
    if not isinstance(children, list) or not children:
        raise ConditionError(f"{name}: `conditions` must be a non-empty list")
    return children


# --- dates (Schedule) -------------------------------------------------------------------------


def _date_text(name: str, condition: Mapping[str, Any], context: ConditionContext) -> Any:
    """The date to test: the tick date by default, else the rendered `date` property."""
    template = condition.get("date")
    if template is None or str(template).strip() == _DEFAULT_DATE:
        if context.date is not None:
            return context.date
        template = _DEFAULT_DATE
    trigger = dict(_mapping(context.variables.get("trigger")))
    if context.date is not None:
        trigger.setdefault("date", context.date.isoformat())
    variables = {**context.variables, "trigger": trigger}
    return _render(name, str(template), variables, context)


def _zoned(name: str, value: Any) -> datetime:
    """Java's `ZonedDateTime.parse`: an ISO date-time with an offset, maybe a [region]."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConditionError(f"{name}: date {value.isoformat()!r} has no zone")
        return value
    text = str(value).strip()
    region = None
    if text.endswith("]") and "[" in text:
        text, region = text[:-1].split("[", 1)
    try:
        parsed = datetime.fromisoformat(text) if "T" in text.upper() else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ConditionError(
            f"{name}: expected a date-time with a zone such as 2024-12-31T09:30:00+01:00, "
            f"got {value!r}"
        )
    if region:
        try:
            parsed = parsed.astimezone(ZoneInfo(region))
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ConditionError(f"{name}: unknown zone {region!r} in {value!r}") from error
    return parsed


def _local_date(name: str, value: Any) -> date:
    """Java's `DateUtils.parseLocalDate`: a plain date, else the date of a zoned date-time."""
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return _zoned(name, value).date()


def _day(name: str, condition: Mapping[str, Any]) -> int:
    day = condition.get("dayOfWeek")
    if day not in _DAYS:
        raise ConditionError(f"{name}: dayOfWeek must be one of {', '.join(_DAYS)}, got {day!r}")
    return _DAYS.index(day)


def _day_week(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    current = _local_date("DayWeek", _date_text("DayWeek", condition, context))
    return current.weekday() == _day("DayWeek", condition)


def _day_week_in_month(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    name = "DayWeekInMonth"
    current = _local_date(name, _date_text(name, condition, context))
    weekday = _day(name, condition)
    which = condition.get("dayInMonth")
    if which == "LAST":
        following_month = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = following_month - timedelta(days=1)
        computed = last - timedelta(days=(last.weekday() - weekday) % 7)
    elif which in _ORDINALS:
        first = current.replace(day=1)
        computed = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * _ORDINALS[which])
    else:
        raise ConditionError(
            f"{name}: dayInMonth must be FIRST, SECOND, THIRD, FOURTH or LAST, got {which!r}"
        )
    return computed == current


def _weekend(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    current = _local_date("Weekend", _date_text("Weekend", condition, context))
    return current.weekday() >= 5  # SATURDAY, SUNDAY


def _between(name: str, value: Any, after: Any, before: Any) -> bool:
    if after is None and before is None:
        raise ConditionError(f"{name}: invalid condition with no before nor after")
    return (after is None or value > after) and (before is None or value < before)


def _date_time_between(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    name = "DateTimeBetween"
    current = _zoned(name, _date_text(name, condition, context))
    after, before = condition.get("after"), condition.get("before")
    return _between(
        name,
        current,
        _zoned(name, after) if after is not None else None,
        _zoned(name, before) if before is not None else None,
    )


def _utc_seconds(moment: time) -> float:
    """`OffsetTime` ordering: the time of day minus its offset, not wrapped to one day.
    A bound written without an offset counts as UTC."""
    offset = moment.utcoffset() or timedelta(0)
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
    return seconds - offset.total_seconds()


def _offset_time(name: str, value: Any) -> float:
    try:
        moment = time.fromisoformat(str(value).strip())
    except ValueError as error:
        raise ConditionError(
            f"{name}: expected a time such as 09:30:00+01:00, got {value!r}"
        ) from error
    return _utc_seconds(moment)


def _time_between(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    name = "TimeBetween"
    current = _zoned(name, _date_text(name, condition, context))
    local = current.timetz()
    after, before = condition.get("after"), condition.get("before")
    return _between(
        name,
        _utc_seconds(local),
        _offset_time(name, after) if after is not None else None,
        _offset_time(name, before) if before is not None else None,
    )


def _public_holiday(condition: Mapping[str, Any], context: ConditionContext) -> bool:
    raise ConditionError(
        "PublicHoliday is not supported: it needs the public holiday calendars of Kestra's "
        "Jollyday library, which Aviary does not ship; use DayWeek, DateTimeBetween or an "
        "Expression over a list of dates instead"
    )


_TESTS: dict[str, Callable[[Mapping[str, Any], ConditionContext], bool]] = {
    "ExecutionStatus": _execution_status,
    "ExecutionFlow": _execution_flow,
    "ExecutionNamespace": _execution_namespace,
    "ExecutionLabels": _execution_labels,
    "ExecutionOutputs": _execution_outputs,
    "Expression": _expression,
    "HasRetryAttempt": _has_retry_attempt,
    "Not": _not,
    "Or": _or,
    "FlowCondition": _flow_condition,
    "FlowNamespaceCondition": _flow_namespace_condition,
    "DayWeek": _day_week,
    "DayWeekInMonth": _day_week_in_month,
    "Weekend": _weekend,
    "DateTimeBetween": _date_time_between,
    "TimeBetween": _time_between,
    "PublicHoliday": _public_holiday,
}

__all__ = [
    "MULTIPLE",
    "ConditionContext",
    "ConditionError",
    "condition_name",
    "condition_passes",
    "conditions_pass",
]
