"""A typed, indexed view of a validated flow (`FlowValidation.data`) for the engine.

The view is built once per flow revision and then only read: lookups by task id, the
parent of a task, and the effective retry policy of a task (own, closest ancestor's, or
the flow's; correction 7 needs it) are dictionary reads. Task types are resolved to their
canonical name through `flows.tasktypes.registry`, so legacy aliases behave as the type
they stand for. The flow's `pluginDefaults` are merged into task properties here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from executions.engine.model import Label
from executions.engine.sealed_inputs import secret_input_ids
from executions.engine.sla import Sla, slas_of
from flows.spec import FlowValidation, flow_labels, parse_flow
from flows.spec.formats import duration_value
from flows.tasktypes import registry
from flows.tasktypes.common import DAG, TASK_MAP, TASKS

# Keys every task accepts; the rest of a task's mapping is its own properties.
COMMON_KEYS = frozenset(
    {
        "id",
        "type",
        "description",
        "retry",
        "timeout",
        "disabled",
        "workerGroup",
        "logLevel",
        "allowFailure",
        "allowWarning",
        "logToFile",
        "runIf",
    }
)
RETRY_FAILED_TASK = "RETRY_FAILED_TASK"
CREATE_NEW_EXECUTION = "CREATE_NEW_EXECUTION"

SUBFLOW = "io.kestra.plugin.core.flow.Subflow"
FOR_EACH_ITEM = "io.kestra.plugin.core.flow.ForEachItem"
# ForEachItem runs as three internal tasks, named and typed as Kestra's inner classes.
FOR_EACH_ITEM_SPLIT = FOR_EACH_ITEM + "$ForEachItemSplit"
FOR_EACH_ITEM_EXECUTABLE = FOR_EACH_ITEM + "$ForEachItemExecutable"
FOR_EACH_ITEM_MERGE = FOR_EACH_ITEM + "$ForEachItemMergeOutputs"
EXECUTABLE_TYPES = frozenset({SUBFLOW, FOR_EACH_ITEM_EXECUTABLE})
"""Tasks that start other executions instead of running on a worker."""
_SPLIT_KEYS = ("items", "batch")
_EXECUTABLE_KEYS = (
    "namespace",
    "flowId",
    "revision",
    "inputs",
    "labels",
    "wait",
    "transmitFailed",
    "inheritLabels",
    "scheduleDate",
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A `retry:` block. `max_attempt` counts every attempt, the first one included."""

    type: str
    max_attempt: int | None = None
    max_duration: timedelta | None = None
    warning_on_retry: bool = False
    behavior: str = RETRY_FAILED_TASK
    interval: timedelta = timedelta(0)
    max_interval: timedelta | None = None
    min_interval: timedelta = timedelta(0)
    delay_factor: float = 2.0

    @classmethod
    def from_data(cls, data: Any) -> RetryPolicy | None:
        if not isinstance(data, Mapping) or not data.get("type"):
            return None

        def span(key: str) -> timedelta | None:
            return duration_value(data.get(key))

        factor = data.get("delayFactor")
        return cls(
            type=str(data["type"]),
            max_attempt=data.get("maxAttempt"),
            max_duration=span("maxDuration"),
            warning_on_retry=bool(data.get("warningOnRetry", False)),
            behavior=str(data.get("behavior") or RETRY_FAILED_TASK),
            interval=span("interval") or timedelta(0),
            max_interval=span("maxInterval"),
            min_interval=span("minInterval") or timedelta(0),
            delay_factor=float(factor) if isinstance(factor, int | float) else 2.0,
        )


@dataclass(frozen=True, slots=True, eq=False)
class TaskSpec:
    """One task of the flow. `branches` holds the child task lists by property (`tasks`,
    `then`, `else`, `defaults`, `errors`...), `cases` a Switch's map, `depends_on` a Dag's
    edges; `properties` everything that is not a common key or a child list."""

    id: str
    type: str
    kind: str
    data: Mapping[str, Any]
    properties: Mapping[str, Any]
    branches: Mapping[str, tuple[TaskSpec, ...]] = field(default_factory=dict)
    cases: Mapping[str, tuple[TaskSpec, ...]] = field(default_factory=dict)
    depends_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    disabled: bool = False
    run_if: str | None = None
    retry: RetryPolicy | None = None
    timeout: Any = None
    allow_failure: bool = False
    allow_warning: bool = False

    @property
    def flowable(self) -> bool:
        return self.kind == "flowable"

    @property
    def executable(self) -> bool:
        """A Subflow, or ForEachItem's batches: it starts executions (`StartSubflow`)."""
        return self.type in EXECUTABLE_TYPES

    @property
    def errors(self) -> tuple[TaskSpec, ...]:
        return self.branches.get("errors", ())

    def branch(self, name: str) -> tuple[TaskSpec, ...]:
        return self.branches.get(name, ())

    @property
    def timeout_duration(self) -> timedelta | None:
        """The literal timeout; None when absent or an expression (rendered by the worker)."""
        return duration_value(self.timeout) if self.timeout is not None else None

    def children(self) -> Iterator[TaskSpec]:
        for tasks in self.branches.values():
            yield from tasks
        for tasks in self.cases.values():
            yield from tasks


def _apply_defaults(task: dict[str, Any], defaults: list[dict[str, Any]]) -> dict[str, Any]:
    """Kestra's plugin defaults: a default applies when the task type equals or starts with
    its `type`; a non-forced one fills missing keys (deep), a forced one overwrites."""
    task_type = str(task.get("type", ""))
    canonical = registry.get(task_type)
    names = {task_type, canonical.name} if canonical else {task_type}
    result = task
    for default in defaults:
        prefix = default.get("type")
        values = default.get("values")
        if not isinstance(prefix, str) or not isinstance(values, Mapping):
            continue
        if not any(name.startswith(prefix) for name in names):
            continue
        forced = bool(default.get("forced", False))
        result = _merge(result, dict(values), forced) if forced else _merge(values, result, True)
    return result


def _merge(base: Mapping[str, Any], top: Mapping[str, Any], overwrite: bool) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value, overwrite)
        elif overwrite or key not in merged:
            merged[key] = copy.deepcopy(value)
    return merged


class _Builder:
    def __init__(self, defaults: list[dict[str, Any]]) -> None:
        self.defaults = defaults

    def tasks(self, items: Any) -> tuple[TaskSpec, ...]:
        if not isinstance(items, list):
            return ()
        return tuple(self.task(item) for item in items if isinstance(item, Mapping))

    def task(self, raw: Mapping[str, Any]) -> TaskSpec:
        data = _apply_defaults(dict(raw), self.defaults) if self.defaults else dict(raw)
        task_type = registry.get(data.get("type", ""))
        kind = task_type.kind if task_type else "task"
        shapes = dict(task_type.children) if task_type else {}
        branches: dict[str, tuple[TaskSpec, ...]] = {}
        cases: dict[str, tuple[TaskSpec, ...]] = {}
        depends_on: dict[str, tuple[str, ...]] = {}
        for prop, shape in shapes.items():
            value = data.get(prop)
            if shape == TASKS:
                branches[prop] = self.tasks(value)
            elif shape == TASK_MAP and isinstance(value, Mapping):
                cases = {str(name): self.tasks(items) for name, items in value.items()}
            elif shape == DAG and isinstance(value, list):
                nodes = [node for node in value if isinstance(node, Mapping)]
                branches[prop] = self.tasks([node.get("task") for node in nodes])
                for node, spec in zip(nodes, branches[prop], strict=False):
                    depends_on[spec.id] = tuple(node.get("dependsOn") or ())
        child_keys = {prop for prop, shape in shapes.items() if shape in (TASKS, TASK_MAP, DAG)}
        properties = {k: v for k, v in data.items() if k not in COMMON_KEYS | child_keys}
        if task_type is not None and task_type.name == FOR_EACH_ITEM:
            branches["tasks"] = _for_each_item_tasks(str(data.get("id")), properties)
        return TaskSpec(
            id=str(data.get("id")),
            type=task_type.name if task_type else str(data.get("type")),
            kind=kind,
            data=data,
            properties=properties,
            branches=branches,
            cases=cases,
            depends_on=depends_on,
            disabled=bool(data.get("disabled", False)),
            run_if=data.get("runIf"),
            retry=RetryPolicy.from_data(data.get("retry")),
            timeout=data.get("timeout"),
            allow_failure=bool(data.get("allowFailure", False)),
            allow_warning=bool(data.get("allowWarning", False)),
        )


def _for_each_item_tasks(task_id: str, properties: Mapping[str, Any]) -> tuple[TaskSpec, ...]:
    """Kestra's `ForEachItem.getTasks()`: split the file, start one execution per batch,
    merge the outputs of those executions; run one after the other."""

    def internal(suffix: str, task_type: str, keys: tuple[str, ...]) -> TaskSpec:
        own = {key: properties[key] for key in keys if key in properties}
        data = {"id": task_id + suffix, "type": task_type, **own}
        return TaskSpec(id=data["id"], type=task_type, kind="task", data=data, properties=own)

    return (
        internal("_split", FOR_EACH_ITEM_SPLIT, _SPLIT_KEYS),
        internal("_items", FOR_EACH_ITEM_EXECUTABLE, _EXECUTABLE_KEYS),
        internal("_merge", FOR_EACH_ITEM_MERGE, ()),
    )


PAUSE = "io.kestra.plugin.core.flow.Pause"


@dataclass(frozen=True, eq=False)
class FlowSpec:
    """The engine's view of one flow revision."""

    id: str
    namespace: str
    revision: int
    tasks: tuple[TaskSpec, ...]
    errors: tuple[TaskSpec, ...] = ()
    retry: RetryPolicy | None = None
    inputs: tuple[Mapping[str, Any], ...] = ()
    outputs: tuple[Mapping[str, Any], ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    labels: tuple[Label, ...] = ()
    tenant_id: str | None = None
    sla: tuple[Sla, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _by_id: dict[str, TaskSpec] = field(default_factory=dict, repr=False)
    _parent: dict[str, TaskSpec | None] = field(default_factory=dict, repr=False)
    _retry: dict[str, RetryPolicy | None] = field(default_factory=dict, repr=False)
    # Pause task id -> ids of its SECRET `onResume` inputs (sealed in its outputs)
    secret_resumes: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        def walk(tasks: tuple[TaskSpec, ...], parent: TaskSpec | None) -> None:
            for task in tasks:
                self._by_id[task.id] = task
                self._parent[task.id] = parent
                if task.type == PAUSE and isinstance(task.data.get("onResume"), list):
                    definitions = [d for d in task.data["onResume"] if isinstance(d, Mapping)]
                    if ids := secret_input_ids(definitions):
                        self.secret_resumes[task.id] = tuple(ids)
                walk(tuple(task.children()), task)

        walk(self.tasks, None)
        walk(self.errors, None)

    @classmethod
    def from_data(
        cls, data: Mapping[str, Any], *, revision: int | None = None, tenant_id: str | None = None
    ) -> FlowSpec:
        defaults = data.get("pluginDefaults") or data.get("taskDefaults") or []
        builder = _Builder([d for d in defaults if isinstance(d, Mapping)])
        variables = data.get("variables")
        return cls(
            id=str(data["id"]),
            namespace=str(data["namespace"]),
            revision=int(revision or data.get("revision") or 1),
            tasks=builder.tasks(data.get("tasks")),
            errors=builder.tasks(data.get("errors")),
            retry=RetryPolicy.from_data(data.get("retry")),
            inputs=tuple(i for i in data.get("inputs") or () if isinstance(i, Mapping)),
            outputs=tuple(o for o in data.get("outputs") or () if isinstance(o, Mapping)),
            variables=dict(variables) if isinstance(variables, Mapping) else {},
            labels=tuple(Label(i["key"], i["value"]) for i in flow_labels(dict(data))),
            tenant_id=tenant_id,
            sla=slas_of(data.get("sla")),
            data=data,
        )

    @classmethod
    def from_validation(
        cls, validation: FlowValidation, *, revision: int | None = None
    ) -> FlowSpec:
        if validation.data is None:
            raise ValueError("The flow has no data: it did not parse")
        return cls.from_data(validation.data, revision=revision)

    def task(self, task_id: str) -> TaskSpec:
        try:
            return self._by_id[task_id]
        except KeyError:
            raise KeyError(f"No task {task_id!r} in flow {self.namespace}.{self.id}") from None

    def find(self, task_id: str) -> TaskSpec | None:
        return self._by_id.get(task_id)

    def parent_of(self, task_id: str) -> TaskSpec | None:
        return self._parent.get(task_id)

    def all_tasks(self) -> list[TaskSpec]:
        return list(self._by_id.values())

    def effective_retry(self, task_id: str) -> RetryPolicy | None:
        """The task's own `retry`, else the closest ancestor's, else the flow's."""
        if task_id not in self._retry:
            policy = None
            current: TaskSpec | None = self.task(task_id)
            while current is not None and policy is None:
                policy = current.retry
                current = self._parent.get(current.id)
            self._retry[task_id] = policy or self.retry
        return self._retry[task_id]


def load_flow(source: str, *, revision: int | None = None) -> FlowSpec:
    """Parse and validate YAML (raises `FlowSpecError`), then build the engine's view."""
    return FlowSpec.from_validation(parse_flow(source), revision=revision)
