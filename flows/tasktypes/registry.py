"""The catalogue of task, trigger and condition types a flow may name.

A type is one `TaskType`: its canonical name, the legacy names Kestra 0.20 still accepts, its
kind, its own properties as JSON Schema and the properties that hold child tasks. The flow
validator, the editor's autocomplete and (later) the task implementations all key on the
canonical name, so adding a type is one registration and nothing else.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flows.tasktypes.common import (
    COMMON_CONDITION_PROPERTIES,
    COMMON_TASK_PROPERTIES,
    COMMON_TRIGGER_PROPERTIES,
    CONDITIONS,
    FLOW_KEYS,
    INPUT_TYPES,
    TASKS,
    Schema,
    child,
)

KINDS = ("task", "flowable", "trigger", "condition")
_COMMON = {
    "task": COMMON_TASK_PROPERTIES,
    "flowable": COMMON_TASK_PROPERTIES,
    "trigger": COMMON_TRIGGER_PROPERTIES,
    "condition": COMMON_CONDITION_PROPERTIES,
}


@dataclass(frozen=True)
class TaskType:
    """One registered type. `schema` validates a whole task (common properties included,
    unknown keys refused); `children` maps a property to the shape of what it holds."""

    name: str
    kind: str
    description: str
    properties: Mapping[str, Schema]
    required: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    children: Mapping[str, str] = field(default_factory=dict)
    deprecated: bool = False
    schema: Schema = field(default_factory=dict, compare=False, repr=False)

    def deprecated_alias(self, type_name: str) -> bool:
        """True when `type_name` is one of the legacy names of this type."""
        return type_name != self.name and type_name in self.aliases

    @property
    def all_properties(self) -> dict[str, Schema]:
        return {**_COMMON[self.kind], **self.properties}

    @property
    def runnable(self) -> bool:
        return self.kind == "task"


def _make(
    kind: str,
    name: str,
    description: str,
    properties: dict[str, Schema] | None,
    required: Iterable[str],
    aliases: Iterable[str],
    children: dict[str, str] | None,
    deprecated: bool,
) -> TaskType:
    own = dict(properties or {})
    shapes = dict(children or {})
    if kind == "flowable":
        shapes.setdefault("errors", TASKS)
    if kind == "trigger":
        shapes.setdefault("conditions", CONDITIONS)
    common = _COMMON[kind]
    for prop, shape in shapes.items():
        if prop not in common:
            own.setdefault(prop, child(f"Child {shape.replace('_', ' ')}.", shape))
    if kind == "flowable":
        own["errors"] = child("Tasks run when a child task fails.", TASKS)
    all_properties = {**common, **own}
    schema: Schema = {
        "type": "object",
        "properties": all_properties,
        "additionalProperties": False,
    }
    required = tuple(required)
    if required:
        schema["required"] = list(required)
    return TaskType(
        name=name,
        kind=kind,
        description=description,
        properties=MappingProxyType(own),
        required=required,
        aliases=tuple(aliases),
        children=MappingProxyType(shapes),
        deprecated=deprecated,
        schema=schema,
    )


def task(
    name: str,
    description: str,
    properties: dict[str, Schema] | None = None,
    *,
    required: Iterable[str] = (),
    aliases: Iterable[str] = (),
    children: dict[str, str] | None = None,
    deprecated: bool = False,
) -> TaskType:
    """A runnable task (runs on a worker and may return outputs)."""
    return _make("task", name, description, properties, required, aliases, children, deprecated)


def flowable(
    name: str,
    description: str,
    properties: dict[str, Schema] | None = None,
    *,
    required: Iterable[str] = (),
    aliases: Iterable[str] = (),
    children: dict[str, str] | None = None,
    deprecated: bool = False,
) -> TaskType:
    """A task that orchestrates child tasks; it always accepts an `errors` branch."""
    return _make("flowable", name, description, properties, required, aliases, children, deprecated)


def trigger(
    name: str,
    description: str,
    properties: dict[str, Schema] | None = None,
    *,
    required: Iterable[str] = (),
    aliases: Iterable[str] = (),
    children: dict[str, str] | None = None,
    deprecated: bool = False,
) -> TaskType:
    return _make("trigger", name, description, properties, required, aliases, children, deprecated)


def condition(
    name: str,
    description: str,
    properties: dict[str, Schema] | None = None,
    *,
    required: Iterable[str] = (),
    aliases: Iterable[str] = (),
    children: dict[str, str] | None = None,
    deprecated: bool = False,
) -> TaskType:
    return _make(
        "condition", name, description, properties, required, aliases, children, deprecated
    )


class TaskTypeRegistry:
    """Lookup by canonical name or alias, suggestions for typos, and the editor catalogue."""

    def __init__(self, types: Iterable[TaskType] = ()) -> None:
        self._types: dict[str, TaskType] = {}
        self._names: dict[str, TaskType] = {}
        self._catalog: dict[str, Any] | None = None
        for task_type in types:
            self.register(task_type)

    def register(self, task_type: TaskType) -> TaskType:
        if task_type.kind not in KINDS:
            raise ValueError(f"unknown kind {task_type.kind!r} for {task_type.name}")
        for name in (task_type.name, *task_type.aliases):
            if name in self._names:
                raise ValueError(f"type name {name!r} is registered twice")
        self._types[task_type.name] = task_type
        for name in (task_type.name, *task_type.aliases):
            self._names[name] = task_type
        self._catalog = None
        return task_type

    def get(self, type_name: str) -> TaskType | None:
        """The type registered under `type_name`, canonical or legacy alias."""
        if not isinstance(type_name, str):
            return None
        return self._names.get(type_name)

    def all(self, kinds: Iterable[str] | None = None) -> list[TaskType]:
        wanted = set(kinds) if kinds is not None else set(KINDS)
        return [t for t in self._types.values() if t.kind in wanted]

    def suggest(self, type_name: str, n: int = 3, kinds: Iterable[str] | None = None) -> list[str]:
        """Closest canonical names. The class name (last segment) weighs most, so that
        `io.kestra.core.tasks.log.Lg` finds `io.kestra.plugin.core.log.Log` although the
        packages differ; when nothing is close, the least distant names are still offered."""
        if not isinstance(type_name, str) or not type_name:
            return []
        last = type_name.rsplit(".", 1)[-1].lower()
        scored = []
        for candidate in (t.name for t in self.all(kinds)):
            whole = difflib.SequenceMatcher(None, type_name, candidate).ratio()
            tail = difflib.SequenceMatcher(None, last, candidate.rsplit(".", 1)[-1].lower())
            scored.append((0.3 * whole + 0.7 * tail.ratio(), candidate))
        scored.sort(key=lambda item: -item[0])
        close = [name for score, name in scored if score >= 0.6]
        return (close or [name for _, name in scored])[:n]

    def autocomplete_catalog(self) -> dict[str, Any]:
        """JSON for the editor: every type with its own properties, plus the flow-level keys,
        the properties every task (and every trigger) accepts and the input types."""
        if self._catalog is None:
            self._catalog = {
                "tasks": [_entry(t) for t in self.all(("task", "flowable"))],
                "triggers": [_entry(t) for t in self.all(("trigger",))],
                "conditions": [_entry(t) for t in self.all(("condition",))],
                "flowKeys": list(FLOW_KEYS),
                "taskKeys": list(COMMON_TASK_PROPERTIES),
                "triggerKeys": list(COMMON_TRIGGER_PROPERTIES),
                "inputTypes": list(INPUT_TYPES),
            }
        return copy.deepcopy(self._catalog)


def _entry(task_type: TaskType) -> dict[str, Any]:
    required = set(task_type.required)
    properties = {}
    for name, schema in task_type.properties.items():
        item: dict[str, Any] = {
            "type": _type_label(schema),
            "description": schema.get("description", ""),
            "required": name in required,
        }
        if "enum" in schema:
            item["enum"] = list(schema["enum"])
        properties[name] = item
    entry: dict[str, Any] = {
        "type": task_type.name,
        "kind": task_type.kind,
        "description": task_type.description,
        "properties": properties,
    }
    if task_type.aliases:
        entry["aliases"] = list(task_type.aliases)
    if task_type.deprecated:
        entry["deprecated"] = True
    return entry


def _type_label(schema: Schema) -> str:
    if "x-children" in schema:
        return "object" if schema["x-children"] in ("task_map", "condition_map") else "array"
    if schema.get("format") == "duration":
        return "duration"
    kind = schema.get("type", "any")
    return "|".join(kind) if isinstance(kind, list) else kind
