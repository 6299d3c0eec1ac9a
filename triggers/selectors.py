"""Reads of trigger rows for the triggers page, the flow's Triggers tab and the API: search,
get, the state of a Flow trigger's preconditions in their current window, the executions a
trigger started, and Kestra's trigger JSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet, Value

from executions.models import Execution
from flows.models import Flow
from tenants.errors import NotFound
from tenants.models import Tenant
from triggers.engine.conditions import MULTIPLE, condition_name
from triggers.engine.keys import trigger_states
from triggers.engine.preconditions import precondition_subs, window_valid
from triggers.models import FLOW, PreconditionWindow, Trigger

SORT_FIELDS = {
    "triggerId": "trigger_id",
    "flowId": "flow_id",
    "namespace": "namespace",
    "nextExecutionDate": "next_date",
    "date": "last_date",
}
HISTORY_SIZE = 20


def trigger_list(*, tenant: Tenant) -> QuerySet[Trigger]:
    """Every trigger of the tenant's flows, with the flow row (links, inputs) joined."""
    return (
        Trigger.objects.for_tenant(tenant)
        .filter(flow_row__deleted=False)
        .select_related("flow_row__namespace")
    )


@dataclass(frozen=True)
class TriggerQuery:
    q: str = ""
    namespace: str = ""  # the namespace and its children
    flow_id: str = ""
    kind: str = ""
    type: str = ""
    sort: tuple[str, str] = ("namespace", "asc")


def trigger_search(*, tenant: Tenant, query: TriggerQuery) -> QuerySet[Trigger]:
    """Triggers matching text (trigger id, flow id, namespace), a namespace prefix, a flow id,
    a kind and a type; ordered by `sort`, then namespace, flow and trigger id."""
    triggers = trigger_list(tenant=tenant)
    if query.q:
        triggers = triggers.filter(
            Q(trigger_id__icontains=query.q)
            | Q(flow_id__icontains=query.q)
            | Q(namespace__icontains=query.q)
        )
    if query.namespace:
        triggers = triggers.filter(
            Q(namespace=query.namespace) | Q(namespace__startswith=query.namespace + ".")
        )
    if query.flow_id:
        triggers = triggers.filter(flow_id=query.flow_id)
    if query.kind:
        triggers = triggers.filter(kind=query.kind)
    if query.type:
        triggers = triggers.filter(type=query.type)
    field_name, direction = query.sort
    column = F(SORT_FIELDS[field_name])
    # dates: triggers that have none come last either way
    expression = (
        column.desc(nulls_last=True) if direction == "desc" else column.asc(nulls_last=True)
    )
    return triggers.order_by(expression, "namespace", "flow_id", "trigger_id")


def trigger_list_for_flow(*, tenant: Tenant, flow: Flow) -> QuerySet[Trigger]:
    return trigger_list(tenant=tenant).filter(flow_row=flow).order_by("trigger_id")


def trigger_get(*, tenant: Tenant, namespace: str, flow_id: str, trigger_id: str) -> Trigger:
    """The trigger of this tenant's flow. Missing and another tenant's raise the same
    NotFound, naming what was asked for."""
    found = (
        trigger_list(tenant=tenant)
        .filter(namespace=namespace, flow_id=flow_id, trigger_id=trigger_id)
        .first()
    )
    if found is None:
        raise NotFound(f"Trigger {trigger_id} of flow {namespace}.{flow_id} not found")
    return found


def trigger_history(*, tenant: Tenant, trigger: Trigger, size: int = HISTORY_SIZE) -> list[Any]:
    """The last executions the trigger started, newest first. Executions carry Kestra's
    `trigger: {id, type, variables}`; the flow's index (tenant, namespace, flow id, start
    date) walks the flow's executions newest first and stops after `size` matches."""
    return list(
        Execution.objects.for_tenant(tenant)
        .filter(namespace=trigger.namespace, flow_id=trigger.flow_id)
        .filter(trigger__id=trigger.trigger_id)
        .only("id", "state", "start_date", "end_date", "trigger", "labels", "namespace", "flow_id")
        .order_by("-start_date", "-id")[:size]
    )


def last_executions(*, tenant: Tenant, triggers: Sequence[Trigger]) -> dict[int, dict[str, Any]]:
    """Trigger pk -> the last execution it started (`id`, `state`, `start_date`), for a page
    of triggers in one statement: one index-ordered `LIMIT 1` per trigger, united."""
    if not triggers:
        return {}
    executions = Execution.objects.for_tenant(tenant)
    parts = [
        executions.filter(
            namespace=trigger.namespace, flow_id=trigger.flow_id, trigger__id=trigger.trigger_id
        )
        .order_by("-start_date", "-id")
        .annotate(trigger_key=Value(trigger.pk))
        .values("id", "state", "start_date", "trigger_key")[:1]
        for trigger in triggers
    ]
    first, *others = parts
    rows = first.union(*others, all=True) if others else first
    return {row["trigger_key"]: row for row in rows}


# --- preconditions -------------------------------------------------------------------------


@dataclass(frozen=True)
class SubCondition:
    """One upstream condition of a multiple condition, and what met it in the window."""

    key: str
    description: str
    met: bool = False
    execution_id: str = ""
    namespace: str = ""
    flow_id: str = ""
    state: str = ""
    at: str = ""

    @property
    def at_moment(self) -> datetime | None:
        """`at` as a date-time, for the page (None when missing or unreadable)."""
        try:
            return datetime.fromisoformat(self.at) if self.at else None
        except ValueError:
            return None


@dataclass(frozen=True)
class PreconditionState:
    """A multiple condition (`preconditions`, or a legacy `MultipleCondition`) of a Flow
    trigger in its current window; no window (`start` None) when nothing has matched since
    the last one ended or fired."""

    condition_id: str
    window: str
    start: datetime | None
    end: datetime | None
    conditions: list[SubCondition] = field(default_factory=list)

    @property
    def met_count(self) -> int:
        return sum(1 for condition in self.conditions if condition.met)

    @property
    def total(self) -> int:
        return len(self.conditions)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.condition_id,
            "timeWindow": self.window,
            "windowStart": _iso(self.start),
            "windowEnd": _iso(self.end),
            "met": self.met_count,
            "total": self.total,
            "conditions": [
                {
                    "key": sub.key,
                    "description": sub.description,
                    "met": sub.met,
                    "executionId": sub.execution_id or None,
                    "namespace": sub.namespace or None,
                    "flowId": sub.flow_id or None,
                    "state": sub.state or None,
                    "at": sub.at or None,
                }
                for sub in self.conditions
            ],
        }


def precondition_states(
    *, tenant: Tenant, triggers: Iterable[Trigger], now: datetime
) -> dict[int, list[PreconditionState]]:
    """Trigger pk -> the state of each of its multiple conditions, for the Flow triggers
    among `triggers` (one query for all their windows). A window counts only while `now`
    is inside it: an expired one is what the evaluator replaces at the next event."""
    flow_triggers = [trigger for trigger in triggers if trigger.kind == FLOW]
    declared = {trigger.pk: multiple_conditions(trigger.spec) for trigger in flow_triggers}
    wanted = [pk for pk, conditions in declared.items() if conditions]
    windows: dict[tuple[int, str], PreconditionWindow] = {}
    if wanted:
        rows = PreconditionWindow.objects.for_tenant(tenant).filter(trigger_id__in=wanted)
        windows = {(row.trigger_id, row.condition_id): row for row in rows}
    states: dict[int, list[PreconditionState]] = {}
    for pk in wanted:
        states[pk] = []
        for condition_id, window, subs in declared[pk]:
            row = windows.get((pk, condition_id))
            current = row is not None and window_valid(row.start, row.end, now)
            results = row.results if current and isinstance(row.results, dict) else {}
            states[pk].append(
                PreconditionState(
                    condition_id=condition_id,
                    window=window,
                    start=row.start if current else None,
                    end=row.end if current else None,
                    conditions=[_met(key, text, results.get(key)) for key, text in subs],
                )
            )
    return states


Declared = list[tuple[str, str, list[tuple[str, str]]]]


def multiple_conditions(spec: dict[str, Any]) -> Declared:
    """(condition id, window description, [(sub-condition key, description)]) for each
    multiple condition of a Flow trigger's spec, keyed as Kestra keys them: `preconditions`
    numbers its `flows` `condition_1`, `condition_2`, ... then continues with its `where`
    entries as `condition_<n>_<where id>`; a legacy MultipleCondition uses its map keys."""
    found: Declared = []
    for condition in spec.get("conditions") or []:
        if not isinstance(condition, dict) or condition_name(condition) != MULTIPLE:
            continue
        subs = condition.get("conditions")
        subs = subs if isinstance(subs, dict) else {}
        window = _legacy_window(condition)
        described = [(str(key), _describe_condition(sub)) for key, sub in subs.items()]
        found.append((str(condition.get("id") or "multiple"), window, described))
    preconditions = spec.get("preconditions")
    if isinstance(preconditions, dict):
        described = [
            (key, _describe_upstream(entry) if kind == "flow" else _describe_where(entry))
            for key, (kind, entry) in precondition_subs(preconditions).items()
        ]
        window = _time_window(preconditions.get("timeWindow"))
        found.append((str(preconditions.get("id") or "preconditions"), window, described))
    return found


def _met(key: str, description: str, result: Any) -> SubCondition:
    if not isinstance(result, dict):
        return SubCondition(key=key, description=description)
    return SubCondition(
        key=key,
        description=description,
        met=True,
        execution_id=str(result.get("executionId") or ""),
        namespace=str(result.get("namespace") or ""),
        flow_id=str(result.get("flowId") or ""),
        state=str(result.get("state") or ""),
        at=str(result.get("at") or ""),
    )


def _describe_upstream(upstream: Any) -> str:
    if not isinstance(upstream, dict):
        return "an upstream flow"
    place = str(upstream.get("namespace") or "any namespace")
    if upstream.get("flowId"):
        place += f".{upstream['flowId']}"
    text = place
    states = upstream.get("states")
    if isinstance(states, list) and states:
        text += " in " + ", ".join(str(state) for state in states)
    labels = upstream.get("labels")
    if isinstance(labels, dict) and labels:
        text += " with " + ", ".join(f"{key}:{value}" for key, value in labels.items())
    return text


def _describe_where(where: Any) -> str:
    if not isinstance(where, dict):
        return "a filter"
    operand = f" {str(where.get('operand') or 'AND').upper()} "
    parts = []
    for item in where.get("filters") or []:
        if not isinstance(item, dict):
            continue
        value = item.get("values") if "values" in item else item.get("value")
        rendered = ", ".join(map(str, value)) if isinstance(value, list) else value
        parts.append(f"{item.get('field')} {item.get('type')} {rendered}".strip())
    return operand.join(parts) or str(where.get("id") or "a filter")


def _describe_condition(condition: Any) -> str:
    if not isinstance(condition, dict):
        return "a condition"
    name = condition_name(condition)
    if name == "ExecutionFlow":
        return f"{condition.get('namespace')}.{condition.get('flowId')}"
    if name == "ExecutionStatus":
        states = condition.get("in") or trigger_states({})
        return "state in " + ", ".join(map(str, states))
    if name == "ExecutionNamespace":
        return f"namespace {condition.get('comparison') or 'EQUALS'} {condition.get('namespace')}"
    return name.rsplit(".", 1)[-1] or "a condition"


def _time_window(value: Any) -> str:
    if not isinstance(value, dict):
        return "DURATION_WINDOW PT24H"
    kind = str(value.get("type") or "DURATION_WINDOW")
    if kind == "DAILY_TIME_DEADLINE":
        return f"{kind} {value.get('deadline')}"
    if kind == "DAILY_TIME_WINDOW":
        return f"{kind} {value.get('startTime')}–{value.get('endTime')}"
    text = f"{kind} {value.get('window') or 'PT24H'}"
    if value.get("windowAdvance"):
        text += f" advanced {value['windowAdvance']}"
    return text


def _legacy_window(condition: dict[str, Any]) -> str:
    text = f"DURATION_WINDOW {condition.get('window') or 'PT24H'}"
    if condition.get("windowAdvance"):
        text += f" advanced {condition['windowAdvance']}"
    return text


# --- JSON ----------------------------------------------------------------------------------


def trigger_as_json(
    trigger: Trigger,
    *,
    preconditions: list[PreconditionState] | None = None,
    progress: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Kestra's trigger context (namespace, flowId, triggerId, date, nextExecutionDate,
    executionId, disabled, backfill, updatedDate) and Aviary's extras: kind, type, whether the
    YAML disables it, the warning, the preconditions' state and the backfill's progress."""
    stop_after = trigger.spec.get("stopAfter")
    return {
        "namespace": trigger.namespace,
        "flowId": trigger.flow_id,
        "triggerId": trigger.trigger_id,
        "date": _iso(trigger.last_date),
        "nextExecutionDate": _iso(trigger.next_date),
        "executionId": trigger.execution_id or None,
        "disabled": trigger.disabled,
        "backfill": backfill_as_json(trigger.backfill),
        "stopAfter": stop_after if isinstance(stop_after, list) else None,
        "updatedDate": _iso(trigger.updated_at),
        "kind": trigger.kind,
        "type": trigger.type,
        "flowRevision": trigger.flow_revision,
        "disabledInFlow": trigger.spec_disabled,
        "enabled": trigger.active,
        "locked": bool(trigger.execution_id),
        "warning": trigger.warning or None,
        "preconditions": [state.as_json() for state in preconditions or []],
        "backfillProgress": progress,
    }


def backfill_as_json(backfill: Any) -> dict[str, Any] | None:
    """Kestra's Backfill: start, end, currentDate, paused, inputs, labels as `{key, value}`."""
    if not isinstance(backfill, dict):
        return None
    labels = backfill.get("labels") or []
    if isinstance(labels, dict):
        labels = [{"key": key, "value": value} for key, value in labels.items()]
    labels = [
        label if isinstance(label, dict) else {"key": label[0], "value": label[1]}
        for label in labels
        if isinstance(label, dict) or (isinstance(label, list | tuple) and len(label) == 2)
    ]
    return {
        "start": backfill.get("start"),
        "end": backfill.get("end"),
        "currentDate": backfill.get("currentDate"),
        "paused": bool(backfill.get("paused")),
        "inputs": backfill.get("inputs") or {},
        "labels": labels,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def backfill_executions_count(
    *, tenant: Tenant, trigger: Trigger, start: datetime, end: datetime, ticks: int
) -> int:
    """How many of the trigger's executions ran a tick between `start` and `end`: those of an
    ended backfill, whose record the scheduler removes at its end. Its executions are the
    trigger's newest (its normal ticks wait during a backfill), so the newest `ticks` + 50
    are enough to look at."""
    rows = (
        Execution.objects.for_tenant(tenant)
        .filter(namespace=trigger.namespace, flow_id=trigger.flow_id)
        .filter(trigger__id=trigger.trigger_id)
        .order_by("-start_date", "-id")
        .values_list("trigger", flat=True)[: ticks + 50]
    )
    count = 0
    for variables in (row.get("variables") or {} for row in rows if isinstance(row, dict)):
        tick = _moment(variables.get("date")) if isinstance(variables, dict) else None
        count += tick is not None and start <= tick <= end
    return count


def _moment(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
