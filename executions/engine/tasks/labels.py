"""`execution.Labels`: labels (a JSON string, a map or a list of {key, value}, all rendered)
merged into the execution's; a `system.` key fails the task."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from executions.engine.model import SYSTEM_PREFIX, Label
from executions.engine.tasks.base import RunnableTask, TaskContext, TaskFailed, TaskResult


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def rendered_labels(ctx: TaskContext, raw: Any) -> dict[str, str]:
    render = ctx.templates.render
    if isinstance(raw, str):
        try:
            parsed = json.loads(render(raw))
        except ValueError as error:
            raise TaskFailed(f"Unable to parse the labels as JSON: {error}") from error
        if not isinstance(parsed, Mapping):
            raise TaskFailed("The labels must render to a JSON object")
        return {str(key): _text(value) for key, value in parsed.items()}
    if isinstance(raw, list):
        result = {}
        for item in raw:
            if not isinstance(item, Mapping):
                raise TaskFailed(f"Unknown value type: {type(item).__name__}")
            result[render(str(item.get("key")))] = render(_text(item.get("value")))
        return result
    if isinstance(raw, Mapping):
        return {render(str(key)): render(_text(value)) for key, value in raw.items()}
    raise TaskFailed(f"Unknown value type: {type(raw).__name__}")


class Labels(RunnableTask):
    type = "io.kestra.plugin.core.execution.Labels"

    def run(self, ctx: TaskContext) -> TaskResult:
        labels = rendered_labels(ctx, ctx.prop("labels"))
        for key, value in labels.items():
            if key.startswith(SYSTEM_PREFIX):
                raise TaskFailed(
                    "System labels can only be set by Kestra itself, offending label: "
                    f"{key}={value}"
                )
        return TaskResult(labels=tuple(Label(key, value) for key, value in labels.items()))
