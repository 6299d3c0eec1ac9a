"""The variables a template sees while a task runs (Kestra's `RunVariables`, §6.1).

`base_variables` computes the execution-wide part once (outputs by task id and by loop
value, task states, inputs with declared defaults, labels, vars, trigger, envs, globals);
`task_variables` adds what depends on one task run (task, taskrun, parent, parents). The
decision function keeps the base between renders of one pass, so a pass over a big
execution builds the outputs map once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from executions.engine.flow import FlowSpec, TaskSpec
from executions.engine.model import SYSTEM_PREFIX, Execution, Label, TaskRun, iso
from executions.engine.sealed_inputs import (
    Unseal,
    open_inputs,
    open_resumed,
    secret_input_ids,
)

# Environment variables Kestra never exposes, even with the prefix.
REDACTED_ENVS = frozenset(
    {"KESTRA_PLUGINS_PATH", "KESTRA_CONFIGURATION_PATH", "KESTRA_CONFIGURATION"}
)


def env_variables(environ: Mapping[str, str], prefix: str = "KESTRA_") -> dict[str, str]:
    """`envs`: variables starting with `prefix`, prefix removed and the rest lower-cased
    (Kestra's `kestra.variables.env-vars-prefix`, default `KESTRA_`)."""
    return {
        key[len(prefix) :].lower(): value
        for key, value in environ.items()
        if key.startswith(prefix) and key not in REDACTED_ENVS
    }


@dataclass(frozen=True)
class RunEnvironment:
    """What the platform adds to every run: `envs` (already filtered, see `env_variables`)
    and `globals` (Kestra's `kestra.variables.globals`)."""

    envs: Mapping[str, str] = field(default_factory=dict)
    globals: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        *,
        prefix: str = "KESTRA_",
        globals: Mapping[str, Any] | None = None,
    ) -> RunEnvironment:
        return cls(env_variables(environ, prefix), dict(globals or {}))


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        elif isinstance(value, Mapping):
            target[key] = _copy_map(value)
        else:
            target[key] = value


def _copy_map(value: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    _merge_into(result, value)
    return result


def _ancestors(task_run: TaskRun, by_id: Mapping[str, TaskRun]) -> list[TaskRun]:
    """Parents of `task_run`, outermost first."""
    chain = []
    parent_id = task_run.parent_task_run_id
    while parent_id is not None and parent_id in by_id:
        parent = by_id[parent_id]
        chain.append(parent)
        parent_id = parent.parent_task_run_id
    chain.reverse()
    return chain


def outputs_map(task_runs: Iterable[TaskRun], by_id: Mapping[str, TaskRun]) -> dict[str, Any]:
    """`outputs.<taskId>`, nested by the loop values of the task run and its parents
    (`outputs.<taskId>['<value>']...`), as Kestra's `Execution.outputs()`."""
    result: dict[str, Any] = {}
    for task_run in task_runs:
        if task_run.outputs is None:
            continue
        values = [p.value for p in _ancestors(task_run, by_id) if p.value is not None]
        if not values:
            if task_run.value is None:
                entry: Any = dict(task_run.outputs)
            else:
                entry = {task_run.value: dict(task_run.outputs)}
        else:
            entry = {}
            current = entry
            for value in values:
                current[value] = {}
                current = current[value]
            if task_run.value is not None:
                current[task_run.value] = dict(task_run.outputs)
            else:
                current.update(task_run.outputs)
        _merge_into(result, {task_run.task_id: entry})
    return result


def with_task_outputs(
    base: Mapping[str, Any], task_run: TaskRun, by_id: Mapping[str, TaskRun]
) -> dict[str, Any]:
    """`base` variables where `task_run`'s outputs are its current `outputs` (a flowable
    rendering with what it is about to record); `base` itself is left as it is."""
    outputs = _copy_map(base.get("outputs") or {})
    _merge_into(outputs, outputs_map([task_run], by_id))
    return {**base, "outputs": outputs}


def tasks_map(task_runs: Iterable[TaskRun]) -> dict[str, Any]:
    """`tasks.<taskId>.state`, or `tasks.<taskId>['<value>'].state` for iterated runs."""
    result: dict[str, Any] = {}
    for task_run in task_runs:
        state = task_run.current.value
        if task_run.value is None:
            result[task_run.task_id] = {"state": state}
        else:
            result.setdefault(task_run.task_id, {})[task_run.value] = {"state": state}
    return result


def labels_map(labels: Iterable[Label]) -> dict[str, Any]:
    """`labels.<key>`; every `system.*` label under `labels.system` (correction 15). The
    first label of a duplicated key wins, as in Kestra."""
    result: dict[str, Any] = {}
    system: dict[str, str] = {}
    for label in labels:
        if label.key.startswith(SYSTEM_PREFIX):
            system.setdefault(label.key[len(SYSTEM_PREFIX) :], label.value)
        else:
            result.setdefault(label.key, label.value)
    if system:
        result["system"] = system
    return result


def inputs_with_defaults(flow: FlowSpec, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The execution's inputs plus the `defaults` of declared inputs it lacks."""
    result = dict(inputs)
    for declared in flow.inputs:
        input_id = declared.get("id") or declared.get("name")
        if input_id and input_id not in result and declared.get("defaults") is not None:
            result[input_id] = declared["defaults"]
    return result


def flow_variables(flow: FlowSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"id": flow.id, "namespace": flow.namespace, "revision": flow.revision}
    if flow.tenant_id is not None:
        data["tenantId"] = flow.tenant_id
    return data


def execution_variables(execution: Execution) -> dict[str, Any]:
    data: dict[str, Any] = {"id": execution.id, "startDate": iso(execution.state.start_date)}
    if execution.original_id is not None:
        data["originalId"] = execution.original_id
    return data


def base_variables(
    flow: FlowSpec,
    execution: Execution,
    task_runs: Iterable[TaskRun] | None = None,
    by_id: Mapping[str, TaskRun] | None = None,
    environment: RunEnvironment | None = None,
    *,
    unseal: Unseal | None = None,
) -> dict[str, Any]:
    """Variables shared by every task run of `execution`. `task_runs`/`by_id` default to
    the execution's own list (the decision function passes its working copy). Sealed SECRET
    inputs, and SECRET `onResume` values in Pause outputs, are opened with `unseal`
    (`sealed_inputs`; RenderError when they cannot be)."""
    runs = list(execution.task_runs if task_runs is None else task_runs)
    index = by_id if by_id is not None else {task_run.id: task_run for task_run in runs}
    if flow.secret_resumes:
        runs = [_resume_opened(flow, run, unseal) for run in runs]
    environment = environment or RunEnvironment()
    variables: dict[str, Any] = {
        "envs": dict(environment.envs),
        "globals": dict(environment.globals),
        "flow": flow_variables(flow),
        "execution": execution_variables(execution),
        "outputs": outputs_map(runs, index),
        "tasks": tasks_map(runs),
        "labels": labels_map(execution.labels),
    }
    if flow.variables:
        variables["vars"] = dict(flow.variables)
    stored = execution.inputs
    if flow.inputs and stored:
        stored = open_inputs(stored, secret_input_ids(flow.inputs), unseal)
    inputs = inputs_with_defaults(flow, stored)
    if inputs:
        variables["inputs"] = inputs
    if execution.trigger is not None and execution.trigger.get("variables") is not None:
        variables["trigger"] = dict(execution.trigger["variables"])
    variables.update(execution.variables)
    return variables


def _resume_opened(flow: FlowSpec, task_run: TaskRun, unseal: Unseal | None) -> TaskRun:
    ids = flow.secret_resumes.get(task_run.task_id)
    if not ids or not task_run.outputs:
        return task_run
    opened = open_resumed(task_run.outputs, ids, unseal)
    return task_run if opened is task_run.outputs else replace(task_run, outputs=opened)


def taskrun_variables(task_run: TaskRun) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": task_run.id,
        "startDate": iso(task_run.state.start_date),
        "attemptsCount": task_run.finished_attempts,
    }
    if task_run.parent_task_run_id is not None:
        data["parentId"] = task_run.parent_task_run_id
    if task_run.value is not None:
        data["value"] = task_run.value
    if task_run.iteration is not None:
        data["iteration"] = task_run.iteration
    return data


def parents_variables(task_run: TaskRun, by_id: Mapping[str, TaskRun]) -> list[dict[str, Any]]:
    """`parents`: closest first, each `{taskrun: {value}, outputs}` when it has them."""
    result = []
    for parent in reversed(_ancestors(task_run, by_id)):
        entry: dict[str, Any] = {}
        if parent.value is not None:
            entry["taskrun"] = {"value": parent.value}
        if parent.outputs:
            entry["outputs"] = dict(parent.outputs)
        if entry:
            result.append(entry)
    return result


def task_variables(
    base: Mapping[str, Any],
    task: TaskSpec,
    task_run: TaskRun,
    by_id: Mapping[str, TaskRun],
) -> dict[str, Any]:
    """`base` plus `task`, `taskrun`, `parent` and `parents` for one task run."""
    variables = dict(base)
    variables["task"] = {"id": task.id, "type": task.type}
    variables["taskrun"] = taskrun_variables(task_run)
    parents = parents_variables(task_run, by_id)
    variables["parents"] = parents
    if parents:
        variables["parent"] = parents[0]
    return variables


def run_variables(
    flow: FlowSpec,
    execution: Execution,
    task_run: TaskRun | None = None,
    environment: RunEnvironment | None = None,
    *,
    unseal: Unseal | None = None,
    shared_base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything a template of `task_run` (or of the execution, when None) sees.
    `shared_base` is `base_variables` of this very execution, computed once for several
    task runs of one snapshot (a worker's batch)."""
    by_id = {run.id: run for run in execution.task_runs}
    if shared_base is not None:
        base = dict(shared_base)
    else:
        base = base_variables(
            flow, execution, execution.task_runs, by_id, environment, unseal=unseal
        )
    if task_run is None:
        return base
    return task_variables(base, flow.task(task_run.task_id), task_run, by_id)


def output_variables(
    flow: FlowSpec,
    execution: Execution,
    environment: RunEnvironment | None = None,
    *,
    unseal: Unseal | None = None,
) -> dict[str, Any]:
    """For flow `outputs`: flow, execution, inputs, outputs, labels, trigger, vars only."""
    base = base_variables(flow, execution, environment=environment, unseal=unseal)
    keep = ("flow", "execution", "inputs", "outputs", "labels", "trigger", "vars", "envs")
    return {key: value for key, value in base.items() if key in keep}
