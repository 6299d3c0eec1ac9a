"""The index keys of a Flow trigger: the (namespace, flow id, state) triples of the upstream
transitions that may concern it, `ANY` ("") where the trigger does not narrow a field.
A superset is safe (every candidate is evaluated in full); a missing key loses events, so
anything not understood here widens to ANY."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triggers.engine.conditions import MULTIPLE, condition_name

ANY = ""
TERMINAL_STATES = (
    "FAILED",
    "WARNING",
    "SUCCESS",
    "KILLED",
    "CANCELLED",
    "RETRIED",
    "SKIPPED",
)

Key = tuple[str, str, str]
Place = tuple[str, str]  # (namespace, flow id)


def trigger_states(spec: dict[str, Any]) -> tuple[str, ...]:
    """The trigger's `states` (default: the terminal states; CREATED never matches)."""
    states = spec.get("states")
    if not isinstance(states, list) or not states:
        return TERMINAL_STATES
    return tuple(str(state) for state in states if state != "CREATED")


def match_keys(spec: dict[str, Any]) -> list[Key]:
    states = trigger_states(spec)
    places = _places(spec)
    return sorted({(ns, fid, state) for ns, fid in places for state in states})


def _places(spec: dict[str, Any]) -> set[Place]:
    narrowed: set[Place] | None = None
    multiple: list[set[Place]] = []
    for condition in spec.get("conditions") or []:
        name = condition_name(condition)
        if name == MULTIPLE:
            subs = (condition.get("conditions") or {}).values()
            multiple.append(set().union(*(_one(sub) for sub in subs)) if subs else {(ANY, ANY)})
            continue
        own = _one(condition)
        if own != {(ANY, ANY)}:  # this condition must hold: it narrows the whole trigger
            narrowed = own if narrowed is None else _intersect(narrowed, own)
    if narrowed is not None:
        return narrowed
    preconditions = spec.get("preconditions")
    if isinstance(preconditions, dict):
        multiple.append(_precondition_places(preconditions))
    if multiple:
        return set().union(*multiple)
    return {(ANY, ANY)}


def _intersect(left: set[Place], right: set[Place]) -> set[Place]:
    kept = {place for place in left if place in right or (ANY, ANY) in right}
    return kept or left  # a contradiction matches nothing; keeping `left` stays a superset


def _one(condition: Any) -> set[Place]:
    name = condition_name(condition)
    if name == "ExecutionFlow" and condition.get("namespace") and condition.get("flowId"):
        return {(str(condition["namespace"]), str(condition["flowId"]))}
    if name == "ExecutionNamespace" and condition.get("namespace"):
        comparison = condition.get("comparison") or (
            "PREFIX" if condition.get("prefix") else "EQUALS"
        )
        if comparison == "EQUALS":
            return {(str(condition["namespace"]), ANY)}
    return {(ANY, ANY)}


def _precondition_places(preconditions: dict[str, Any]) -> set[Place]:
    places: set[Place] = set()
    for upstream in preconditions.get("flows") or []:
        if isinstance(upstream, dict) and upstream.get("namespace"):
            places.add((str(upstream["namespace"]), str(upstream.get("flowId") or ANY)))
        else:
            places.add((ANY, ANY))
    for where in preconditions.get("where") or []:
        places |= _where_places(where)
    return places or {(ANY, ANY)}


def _where_places(where: Any) -> set[Place]:
    if not isinstance(where, dict) or (where.get("operand") or "AND") != "AND":
        return {(ANY, ANY)}
    namespace = flow_id = ANY
    for item in where.get("filters") or []:
        if isinstance(item, dict) and item.get("type") == "EQUAL_TO":
            if item.get("field") == "NAMESPACE":
                namespace = str(item.get("value") or ANY)
            elif item.get("field") == "FLOW_ID":
                flow_id = str(item.get("value") or ANY)
    return {(namespace, flow_id)}


def lookup_values(namespace: str, flow_id: str, state: str) -> Iterable[tuple[str, ...]]:
    """The key values an upstream transition is looked up with, field by field."""
    return ((namespace, ANY), (flow_id, ANY), (state, ANY))
