"""JSON Schema building blocks shared by task, trigger and condition types.

Every helper returns a plain JSON Schema (Draft 2020-12) fragment with a `description`, which
the editor's autocomplete shows. Properties holding child tasks, conditions or input
definitions carry no schema here: the flow validator walks them recursively (paths such as
`tasks[1].then[0].type`) and names each shape in `TaskType.children`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Schema = dict[str, Any]

# Shapes of child properties, walked by the flow validator.
TASKS = "tasks"  # a list of tasks
TASK_MAP = "task_map"  # a map of name -> list of tasks (Switch `cases`)
DAG = "dag"  # a list of {task, dependsOn} (Dag `tasks`)
CONDITIONS = "conditions"  # a list of conditions
CONDITION_MAP = "condition_map"  # a map of name -> condition (MultipleCondition)
INPUTS = "inputs"  # a list of input definitions (Pause `onResume`)

LEVELS = ("ERROR", "WARN", "INFO", "DEBUG", "TRACE")
STATES = (
    "CREATED",
    "RUNNING",
    "PAUSED",
    "RESTARTED",
    "KILLING",
    "SUCCESS",
    "WARNING",
    "FAILED",
    "KILLED",
    "CANCELLED",
    "QUEUED",
    "RETRYING",
    "RETRIED",
    "SKIPPED",
)
INPUT_TYPES = (
    "STRING",
    "ENUM",
    "SELECT",
    "INT",
    "FLOAT",
    "BOOLEAN",
    "DATETIME",
    "DATE",
    "TIME",
    "DURATION",
    "FILE",
    "JSON",
    "URI",
    "SECRET",
    "ARRAY",
    "MULTISELECT",
    "YAML",
    "EMAIL",
)
ID_PATTERN = "^[a-zA-Z0-9][a-zA-Z0-9_-]*$"


def string(description: str = "", **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def integer(description: str = "", *, minimum: int | None = None) -> Schema:
    schema: Schema = {"type": "integer", "description": description}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def number(description: str = "") -> Schema:
    return {"type": "number", "description": description}


def boolean(description: str = "") -> Schema:
    return {"type": "boolean", "description": description}


def duration(description: str = "") -> Schema:
    """An ISO-8601 duration such as `PT10S` (or seconds as a number, as Jackson reads it)."""
    return {"type": ["string", "number"], "format": "duration", "description": description}


def enum(values: Iterable[str], description: str = "") -> Schema:
    return {"type": "string", "enum": list(values), "description": description}


def string_list(description: str = "", *, min_items: int = 0) -> Schema:
    schema: Schema = {"type": "array", "items": {"type": "string"}, "description": description}
    if min_items:
        schema["minItems"] = min_items
    return schema


def string_or_list(description: str = "") -> Schema:
    return {"type": ["string", "array"], "items": {"type": "string"}, "description": description}


def mapping(description: str = "", values: Schema | None = None) -> Schema:
    schema: Schema = {"type": "object", "description": description}
    if values is not None:
        schema["additionalProperties"] = values
    return schema


def anything(description: str = "") -> Schema:
    return {"description": description}


def obj(
    properties: dict[str, Schema], *, required: Iterable[str] = (), description: str = ""
) -> Schema:
    """A nested object whose keys are known: unknown keys are refused, as Jackson does."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": description,
    }
    if required:
        schema["required"] = list(required)
    return schema


def child(description: str, shape: str) -> Schema:
    """A property walked by the flow validator rather than checked by the schema."""
    return {"description": description, "x-children": shape}


def labels(description: str = "Labels, as a map or a list of {key, value}.") -> Schema:
    item = obj(
        {"key": string("Label key."), "value": string("Label value.")}, required=("key", "value")
    )
    return {
        "type": ["object", "array"],
        "items": item,
        "additionalProperties": {"type": ["string", "number", "boolean"]},
        "description": description,
    }


_RETRY_COMMON = {
    "type": enum(("constant", "exponential", "random"), "Retry strategy."),
    "maxAttempt": integer("Total attempts, the first one included.", minimum=1),
    "maxDuration": duration("Give up once this long has passed since the first attempt."),
    "warningOnRetry": boolean("End in WARNING when the task succeeded after a retry."),
    "behavior": enum(("RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"), "What to retry."),
}


def _retry_branch(kind: str, properties: dict[str, Schema], required: tuple[str, ...]) -> Schema:
    return {
        "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
        "then": {
            "properties": {**_RETRY_COMMON, **properties},
            "required": list(required),
            "additionalProperties": False,
        },
    }


RETRY: Schema = {
    "type": "object",
    "description": "Retry policy: constant, exponential or random.",
    "properties": {"type": _RETRY_COMMON["type"]},
    "required": ["type"],
    "allOf": [
        _retry_branch("constant", {"interval": duration("Delay between attempts.")}, ("interval",)),
        _retry_branch(
            "exponential",
            {
                "interval": duration("First delay."),
                "maxInterval": duration("Longest delay."),
                "delayFactor": number("Growth factor of the delay (default 2)."),
            },
            ("interval", "maxInterval"),
        ),
        _retry_branch(
            "random",
            {
                "minInterval": duration("Shortest delay."),
                "maxInterval": duration("Longest delay."),
            },
            ("minInterval", "maxInterval"),
        ),
    ],
}

WORKER_GROUP = obj(
    {
        "key": string("Worker group key.", pattern=ID_PATTERN),
        "fallback": enum(("FAIL", "WAIT", "CANCEL"), "What to do when no worker is alive."),
    },
    description="Run on a specific group of workers.",
)

NAMESPACE_FILES = obj(
    {
        "enabled": boolean("Copy the namespace files into the working directory."),
        "include": string_list("Glob patterns of files to include."),
        "exclude": string_list("Glob patterns of files to exclude."),
    },
    description="Namespace files made available to the task.",
)

COMMON_TASK_PROPERTIES: dict[str, Schema] = {
    "id": {"description": "Unique id of the task in the flow."},
    "type": {"description": "Fully qualified type of the task."},
    "description": string("Free text, markdown."),
    "retry": RETRY,
    "timeout": duration("Fail the attempt when it runs longer (ISO-8601, e.g. PT10M)."),
    "disabled": boolean("A disabled task is skipped entirely."),
    "workerGroup": WORKER_GROUP,
    "logLevel": enum(LEVELS, "Minimum level of the logs kept for this task."),
    "allowFailure": boolean("A failure ends in WARNING and does not fail the flow."),
    "allowWarning": boolean("A WARNING is turned into SUCCESS."),
    "logToFile": boolean("Store the logs as a file instead of log lines."),
    "runIf": string("Run only when this expression is truthy; otherwise SKIPPED."),
}

COMMON_TRIGGER_PROPERTIES: dict[str, Schema] = {
    "id": {"description": "Unique id of the trigger in the flow."},
    "type": {"description": "Fully qualified type of the trigger."},
    "description": string("Free text, markdown."),
    "conditions": child("Conditions that must all be true.", CONDITIONS),
    "disabled": boolean("A disabled trigger starts nothing."),
    "workerGroup": WORKER_GROUP,
    "logLevel": enum(LEVELS, "Minimum level of the logs kept for this trigger."),
    "labels": labels("Labels added to the executions this trigger creates."),
    "stopAfter": {
        "type": "array",
        "items": enum(STATES),
        "description": "Disable the trigger after an execution ends in these states.",
    },
    "logToFile": boolean("Store the logs as a file instead of log lines."),
}

COMMON_CONDITION_PROPERTIES: dict[str, Schema] = {
    "type": {"description": "Fully qualified type of the condition."},
}

FLOW_KEYS = (
    "id",
    "namespace",
    "revision",
    "description",
    "labels",
    "inputs",
    "variables",
    "tasks",
    "errors",
    "listeners",
    "triggers",
    "pluginDefaults",
    "taskDefaults",
    "concurrency",
    "outputs",
    "retry",
    "sla",
    "disabled",
    "deleted",
)
