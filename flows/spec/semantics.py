"""Rules a JSON Schema cannot express, from Kestra 0.20's validators: Switch branches, Dag
dependencies and cycles, a subflow calling its own flow, WorkingDirectory children, cron
expressions, Flow-trigger preconditions, time windows, retry delays and system labels.

`TYPE_CHECKS` maps a canonical type name to its extra check; types without one need nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.spec import formats
from flows.spec.cron import cron_error
from flows.spec.paths import index_path, key_path
from flows.spec.report import Report

Check = Callable[[Report, dict, str, "FlowContext"], None]
SYSTEM_PREFIX = "system."
FLOW_LABELS_ALLOWED = frozenset({"system.readOnly"})


class FlowContext:
    """What a check may need to know about the flow being validated."""

    def __init__(self, flow_id: Any, namespace: Any, type_of: Callable[[Any], Any]) -> None:
        self.flow_id = flow_id
        self.namespace = namespace
        self.type_of = type_of


def check_labels(
    report: Report, value: Any, path: str, *, allowed: frozenset = frozenset()
) -> None:
    """No `system.` label may be set by a user, except those in `allowed`."""
    if isinstance(value, dict):
        entries = [(key_path(path, str(k)), k, v) for k, v in value.items()]
    elif isinstance(value, list):
        entries = [
            (index_path(path, i), e.get("key"), e.get("value"))
            for i, e in enumerate(value)
            if isinstance(e, dict)
        ]
    else:
        return
    for entry_path, key, item in entries:
        if isinstance(key, str) and key.startswith(SYSTEM_PREFIX) and key not in allowed:
            report.error(
                entry_path,
                f"Label key '{key}' is reserved: system labels can only "
                f"be set by Kestra itself (offending label: {key}={item})",
            )


def check_retry(report: Report, retry: Any, path: str) -> None:
    """Delays must be ordered as Kestra's retry validators require."""
    if not isinstance(retry, dict):
        return

    def value(key: str) -> Any:
        return formats.duration_value(retry.get(key)) if key in retry else None

    def require_less(small: str, big: str) -> None:
        low, high = value(small), value(big)
        if low is not None and high is not None and low >= high:
            report.error(
                key_path(path, small), f"'{small}' must be less than '{big}' but is {retry[small]}"
            )

    kind = retry.get("type")
    if kind in ("constant", "exponential"):
        require_less("interval", "maxDuration")
    if kind == "exponential":
        require_less("interval", "maxInterval")
    if kind == "random":
        require_less("minInterval", "maxDuration")
        require_less("maxInterval", "maxDuration")
        require_less("minInterval", "maxInterval")


def _switch(report: Report, task: dict, path: str, _flow: FlowContext) -> None:
    cases, defaults = task.get("cases"), task.get("defaults")
    if not cases and not defaults:
        report.error(
            key_path(path, "cases"), "No task defined: neither 'cases' nor 'defaults' has any task"
        )


def _dag(report: Report, task: dict, path: str, _flow: FlowContext) -> None:
    items = task.get("tasks")
    if not isinstance(items, list):
        return
    base = key_path(path, "tasks")
    ids: dict[str, int] = {}
    for index, item in enumerate(items):
        child = item.get("task") if isinstance(item, dict) else None
        if isinstance(child, dict) and isinstance(child.get("id"), str):
            ids.setdefault(child["id"], index)
    graph: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        child = item.get("task")
        own = child.get("id") if isinstance(child, dict) else None
        depends = item.get("dependsOn")
        if not isinstance(depends, list):
            continue
        for position, name in enumerate(depends):
            if not isinstance(name, str):
                continue
            if name not in ids:
                report.error(
                    index_path(key_path(index_path(base, index), "dependsOn"), position),
                    f"Not existing task id in dependency: {name}",
                )
            elif isinstance(own, str):
                graph.setdefault(own, []).append(name)
    cycle = _cycle(graph)
    if cycle:
        first = ids.get(cycle[0], 0)
        report.error(
            key_path(index_path(base, first), "dependsOn"),
            "Cyclic dependency detected: " + ", ".join(cycle),
        )


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """The first dependency cycle found, as a path that returns to its start."""
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        trail: list[str] = []
        while stack:
            node, next_index = stack.pop()
            if next_index == 0:
                state[node] = 1
                trail.append(node)
            following = graph.get(node, [])
            if next_index < len(following):
                stack.append((node, next_index + 1))
                target = following[next_index]
                if state.get(target) == 1:
                    return [*trail[trail.index(target) :], target]
                if not state.get(target):
                    stack.append((target, 0))
            else:
                state[node] = 2
                trail.pop()
    return None


def _subflow(report: Report, task: dict, path: str, flow: FlowContext) -> None:
    namespace, flow_id = task.get("namespace"), task.get("flowId")
    if (
        isinstance(namespace, str)
        and isinstance(flow_id, str)
        and namespace == flow.namespace
        and flow_id == flow.flow_id
        and not formats.is_expression(namespace)
        and not formats.is_expression(flow_id)
    ):
        known = flow.type_of(task.get("type"))
        kind = known.name.rsplit(".", 1)[-1] if known is not None else "Subflow"
        article = "An" if kind[:1] in "AEIOU" else "A"
        report.error(
            key_path(path, "flowId"),
            f"{article} {kind} cannot call its own flow ({namespace}.{flow_id})",
        )
    check_labels(report, task.get("labels"), key_path(path, "labels"))


def _working_directory(report: Report, task: dict, path: str, flow: FlowContext) -> None:
    children = task.get("tasks")
    if not isinstance(children, list):
        return
    for index, child in enumerate(children):
        if not isinstance(child, dict):
            continue
        child_path = index_path(key_path(path, "tasks"), index)
        child_type = flow.type_of(child.get("type"))
        if child_type is not None and (not child_type.runnable or child_type.name in _NOT_RUNNABLE):
            report.error(
                key_path(child_path, "type"),
                "Only runnable tasks are allowed as children of a WorkingDirectory task",
            )
        if child.get("workerGroup") is not None:
            report.error(
                key_path(child_path, "workerGroup"),
                "Cannot set a Worker Group in any WorkingDirectory sub-tasks, "
                "it is only supported at the WorkingDirectory level",
            )


_NOT_RUNNABLE = frozenset(
    {
        "io.kestra.plugin.core.flow.Subflow",
        "io.kestra.plugin.core.execution.Labels",
    }
)


_CONDITION = "io.kestra.plugin.core.condition."
# Kestra's `ScheduleCondition` types: the only ones a Schedule can evaluate on its tick
_SCHEDULE_CONDITIONS = frozenset(
    _CONDITION + name
    for name in (
        "DayWeek",
        "DayWeekInMonth",
        "DateTimeBetween",
        "TimeBetween",
        "Weekend",
        "Expression",
        "Not",
        "Or",
        "PublicHoliday",
    )
)
_HOLIDAYS = _CONDITION + "PublicHoliday"


def _schedule_conditions(report: Report, conditions: Any, path: str, flow: FlowContext) -> None:
    """A Schedule tests its conditions on the tick date: conditions about an upstream
    execution cannot hold there (Kestra fails every tick on them), and PublicHoliday needs
    holiday calendars Aviary does not ship."""
    if not isinstance(conditions, list):
        return
    for index, condition in enumerate(conditions):
        if not isinstance(condition, dict):
            continue
        item = index_path(path, index)
        known = flow.type_of(condition.get("type"))
        if known is None:
            continue  # the schema reports unknown types
        if known.name == _HOLIDAYS:
            report.error(
                key_path(item, "type"),
                "PublicHoliday is not supported: it needs the public holiday calendars of "
                "Kestra's Jollyday library, which Aviary does not ship; use DayWeek, "
                "DateTimeBetween or an Expression over a list of dates instead",
            )
        elif known.name not in _SCHEDULE_CONDITIONS:
            short = known.name.removeprefix(_CONDITION)
            report.error(
                key_path(item, "type"),
                f"{short} cannot be used on a Schedule trigger: its conditions are tested on "
                "the tick date (DayWeek, DayWeekInMonth, DateTimeBetween, TimeBetween, Weekend, "
                "Expression, Not, Or)",
            )
        _schedule_conditions(
            report, condition.get("conditions"), key_path(item, "conditions"), flow
        )


def _schedule(report: Report, trigger: dict, path: str, flow: FlowContext) -> None:
    for key in ("conditions", "scheduleConditions"):
        _schedule_conditions(report, trigger.get(key), key_path(path, key), flow)
    cron = trigger.get("cron")
    if not isinstance(cron, str):
        return
    cron_path = key_path(path, "cron")
    if formats.is_expression(cron):
        report.error(cron_path, "Property 'cron' cannot be an expression")
        return
    with_seconds = trigger.get("withSeconds") is True
    problem = cron_error(cron, with_seconds=with_seconds)
    if problem:
        report.error(cron_path, f"invalid cron expression '{cron}': {problem}")


def check_time_window(report: Report, window: Any, path: str) -> None:
    if not isinstance(window, dict):
        return
    kind = window.get("type", "DURATION_WINDOW")
    forbidden = {
        "DAILY_TIME_DEADLINE": ("window", "windowAdvance", "startTime", "endTime"),
        "DAILY_TIME_WINDOW": ("window", "windowAdvance", "deadline"),
        "DURATION_WINDOW": ("deadline", "startTime", "endTime"),
        "SLIDING_WINDOW": ("deadline", "startTime", "endTime", "windowAdvance"),
    }.get(kind, ())
    needed = {
        "DAILY_TIME_DEADLINE": ("deadline",),
        "DAILY_TIME_WINDOW": ("startTime", "endTime"),
    }.get(kind, ())
    for key in forbidden:
        if window.get(key) is not None:
            report.error(key_path(path, key), f"Time window of type `{kind}` cannot have '{key}'")
    for key in needed:
        if window.get(key) is None:
            report.error(
                key_path(path, key), f"Time window of type `{kind}` must have '{key}'", at=path
            )


def _flow_trigger(report: Report, trigger: dict, path: str, _flow: FlowContext) -> None:
    preconditions = trigger.get("preconditions")
    if not isinstance(preconditions, dict):
        return
    base = key_path(path, "preconditions")
    check_time_window(report, preconditions.get("timeWindow"), key_path(base, "timeWindow"))
    where = preconditions.get("where")
    if not isinstance(where, list):
        return
    for group_index, group in enumerate(where):
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            continue
        group_path = key_path(index_path(key_path(base, "where"), group_index), "filters")
        for index, condition in enumerate(filters):
            if isinstance(condition, dict):
                _filter(report, condition, index_path(group_path, index))


def _filter(report: Report, condition: dict, path: str) -> None:
    kind = condition.get("type")
    if not isinstance(kind, str):
        return
    wants_values = kind in ("IN", "NOT_IN")
    if wants_values:
        if condition.get("values") is None:
            report.error(
                key_path(path, "values"), f"`values` cannot be null for type {kind}", at=path
            )
        if condition.get("value") is not None:
            report.error(key_path(path, "value"), f"`value` must be null for type {kind}")
    else:
        if condition.get("value") is None:
            report.error(
                key_path(path, "value"), f"`value` cannot be null for type {kind}", at=path
            )
        if condition.get("values") is not None:
            report.error(key_path(path, "values"), f"`values` must be null for type {kind}")


def _webhook(report: Report, trigger: dict, path: str, flow: FlowContext) -> None:
    conditions = trigger.get("conditions")
    if not isinstance(conditions, list):
        return
    for index, condition in enumerate(conditions):
        kind = flow.type_of(condition.get("type")) if isinstance(condition, dict) else None
        if kind is not None and kind.name.endswith(".MultipleCondition"):
            report.error(
                key_path(index_path(key_path(path, "conditions"), index), "type"),
                "invalid webhook: conditions of type MultipleCondition are not supported",
            )


def _multiple_condition(report: Report, condition: dict, path: str, _flow: FlowContext) -> None:
    check_time_window(report, condition.get("timeWindow"), key_path(path, "timeWindow"))


def _trigger_labels(report: Report, trigger: dict, path: str, _flow: FlowContext) -> None:
    check_labels(report, trigger.get("labels"), key_path(path, "labels"))


TYPE_CHECKS: dict[str, Check] = {
    "io.kestra.plugin.core.flow.Switch": _switch,
    "io.kestra.plugin.core.flow.Dag": _dag,
    "io.kestra.plugin.core.flow.Subflow": _subflow,
    "io.kestra.plugin.core.flow.ForEachItem": _subflow,
    "io.kestra.plugin.core.flow.WorkingDirectory": _working_directory,
    "io.kestra.plugin.core.trigger.Schedule": _schedule,
    "io.kestra.plugin.core.trigger.Flow": _flow_trigger,
    "io.kestra.plugin.core.trigger.Webhook": _webhook,
    "io.kestra.plugin.core.condition.MultipleCondition": _multiple_condition,
}
"""Extra checks by canonical type name, run after the schema."""

TRIGGER_CHECK: Check = _trigger_labels
"""Run on every trigger."""
