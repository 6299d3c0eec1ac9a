"""Core triggers of Kestra 0.20: Schedule, Flow and Webhook. Cron, time zone and time-window
rules beyond the schema are checked in `flows.spec.semantics`."""

from __future__ import annotations

from flows.tasktypes.common import (
    CONDITIONS,
    ID_PATTERN,
    STATES,
    boolean,
    duration,
    enum,
    mapping,
    obj,
    string,
    string_list,
)
from flows.tasktypes.registry import trigger

TIME_WINDOW = obj(
    {
        "type": enum(
            ("DURATION_WINDOW", "SLIDING_WINDOW", "DAILY_TIME_DEADLINE", "DAILY_TIME_WINDOW"),
            "Kind of window (default DURATION_WINDOW).",
        ),
        "window": duration("Length of the window (default P1D)."),
        "windowAdvance": duration("Offset of the window start."),
        "deadline": string("Daily deadline (HH:MM:SS) for DAILY_TIME_DEADLINE.", format="time"),
        "startTime": string("Daily start (HH:MM:SS) for DAILY_TIME_WINDOW.", format="time"),
        "endTime": string("Daily end (HH:MM:SS) for DAILY_TIME_WINDOW.", format="time"),
    },
    description="The time window in which all preconditions must be met.",
)

_STATE_LIST = {"type": "array", "items": enum(STATES), "description": "Execution states."}

_FILTER = obj(
    {
        "field": enum(("FLOW_ID", "NAMESPACE", "STATE", "EXPRESSION"), "What to compare."),
        "type": enum(
            (
                "EQUAL_TO",
                "NOT_EQUAL_TO",
                "IN",
                "NOT_IN",
                "IS_TRUE",
                "IS_FALSE",
                "IS_NULL",
                "IS_NOT_NULL",
                "STARTS_WITH",
                "ENDS_WITH",
                "REGEX",
                "CONTAINS",
            ),
            "How to compare.",
        ),
        "value": string("The value to compare with."),
        "values": string_list("The values, for IN and NOT_IN."),
    },
    required=("field", "type"),
)

PRECONDITIONS = obj(
    {
        "id": string("Unique id of the preconditions.", pattern=ID_PATTERN),
        "timeWindow": TIME_WINDOW,
        "resetOnSuccess": boolean("Forget what was seen once the trigger fired (default true)."),
        "flows": {
            "type": "array",
            "items": obj(
                {
                    "namespace": string("Namespace of the upstream flow."),
                    "flowId": string("Id of the upstream flow."),
                    "states": _STATE_LIST,
                    "labels": mapping("Labels the upstream execution must carry."),
                },
                required=("namespace",),
            ),
            "description": "Upstream flows that must have run.",
        },
        "where": {
            "type": "array",
            "items": obj(
                {
                    "id": string("Unique id of the filter group.", minLength=1),
                    "operand": enum(("AND", "OR"), "How filters combine (default AND)."),
                    "filters": {
                        "type": "array",
                        "items": _FILTER,
                        "minItems": 1,
                        "description": "The filters.",
                    },
                },
                required=("id", "filters"),
            ),
            "description": "Filters on upstream executions.",
        },
    },
    required=("id",),
    description="Start only when all these upstream conditions were met within a window.",
)

TYPES = [
    trigger(
        "io.kestra.plugin.core.trigger.Schedule",
        "Start the flow on a cron schedule.",
        {
            "cron": string("Cron expression (5 fields, 6 with withSeconds) or @daily etc."),
            "withSeconds": boolean("The cron expression starts with a seconds field."),
            "timezone": string("IANA time zone of the cron expression.", format="timezone"),
            "inputs": mapping("Inputs of the started executions."),
            "lateMaximumDelay": duration("Skip a tick that could not start within this delay."),
            "recoverMissedSchedules": enum(
                ("ALL", "LAST", "NONE"), "Which missed ticks to run after a downtime."
            ),
            "backfill": mapping("(Deprecated) backfill settings; use the backfill API."),
            "scheduleConditions": {
                "description": "(Deprecated) use conditions.",
                "x-children": CONDITIONS,
            },
        },
        required=("cron",),
        children={"scheduleConditions": CONDITIONS},
        aliases=("io.kestra.core.models.triggers.types.Schedule",),
    ),
    trigger(
        "io.kestra.plugin.core.trigger.Flow",
        "Start the flow when other flows' executions change state.",
        {
            "inputs": mapping("Inputs of the started execution, rendered upstream."),
            "states": _STATE_LIST,
            "preconditions": PRECONDITIONS,
        },
        aliases=("io.kestra.core.models.triggers.types.Flow",),
    ),
    trigger(
        "io.kestra.plugin.core.trigger.Webhook",
        "Start the flow on an HTTP call to /api/v1/{tenant}/executions/webhook/{ns}/{flow}/{key}.",
        {
            "key": string("The secret part of the webhook URL.", minLength=1, maxLength=256),
            # not in Kestra 0.20 (later Kestra versions have them)
            "inputs": mapping("Inputs of the started execution, rendered with trigger.body etc."),
            "wait": boolean("Answer only once the execution has ended (default false)."),
            "returnOutputs": boolean(
                "Answer with the flow's outputs instead of the execution; implies wait."
            ),
        },
        required=("key",),
        aliases=("io.kestra.core.models.triggers.types.Webhook",),
    ),
]
