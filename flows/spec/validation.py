"""Check a flow's YAML against Kestra 0.20's flow model and collect every problem.

The walk visits the flow-level sections, every task at any depth (ids unique across the
whole flow, as Kestra's FlowValidator requires), every trigger and condition. Each problem is a
`Violation` with a dotted path and the YAML line; nothing stops at the first one.
"""

from __future__ import annotations

import re
from typing import Any

from flows.spec.inputs import check_inputs
from flows.spec.paths import index_path, key_path
from flows.spec.report import Report
from flows.spec.schema import relaxed, schema_violations, strict, type_name, without_nulls
from flows.spec.semantics import (
    FLOW_LABELS_ALLOWED,
    TRIGGER_CHECK,
    TYPE_CHECKS,
    FlowContext,
    check_labels,
    check_retry,
)
from flows.spec.sla import check_sla
from flows.tasktypes import registry
from flows.tasktypes.common import (
    CONDITION_MAP,
    CONDITIONS,
    DAG,
    INPUT_TYPES,
    INPUTS,
    RETRY,
    TASK_MAP,
    TASKS,
    anything,
    boolean,
    duration,
    enum,
    integer,
    labels,
    mapping,
    obj,
    string,
)
from flows.tasktypes.registry import TaskType

FLOW_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
NAMESPACE = re.compile(r"[a-z0-9][a-z0-9._-]*")
TASK_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")
_ID_RULE = "it must start with a letter or digit and contain only letters, digits, '_' and '-'"


def _sla_branch(kind: str, properties: dict[str, Any], required: str) -> dict[str, Any]:
    common = {
        "id": string("Id of the SLA.", minLength=1),
        "type": enum(("MAX_DURATION", "EXECUTION_ASSERTION")),
        "behavior": enum(("FAIL", "CANCEL", "NONE")),
        "labels": labels(),
    }
    return {
        "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
        "then": {
            "properties": {**common, **properties},
            "required": [required],
            "additionalProperties": False,
        },
    }


_PLUGIN_DEFAULTS = {
    "type": "array",
    "items": obj(
        {"type": string(minLength=1), "forced": boolean(), "values": mapping()},
        required=("type", "values"),
    ),
}
FLOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": string(),
        "namespace": string(),
        "revision": integer(minimum=1),
        "description": string(),
        "labels": labels(),
        "inputs": anything(),
        "variables": mapping(),
        "tasks": anything(),
        "errors": anything(),
        "listeners": anything(),
        "triggers": anything(),
        "pluginDefaults": _PLUGIN_DEFAULTS,
        "taskDefaults": _PLUGIN_DEFAULTS,
        "concurrency": obj(
            {"limit": integer(minimum=1), "behavior": enum(("QUEUE", "CANCEL", "FAIL"))},
            required=("limit",),
        ),
        "outputs": {
            "type": "array",
            "items": obj(
                {
                    "id": string(pattern=r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$"),
                    "type": enum(INPUT_TYPES),
                    "value": anything(),
                    "description": string(),
                    "displayName": string(),
                },
                required=("id", "type", "value"),
            ),
        },
        "retry": RETRY,
        "sla": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"type": enum(("MAX_DURATION", "EXECUTION_ASSERTION"))},
                "required": ["id", "type", "behavior"],
                "allOf": [
                    _sla_branch("MAX_DURATION", {"duration": duration()}, "duration"),
                    _sla_branch("EXECUTION_ASSERTION", {"assert": string(minLength=1)}, "assert"),
                ],
            },
        },
        "disabled": boolean(),
        "deleted": boolean(),
    },
    "required": ["id", "namespace", "tasks"],
    "additionalProperties": False,
}
_FLOW_VALIDATOR = strict(FLOW_SCHEMA)
_VALIDATORS: dict[str, Any] = {}


def _validator(task_type: TaskType) -> Any:
    """One compiled validator per type, reused by every flow."""
    found = _VALIDATORS.get(task_type.name)
    if found is None:
        found = _VALIDATORS[task_type.name] = relaxed(task_type.schema)
    return found


class FlowChecker:
    """One pass over one flow's data; problems go to the `Report`, never raised, so that the
    editor can show all of them at once."""

    def __init__(self, data: dict[str, Any], report: Report) -> None:
        self.data = data
        self.report = report
        self.task_ids: dict[str, str] = {}
        self.trigger_ids: dict[str, str] = {}
        self.context = FlowContext(data.get("id"), data.get("namespace"), registry.get)

    def run(self) -> None:
        data, report = self.data, self.report
        report.extend(schema_violations(_FLOW_VALIDATOR, without_nulls(data), "", report.position))
        self.check_identity()
        self.check_tasks(data.get("tasks"), "tasks", required=True)
        self.check_tasks(data.get("errors"), "errors")
        self.check_listeners(data.get("listeners"))
        self.check_triggers(data.get("triggers"))
        check_inputs(report, data.get("inputs"), "inputs")
        self.check_outputs(data.get("outputs"))
        check_labels(report, data.get("labels"), "labels", allowed=FLOW_LABELS_ALLOWED)
        check_retry(report, data.get("retry"), "retry")
        slas = data.get("sla")
        for index, sla in enumerate(slas if isinstance(slas, list) else []):
            if isinstance(sla, dict):
                check_sla(report, sla, index_path("sla", index))
        if data.get("taskDefaults") is not None:
            report.warn("taskDefaults", "'taskDefaults' is deprecated, use 'pluginDefaults'")

    def check_identity(self) -> None:
        flow_id, namespace = self.data.get("id"), self.data.get("namespace")
        if isinstance(flow_id, str):
            if not FLOW_ID.fullmatch(flow_id):
                self.report.error(
                    "id",
                    f"Flow id '{flow_id}' is invalid: it must start with a "
                    "letter or digit and contain only letters, digits, "
                    "'.', '_' and '-'",
                )
            elif len(flow_id) > 100:
                self.report.error("id", "Flow id must be at most 100 characters long")
        if isinstance(namespace, str):
            if not NAMESPACE.fullmatch(namespace):
                self.report.error(
                    "namespace",
                    f"Namespace '{namespace}' is invalid: it must be "
                    "lower case, start with a letter or digit and "
                    "contain only letters, digits, '.', '_' and '-'",
                )
            elif len(namespace) > 150:
                self.report.error("namespace", "Namespace must be at most 150 characters long")

    # -- tasks ---------------------------------------------------------------------------

    def check_tasks(self, value: Any, path: str, *, required: bool = False) -> None:
        if value is None:
            return
        name = path.rsplit(".", 1)[-1]
        if not isinstance(value, list):
            self.report.error(
                path, f"Property '{name}' must be a list of tasks, got {type_name(value)}"
            )
            return
        if required and not value:
            self.report.error(path, f"Property '{name}' must not be empty")
        for index, task in enumerate(value):
            self.check_task(task, index_path(path, index))

    def check_task(self, task: Any, path: str) -> None:
        if not isinstance(task, dict):
            self.report.error(
                path, f"A task must be a map with an id and a type, got {type_name(task)}"
            )
            return
        self.check_id(task, path, self.task_ids, "Task")
        task_type = self.resolve(task, path, ("task", "flowable"), "task")
        if task_type is None:
            return
        self.check_plugin(task, path, task_type)
        check_retry(self.report, task.get("retry"), key_path(path, "retry"))

    def check_id(self, item: dict, path: str, seen: dict[str, str], what: str) -> None:
        item_id = item.get("id")
        id_path = key_path(path, "id")
        if item_id is None:
            self.report.error(id_path, "Missing required property 'id'", at=path)
        elif not isinstance(item_id, str):
            self.report.error(id_path, f"{what} id must be a string, got {type_name(item_id)}")
        elif not TASK_ID.fullmatch(item_id):
            self.report.error(id_path, f"{what} id '{item_id}' is invalid: {_ID_RULE}")
        elif item_id in seen:
            self.report.error(
                id_path,
                f"Duplicate {what.lower()} id '{item_id}' (first used on "
                f"line {self.report.line(seen[item_id])})",
            )
        else:
            seen[item_id] = id_path

    def resolve(self, item: dict, path: str, kinds: tuple[str, ...], label: str) -> TaskType | None:
        """The registered type named by `item['type']`, or None after reporting why not."""
        name = item.get("type")
        type_path = key_path(path, "type")
        if name is None:
            self.report.error(type_path, "Missing required property 'type'", at=path)
            return None
        if not isinstance(name, str):
            self.report.error(type_path, f"Property 'type' must be a string, got {type_name(name)}")
            return None
        task_type = registry.get(name)
        if task_type is None:
            close = registry.suggest(name, kinds=kinds)
            hint = f". Did you mean: {', '.join(close)}?" if close else ""
            self.report.error(type_path, f"Unknown {label} type '{name}'{hint}")
            return None
        if task_type.kind not in kinds:
            kind = "task" if task_type.kind == "flowable" else task_type.kind
            self.report.error(type_path, f"'{name}' is a {kind} type, not a {label} type")
            return None
        if task_type.deprecated_alias(name):
            self.report.warn(
                type_path,
                f"{label.capitalize()} type '{name}' is deprecated, use '{task_type.name}'",
            )
        elif task_type.deprecated:
            self.report.warn(type_path, f"{label.capitalize()} type '{name}' is deprecated")
        return task_type

    def check_plugin(self, item: dict, path: str, task_type: TaskType) -> None:
        """Schema, then children, then the type's own rules."""
        self.report.extend(
            schema_violations(
                _validator(task_type), without_nulls(item), path, self.report.position
            )
        )
        for prop, shape in task_type.children.items():
            value = item.get(prop)
            if value is not None:
                self.check_children(
                    value, key_path(path, prop), shape, required=prop in task_type.required
                )
        check = TYPE_CHECKS.get(task_type.name)
        if check is not None:
            check(self.report, item, path, self.context)

    def check_children(self, value: Any, path: str, shape: str, *, required: bool) -> None:
        if shape == TASKS:
            self.check_tasks(value, path, required=required)
        elif shape == TASK_MAP:
            self.check_map(value, path, "a map of task lists", self.check_case)
        elif shape == DAG:
            self.check_dag(value, path)
        elif shape == CONDITIONS:
            self.check_conditions(value, path, required=required)
        elif shape == CONDITION_MAP:
            self.check_map(value, path, "a map of conditions", self.check_condition)
        elif shape == INPUTS:
            check_inputs(self.report, value, path)

    def check_case(self, value: Any, path: str) -> None:
        if isinstance(value, list):
            self.check_tasks(value, path)
        else:
            name = path[path.rindex("[") + 2 : -2] if path.endswith("']") else path.rsplit(".")[-1]
            self.report.error(
                path, f"Case '{name}' must be a list of tasks, got {type_name(value)}"
            )

    def check_map(self, value: Any, path: str, what: str, each: Any) -> None:
        if not isinstance(value, dict):
            self.report.error(
                path, f"Property '{path.rsplit('.', 1)[-1]}' must be {what}, got {type_name(value)}"
            )
            return
        for key, item in value.items():
            each(item, key_path(path, key))

    def check_dag(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.report.error(
                path,
                "Property 'tasks' of a Dag must be a list of "
                f"{{task, dependsOn}}, got {type_name(value)}",
            )
            return
        if not value:
            self.report.error(path, "Property 'tasks' must not be empty")
        for index, item in enumerate(value):
            item_path = index_path(path, index)
            if not isinstance(item, dict):
                self.report.error(
                    item_path,
                    f"A Dag entry must be a map with 'task' and 'dependsOn', got {type_name(item)}",
                )
                continue
            for key in item:
                if key not in ("task", "dependsOn"):
                    self.report.error(
                        key_path(item_path, key),
                        f"Unknown property '{key}' in a Dag entry (task, dependsOn)",
                    )
            depends = item.get("dependsOn")
            if depends is not None and not (
                isinstance(depends, list) and all(isinstance(d, str) for d in depends)
            ):
                self.report.error(
                    key_path(item_path, "dependsOn"),
                    "Property 'dependsOn' must be a list of task ids",
                )
            if item.get("task") is None:
                self.report.error(
                    key_path(item_path, "task"), "Missing required property 'task'", at=item_path
                )
            else:
                self.check_task(item["task"], key_path(item_path, "task"))

    # -- triggers, conditions, listeners, outputs -------------------------------------------

    def check_triggers(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.report.error(
                "triggers",
                f"Property 'triggers' must be a list of triggers, got {type_name(value)}",
            )
            return
        for index, trigger in enumerate(value):
            path = index_path("triggers", index)
            if not isinstance(trigger, dict):
                self.report.error(
                    path, f"A trigger must be a map with an id and a type, got {type_name(trigger)}"
                )
                continue
            self.check_id(trigger, path, self.trigger_ids, "Trigger")
            task_type = self.resolve(trigger, path, ("trigger",), "trigger")
            if task_type is not None:
                self.check_plugin(trigger, path, task_type)
                TRIGGER_CHECK(self.report, trigger, path, self.context)

    def check_conditions(self, value: Any, path: str, *, required: bool = False) -> None:
        if not isinstance(value, list):
            self.report.error(
                path,
                f"Property '{path.rsplit('.', 1)[-1]}' must be a list of "
                f"conditions, got {type_name(value)}",
            )
            return
        if required and not value:
            self.report.error(path, f"Property '{path.rsplit('.', 1)[-1]}' must not be empty")
        for index, condition in enumerate(value):
            self.check_condition(condition, index_path(path, index))

    def check_condition(self, condition: Any, path: str) -> None:
        if not isinstance(condition, dict):
            self.report.error(
                path, f"A condition must be a map with a type, got {type_name(condition)}"
            )
            return
        task_type = self.resolve(condition, path, ("condition",), "condition")
        if task_type is not None:
            self.check_plugin(condition, path, task_type)

    def check_listeners(self, value: Any) -> None:
        if value is None:
            return
        self.report.warn("listeners", "'listeners' are deprecated, use a Flow trigger or 'errors'")
        if not isinstance(value, list):
            self.report.error(
                "listeners", f"Property 'listeners' must be a list, got {type_name(value)}"
            )
            return
        for index, listener in enumerate(value):
            path = index_path("listeners", index)
            if not isinstance(listener, dict):
                self.report.error(path, f"A listener must be a map, got {type_name(listener)}")
                continue
            for key in listener:
                if key not in ("description", "conditions", "tasks"):
                    self.report.error(
                        key_path(path, key), f"Unknown property '{key}' in a listener"
                    )
            if listener.get("tasks") is None:
                self.report.error(
                    key_path(path, "tasks"), "Missing required property 'tasks'", at=path
                )
            self.check_tasks(listener.get("tasks"), key_path(path, "tasks"), required=True)
            if listener.get("conditions") is not None:
                self.check_conditions(listener["conditions"], key_path(path, "conditions"))

    def check_outputs(self, value: Any) -> None:
        if not isinstance(value, list):
            return
        seen: dict[str, str] = {}
        for index, output in enumerate(value):
            output_id = output.get("id") if isinstance(output, dict) else None
            if not isinstance(output_id, str):
                continue
            path = key_path(index_path("outputs", index), "id")
            if output_id in seen:
                self.report.error(
                    path,
                    f"Duplicate output id '{output_id}' (first defined on "
                    f"line {self.report.line(seen[output_id])})",
                )
            else:
                seen[output_id] = path
