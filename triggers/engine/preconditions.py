"""Multiple conditions of Flow triggers: the 0.20 `preconditions` and the legacy
`MultipleCondition`. Each holds sub-conditions that different upstream executions may
satisfy at different times; a *window* remembers which were met, and the trigger fires
once all were met within one window (Kestra's `FlowTriggerService`,
`MultipleConditionStorageInterface#getOrCreate`, `MultipleConditionWindow`).

Pure: the caller loads and stores windows and renders expressions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from executions.engine.rendering import truthy
from flows.spec.formats import parse_duration
from triggers.engine.conditions import MULTIPLE, condition_name

ONE_DAY = timedelta(days=1)
ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Upstream:
    """The upstream execution as conditions see it, at the transition being evaluated."""

    id: str
    namespace: str
    flow_id: str
    state: str
    labels: Sequence[tuple[str, str]] = ()  # read only for `flows` entries with labels


@dataclass(frozen=True)
class Multiple:
    """One multiple condition of a trigger: its id, its sub-conditions by Kestra's keys,
    its time window and whether a fired window is forgotten."""

    id: str
    subs: Mapping[str, tuple[str, Any]]  # key -> ("flow" | "where" | "legacy", definition)
    time_window: Mapping[str, Any]
    reset_on_success: bool


def multiples(spec: Mapping[str, Any]) -> list[Multiple]:
    """The trigger's multiple conditions: its legacy `MultipleCondition`s, then its
    `preconditions` (the order Kestra evaluates them)."""
    found = []
    for condition in spec.get("conditions") or []:
        if condition_name(condition) == MULTIPLE:
            declared = condition.get("conditions") or {}
            subs = {str(key): ("legacy", sub) for key, sub in declared.items()}
            window = condition.get("timeWindow") or _legacy_window(condition)
            found.append(
                Multiple(
                    id=str(condition.get("id")),
                    subs=subs,
                    time_window=window,
                    reset_on_success=condition.get("resetOnSuccess") is not False,
                )
            )
    preconditions = spec.get("preconditions")
    if isinstance(preconditions, Mapping):
        found.append(
            Multiple(
                id=str(preconditions.get("id")),
                subs=precondition_subs(preconditions),
                time_window=preconditions.get("timeWindow") or {},
                reset_on_success=preconditions.get("resetOnSuccess") is not False,
            )
        )
    return found


def precondition_subs(preconditions: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """Kestra's keys: `condition_<n>` for each `flows` entry, then `condition_<n>_<id>` for
    each `where` entry, numbered on from the flows."""
    subs: dict[str, tuple[str, Any]] = {}
    number = 0
    for upstream in preconditions.get("flows") or []:
        number += 1
        subs[f"condition_{number}"] = ("flow", upstream)
    for where in preconditions.get("where") or []:
        number += 1
        subs[f"condition_{number}_{where.get('id')}"] = ("where", where)
    return subs


def _legacy_window(condition: Mapping[str, Any]) -> dict[str, Any]:
    window: dict[str, Any] = {"type": "DURATION_WINDOW"}
    if condition.get("window"):
        window["window"] = condition["window"]
    if condition.get("windowAdvance"):
        window["windowAdvance"] = condition["windowAdvance"]
    return window


def upstream_flow_matches(entry: Mapping[str, Any], upstream: Upstream) -> bool:
    """A `preconditions.flows` entry: namespace, flow id, states and labels (compared as
    strings) of the upstream execution."""
    if entry.get("namespace") is not None and upstream.namespace != entry["namespace"]:
        return False
    if entry.get("flowId") is not None and upstream.flow_id != entry["flowId"]:
        return False
    states = entry.get("states")
    if states is not None and upstream.state not in states:
        return False
    wanted = entry.get("labels") or {}
    if not wanted:
        return True
    present = set(upstream.labels)
    return all((str(key), _text(value)) in present for key, value in wanted.items())


def _text(value: Any) -> str:
    """Java's `String.valueOf` for YAML scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


Render = Callable[[str], Any]


def where_matches(where: Mapping[str, Any], upstream: Upstream, render: Render) -> bool:
    """A `preconditions.where` entry: its filters combined with `operand` (AND default).
    EXPRESSION filters render their `value` in the upstream's context (`render` raises
    when that fails: the caller decides)."""
    filters = where.get("filters") or []
    results = (_filter_matches(item, upstream, render) for item in filters)
    return any(results) if where.get("operand") == "OR" else all(results)


def _filter_matches(item: Mapping[str, Any], upstream: Upstream, render: Render) -> bool:
    field = item.get("field")
    kind = item.get("type")
    value = item.get("value")
    if field == "EXPRESSION":
        rendered = render(str(value))
        actual = None if rendered is None else _text(rendered)
    else:
        actual = {
            "FLOW_ID": upstream.flow_id,
            "NAMESPACE": upstream.namespace,
            "STATE": upstream.state,
        }.get(str(field))
    expected = None if value is None else str(value)
    values = [str(v) for v in item.get("values") or []]
    if kind == "EQUAL_TO":
        return expected == actual
    if kind == "NOT_EQUAL_TO":
        return expected != actual
    if kind == "IN":
        return actual in values
    if kind == "NOT_IN":
        return actual not in values
    if kind == "IS_TRUE":
        return truthy(actual)
    if kind == "IS_FALSE":
        return not truthy(actual)
    if kind == "IS_NULL":
        return actual is None
    if kind == "IS_NOT_NULL":
        return actual is not None
    if actual is None or expected is None:
        return False
    if kind == "STARTS_WITH":
        return actual.startswith(expected)
    if kind == "ENDS_WITH":
        return actual.endswith(expected)
    if kind == "REGEX":
        return re.fullmatch(expected, actual) is not None  # Java's String.matches
    if kind == "CONTAINS":
        return expected in actual
    return False


def window_bounds(time_window: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """The window a new record opens at `now` (UTC, the server zone), as Kestra's
    `getOrCreate` computes it: DURATION_WINDOW aligned on the clock (a day from midnight, an
    hour-based window from the top of the hour, minute windows in buckets of their length),
    shifted by `windowAdvance`; SLIDING_WINDOW from now; the daily ones within today."""
    now = now.astimezone(UTC).replace(microsecond=0)
    kind = time_window.get("type") or "DURATION_WINDOW"
    if kind == "SLIDING_WINDOW":
        return now, now + _duration(time_window.get("window"), ONE_DAY)
    midnight = now.replace(hour=0, minute=0, second=0)
    if kind == "DAILY_TIME_WINDOW":
        start = midnight + _seconds_of_day(time_window.get("startTime"))
        return start, midnight + _seconds_of_day(time_window.get("endTime"))
    if kind == "DAILY_TIME_DEADLINE":
        return midnight, midnight + _seconds_of_day(time_window.get("deadline"))
    window = _duration(time_window.get("window"), ONE_DAY)
    start = now
    if window >= ONE_DAY:
        start = start.replace(hour=0)
    if window >= timedelta(hours=1):
        start = start.replace(minute=0)
    minutes = int(window.total_seconds() // 60)
    if minutes > 0:
        start = start.replace(second=0, minute=0) + timedelta(
            minutes=minutes * (now.minute // minutes)
        )
    advance = time_window.get("windowAdvance")
    if advance:
        start = start + parse_duration(str(advance))
    return start, start + window - ONE_MS


def window_valid(start: datetime, end: datetime, now: datetime) -> bool:
    """Kestra's `isValid` (inside the window; its start counts, as a window opened at `now`
    truncated to the second is valid at once)."""
    return start <= now < end


def _duration(value: Any, default: timedelta) -> timedelta:
    return parse_duration(str(value)) if value else default


def _seconds_of_day(value: Any) -> timedelta:
    """`HH:MM[:SS]` as a time of day; an offset (`09:00:00+01:00`) is read and applied, so
    the deadline is the same instant whatever the server's zone."""
    text = str(value or "00:00:00")
    parsed = time.fromisoformat(text)
    seconds = parsed.hour * 3600 + parsed.minute * 60 + parsed.second
    offset = parsed.utcoffset()
    if offset is not None:
        seconds -= int(offset.total_seconds())
    return timedelta(seconds=seconds)


def met_now(
    multiple: Multiple,
    upstream: Upstream,
    render: Render,
    legacy: Callable[[Any], bool],
) -> dict[str, bool]:
    """Which sub-conditions this upstream execution meets (only the true ones matter:
    a window's results are never set back to false)."""
    met = {}
    for key, (kind, definition) in multiple.subs.items():
        if kind == "flow":
            ok = upstream_flow_matches(definition, upstream)
        elif kind == "where":
            ok = where_matches(definition, upstream, render)
        else:
            ok = legacy(definition)
        if ok:
            met[key] = True
    return met


def complete(multiple: Multiple, results: Mapping[str, Any]) -> bool:
    return bool(multiple.subs) and all(key in results for key in multiple.subs)
