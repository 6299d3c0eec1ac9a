"""Core flowable tasks (they orchestrate child tasks) and the executable Subflow, Kestra 0.20.

Child task lists are declared in `children`; the flow validator walks them. Semantic rules
that a schema cannot say (Dag cycles, a Subflow calling its own flow, Switch without any
branch) live in `flows.spec.semantics`.
"""

from __future__ import annotations

from flows.tasktypes.common import (
    DAG,
    INPUTS,
    NAMESPACE_FILES,
    TASK_MAP,
    TASKS,
    boolean,
    duration,
    integer,
    labels,
    mapping,
    obj,
    string,
    string_list,
)
from flows.tasktypes.registry import flowable, task

_VALUES = {
    "type": ["string", "array"],
    "description": "Values to iterate over: a list, or a JSON array string (rendered).",
}
_SUBFLOW_COMMON = {
    "namespace": string("Namespace of the flow to start.", minLength=1),
    "flowId": string("Id of the flow to start.", minLength=1),
    "inputs": mapping("Inputs of the started flow, rendered here."),
    "labels": labels("Labels of the started executions."),
    "wait": boolean("Wait for the started executions to end (default true)."),
    "transmitFailed": boolean("Fail when a started execution fails (default true)."),
    "inheritLabels": boolean("Copy this execution's labels (default false)."),
    "scheduleDate": string("Start the executions at this date instead of now."),
}

TYPES = [
    flowable(
        "io.kestra.plugin.core.flow.Sequential",
        "Run tasks one after the other.",
        children={"tasks": TASKS},
        aliases=("io.kestra.core.tasks.flows.Sequential",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.Parallel",
        "Run tasks in parallel.",
        {"concurrent": integer("How many children may run at once; 0 = no limit.", minimum=0)},
        children={"tasks": TASKS},
        required=("tasks",),
        aliases=("io.kestra.core.tasks.flows.Parallel",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.AllowFailure",
        "Run tasks one after the other; a failure ends in WARNING.",
        children={"tasks": TASKS},
        aliases=("io.kestra.core.tasks.flows.AllowFailure",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.If",
        "Run `then` when the condition is truthy, `else` otherwise.",
        {"condition": string("The condition, rendered once.")},
        children={"then": TASKS, "else": TASKS},
        required=("then",),
        aliases=("io.kestra.core.tasks.flows.If",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.Switch",
        "Run the tasks of the case matching the rendered value, or `defaults`.",
        {"value": string("The value to match against the case names.", minLength=1)},
        children={"cases": TASK_MAP, "defaults": TASKS},
        required=("value",),
        aliases=("io.kestra.core.tasks.flows.Switch",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.ForEach",
        "Run the tasks once per value (taskrun.value), sequentially or concurrently.",
        {
            "values": _VALUES,
            "concurrencyLimit": integer(
                "Value groups run at once (default 1; 0 = no limit).", minimum=0
            ),
        },
        children={"tasks": TASKS},
        required=("values",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.EachSequential",
        "Run the tasks once per value, one value after the other (deprecated: ForEach).",
        {"value": _VALUES},
        children={"tasks": TASKS},
        required=("value",),
        aliases=("io.kestra.core.tasks.flows.EachSequential",),
        deprecated=True,
    ),
    flowable(
        "io.kestra.plugin.core.flow.EachParallel",
        "Run the tasks once per value, all values in parallel (deprecated: ForEach).",
        {
            "value": _VALUES,
            "concurrent": integer("How many children may run at once; 0 = no limit.", minimum=0),
        },
        children={"tasks": TASKS},
        required=("value", "tasks"),
        aliases=("io.kestra.core.tasks.flows.EachParallel",),
        deprecated=True,
    ),
    flowable(
        "io.kestra.plugin.core.flow.Dag",
        "Run tasks as a directed acyclic graph of dependencies.",
        {"concurrent": integer("How many tasks may run at once; 0 = no limit.", minimum=0)},
        children={"tasks": DAG},
        required=("tasks",),
        aliases=("io.kestra.core.tasks.flows.Dag",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.WaitFor",
        "Run the tasks again and again until the condition is truthy.",
        {
            "condition": string("Stop looping when this renders truthy."),
            "failOnMaxReached": boolean("Fail when a maximum is reached (default false)."),
            "checkFrequency": obj(
                {
                    "maxIterations": integer("Most loops (default 100).", minimum=1),
                    "maxDuration": duration("Longest total time (default PT1H)."),
                    "interval": duration("Pause between loops (default PT1S)."),
                },
                description="Loop limits.",
            ),
        },
        children={"tasks": TASKS},
        required=("tasks", "condition"),
    ),
    flowable(
        "io.kestra.plugin.core.flow.Pause",
        "Pause the execution until resumed, or for a delay; `timeout` fails it unresumed.",
        {
            "delay": duration("Resume automatically after this delay."),
            "pauseDuration": duration("Same as `delay` (the name later Kestra versions use)."),
        },
        children={"onResume": INPUTS, "tasks": TASKS},
        aliases=("io.kestra.core.tasks.flows.Pause",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.ForEachItem",
        "Start one subflow execution per batch of lines of a file.",
        {
            "items": string("kestra:// URI of the file to split.", minLength=1),
            "batch": obj(
                {
                    "rows": integer("Lines per batch (default 1).", minimum=1),
                    "bytes": string("Size of a batch, e.g. 10MB."),
                    "partitions": integer("Number of batches.", minimum=1),
                    "separator": string("Line separator (default \\n)."),
                },
                description="How to split the file.",
            ),
            "revision": integer("Revision of the flow to start (default latest).", minimum=1),
            **_SUBFLOW_COMMON,
        },
        required=("items", "namespace", "flowId"),
        aliases=("io.kestra.core.tasks.flows.ForEachItem",),
    ),
    flowable(
        "io.kestra.plugin.core.flow.WorkingDirectory",
        "Run runnable tasks on one worker, sharing a working directory.",
        {
            "cache": obj(
                {
                    "patterns": string_list("Glob patterns of files to cache."),
                    "ttl": duration("How long the cache is kept."),
                },
                required=("patterns",),
                description="Cache files between executions.",
            ),
            "namespaceFiles": NAMESPACE_FILES,
            "inputFiles": {
                "type": ["object", "string"],
                "description": "Files to create: a map of name to content.",
            },
            "outputFiles": string_list("Glob patterns of files to keep as outputs."),
        },
        children={"tasks": TASKS},
        required=("tasks",),
        aliases=(
            "io.kestra.core.tasks.flows.WorkingDirectory",
            "io.kestra.core.tasks.flows.Worker",
        ),
    ),
    task(
        "io.kestra.plugin.core.flow.Subflow",
        "Start an execution of another flow, and optionally wait for it.",
        {
            **_SUBFLOW_COMMON,
            "revision": integer("Revision of the flow to start (default latest).", minimum=1),
            "outputs": mapping("(Deprecated) outputs rendered in the started flow's context."),
        },
        required=("namespace", "flowId"),
        aliases=("io.kestra.core.tasks.flows.Subflow", "io.kestra.core.tasks.flows.Flow"),
    ),
]
