"""Executable tasks: a `Subflow`, and the batches of a `ForEachItem` (Kestra's
`ExecutableUtils`, `Subflow` and `ForEachItem.ForEachItemExecutable`, §4.6-4.7).

An executable task run never goes to a worker. The decision function starts it (a running
attempt) and emits one `StartSubflow` per child execution, with what it rendered in the
parent (`subflow_request`). The platform, in the same transaction, finds the child flow in
the parent's tenant, makes the child (`child_execution`: inputs typed and validated by the
child flow, labels, Kestra's `trigger`) and reports with `subflow_started`. When a
child ends, `subflow_result` says what that means for its parent task run (Kestra's
`createSubflowExecutionResult`: the child's state through `transmitFailed`, the outputs
`{executionId, state, outputs}`; for a ForEachItem the count of batches by state) and
`accept_subflow_result` turns it into actions on the parent.

The children of one task run are kept in its `engine_state["subflows"]`, child id to
`{"iteration", "state"}` (state None while the child runs): Kestra's subflow-execution
storage. It makes every answer idempotent: a child is started once per request and its
result is taken once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from executions.engine.actions import (
    Action,
    EmitLog,
    FinishAttempt,
    SetTaskRunState,
    StartSubflow,
)
from executions.engine.flow import EXECUTABLE_TYPES, FOR_EACH_ITEM_EXECUTABLE, FlowSpec, TaskSpec
from executions.engine.inputs import resolve_inputs
from executions.engine.inputs.model import FileSink
from executions.engine.model import (
    SYSTEM_PREFIX,
    Execution,
    Label,
    TaskRun,
    merge_labels,
    new_execution,
)
from executions.engine.rendering import RenderError, Templates
from executions.engine.states import State
from executions.engine.variables import base_variables, output_variables
from flows.spec import flow_labels
from flows.spec.formats import is_expression

MAX_DEPTH = 20
"""Default limit of nested subflow executions along one parent chain (the root is depth 0).
The platform passes its own (`AVIARY["SUBFLOW_MAX_DEPTH"]`)."""

SUBFLOWS = "subflows"  # engine_state key: child id -> {"iteration", "state"}
# engine_state keys of a ForEachItem's `_items` run, set when it starts
BATCHES = "batches"  # number of batches
WAIT = "wait"
TRANSMIT_FAILED = "transmitFailed"
OUTPUTS_FILE = "outputs.ion"  # one JSON line per child (JSON text is Ion text)

# Child states the parent takes over with `transmitFailed` (Kestra's `guessState`).
_TRANSMITTED = frozenset({State.FAILED, State.KILLED, State.WARNING, State.PAUSED})


FlowLookup = Callable[[str, str, int | None], FlowSpec]
"""`(namespace, flow_id, revision or None for the latest) -> FlowSpec`, raising
`SubflowError` (see `not_found`) when there is no such flow: how a platform finds the flows
a Subflow or a ForEachItem starts (in the execution's tenant)."""


class SubflowError(Exception):
    """A child cannot be started (flow missing, disabled or invalid, invalid inputs, too
    deep); the message is logged on the parent task run, which FAILS."""


# --- in the decision function -------------------------------------------------------------
def flag(value: Any, default: bool) -> bool:
    """A boolean property: YAML booleans, or their text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return default


def _text(templates: Templates, task: TaskSpec, name: str) -> str:
    raw = task.properties.get(name)
    if raw is None or str(raw).strip() == "":
        raise SubflowError(f"The property '{name}' of task {task.id} is required")
    rendered = templates.render(str(raw)) if is_expression(str(raw)) else str(raw)
    if not rendered.strip():
        raise SubflowError(f"The property '{name}' of task {task.id} rendered empty")
    return rendered.strip()


def _revision(templates: Templates, task: TaskSpec) -> int | None:
    raw = task.properties.get("revision")
    if raw is None:
        return None
    value: Any = templates.render(raw) if isinstance(raw, str) else raw
    try:
        revision = int(value)
    except (TypeError, ValueError):
        raise SubflowError(f"Invalid revision '{value}': expected a number") from None
    if revision < 1:
        raise SubflowError(f"Invalid revision '{revision}': it must be at least 1")
    return revision


def _schedule_date(templates: Templates, task: TaskSpec) -> datetime | None:
    raw = task.properties.get("scheduleDate")
    if raw is None:
        return None
    value = templates.render(str(raw)).strip()
    try:
        date = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SubflowError(f"Invalid scheduleDate '{value}': expected an ISO-8601 date") from None
    if date.tzinfo is None:
        raise SubflowError(f"Invalid scheduleDate '{value}': it needs a time zone")
    return date


def _labels(templates: Templates, task: TaskSpec, parent: Execution) -> tuple[Label, ...]:
    inherit = flag(task.properties.get("inheritLabels"), False)
    own = [label for label in parent.labels if inherit or label.key.startswith(SYSTEM_PREFIX)]
    rendered = []
    for item in flow_labels({"labels": task.properties.get("labels")}):
        key, value = templates.render(item["key"]), templates.render(item["value"])
        if key.startswith(SYSTEM_PREFIX):
            raise SubflowError(f"System labels cannot be passed to a subflow, got '{key}'")
        rendered.append(Label(key, value))
    return merge_labels(own, rendered)


def subflow_request(
    task: TaskSpec,
    task_run: TaskRun,
    flow: FlowSpec,
    parent: Execution,
    templates: Templates,
    *,
    iteration: int | None = None,
) -> StartSubflow:
    """What one child needs, rendered in the parent (`RenderError`, `SubflowError`)."""
    inputs = task.properties.get("inputs")
    if inputs is not None and not isinstance(inputs, Mapping):
        raise SubflowError(f"The inputs of task {task.id} must be a map")
    return StartSubflow(
        task_run_id=task_run.id,
        namespace=_text(templates, task, "namespace"),
        flow_id=_text(templates, task, "flowId"),
        revision=_revision(templates, task),
        inputs=templates.render_value(dict(inputs)) if inputs else {},
        labels=_labels(templates, task, parent),
        trigger={
            "id": task.id,
            "type": task.type,
            "variables": {
                "executionId": parent.id,
                "namespace": flow.namespace,
                "flowId": flow.id,
                "flowRevision": flow.revision,
            },
        },
        wait=flag(task.properties.get("wait"), True),
        iteration=iteration,
        schedule_date=_schedule_date(templates, task),
    )


def batch_uris(listing: str) -> list[str]:
    """The batch files a ForEachItem split wrote (`splits.txt`, one URI a line)."""
    return [line.strip() for line in listing.splitlines() if line.strip()]


# --- on the platform --------------------------------------------------------------------
def parent_from_trigger(trigger: Any) -> str | None:
    """The id of the execution whose executable task made the `trigger` of its child."""
    if not isinstance(trigger, Mapping) or trigger.get("type") not in EXECUTABLE_TYPES:
        return None
    variables = trigger.get("variables")
    parent = variables.get("executionId") if isinstance(variables, Mapping) else None
    return str(parent) if parent else None


def parent_id_of(execution: Execution) -> str | None:
    """The id of the execution whose Subflow or ForEachItem started this one, if any."""
    return parent_from_trigger(execution.trigger)


def launchable(parent: Execution, request: StartSubflow) -> bool:
    """Still worth starting: the task run waits for it and no child took this iteration
    (a request is never carried out twice, nor after its task run has failed)."""
    task_run = _find(parent, request.task_run_id)
    if task_run is None or not _waiting(task_run):
        return False
    entries = task_run.engine_state.get(SUBFLOWS) or {}
    if request.iteration is None:
        return all(entry.get("state") is not None for entry in entries.values())
    return all(entry.get("iteration") != request.iteration for entry in entries.values())


def child_execution(
    request: StartSubflow,
    parent: Execution,
    child_flow: FlowSpec,
    *,
    now: datetime,
    execution_id: str,
    depth: int,
    max_depth: int = MAX_DEPTH,
    files: FileSink | None = None,
    render: Callable[[str, Mapping[str, Any]], Any] | None = None,
    seal: Callable[[dict[str, Any], list[str]], dict[str, Any]] | None = None,
) -> Execution:
    """The child execution (state CREATED), or `SubflowError`. `depth` is the parent's
    depth in its subflow chain (0 for an execution nothing started); `files` stores the
    child's FILE inputs; `seal` encrypts its SECRET inputs at rest."""
    name = f"{request.namespace}.{request.flow_id}"
    if depth + 1 > max_depth:
        raise SubflowError(
            f"Cannot start flow '{name}': more than {max_depth} levels of subflows "
            f"(execution {parent.id} is already at level {depth}); is it calling itself?"
        )
    if child_flow.data.get("disabled") is True:
        raise SubflowError(f"Cannot execute flow '{name}': it is disabled")
    resolution = resolve_inputs(
        list(child_flow.inputs), dict(request.inputs), render=render, files=files
    )
    if resolution.violations:
        problems = "; ".join(str(violation) for violation in resolution.violations)
        raise SubflowError(f"Invalid inputs for flow '{name}': {problems}")
    inputs = resolution.nested()
    if seal is not None and resolution.secret_ids:
        inputs = seal(inputs, resolution.secret_ids)
    return new_execution(
        namespace=child_flow.namespace,
        flow_id=child_flow.id,
        flow_revision=child_flow.revision,
        now=now,
        execution_id=execution_id,
        inputs=inputs,
        flow_labels=child_flow.labels,
        labels=request.labels,
        tenant_id=parent.tenant_id,
        trigger=request.trigger,
        schedule_date=request.schedule_date,
    )


def not_found(namespace: str, flow_id: str, revision: int | None) -> SubflowError:
    """Kestra's message for a child flow that does not exist."""
    return SubflowError(
        f"Unable to find flow '{namespace}'.'{flow_id}' with revision '{revision or 0}'"
    )


@dataclass(frozen=True)
class SubflowResult:
    """What a child's end means for its parent task run."""

    task_run_id: str
    execution_id: str
    child_state: State
    attempt_state: State | None = None  # None: a ForEachItem batch (counted, see below)
    outputs: Mapping[str, Any] | None = None
    logs: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (level, message)


def waiting_run(parent: Execution, child: Execution) -> TaskRun | None:
    """The parent's task run waiting for `child`, if it still does."""
    task_id = str((child.trigger or {}).get("id") or "")
    candidates = parent.task_runs_of(task_id) if task_id else list(parent.task_runs)
    for task_run in candidates:
        entry = (task_run.engine_state.get(SUBFLOWS) or {}).get(child.id)
        if entry is not None:
            return task_run if entry.get("state") is None and _waiting(task_run) else None
    return None


def subflow_result(
    parent_flow: FlowSpec,
    parent: Execution,
    child_flow: FlowSpec,
    child: Execution,
    *,
    renderer: Callable[[Mapping[str, Any], Any], Templates],
    services: Any = None,
    storage: Any = None,
) -> SubflowResult | None:
    """The result of the ended `child` for its parent task run (None when nothing waits
    for it any more: a duplicate, a stale child of an earlier attempt)."""
    task_run = waiting_run(parent, child)
    if task_run is None or not child.current.terminated:
        return None
    task = parent_flow.task(task_run.task_id)
    if task.type == FOR_EACH_ITEM_EXECUTABLE:
        return _batch_result(parent, task_run, child_flow, child, renderer, services, storage)
    outputs: dict[str, Any] = {"executionId": child.id, "state": child.current.value}
    logs: list[tuple[str, str]] = []
    try:
        extracted = _extracted_outputs(task, child_flow, child, renderer, services)
    except RenderError as error:
        logs.append(("WARN", f"Failed to extract outputs with the error: '{error}'"))
        state = State.FAILED
    else:
        if extracted is not None:
            outputs["outputs"] = extracted
        transmit = flag(task.properties.get("transmitFailed"), True)
        state = child.current if transmit and child.current in _TRANSMITTED else State.SUCCESS
    return SubflowResult(task_run.id, child.id, child.current, state, outputs, tuple(logs))


def _extracted_outputs(
    task: TaskSpec, child_flow: FlowSpec, child: Execution, renderer: Any, services: Any
) -> dict[str, Any] | None:
    """The child flow's `outputs`, else the task's deprecated `outputs` map rendered in the
    child's context (Kestra's `createSubflowExecutionResult`)."""
    if child_flow.outputs:
        return _flow_outputs(child_flow, child, renderer, services)
    legacy = task.properties.get("outputs")
    if not isinstance(legacy, Mapping) or not legacy:
        return None
    variables = base_variables(child_flow, child)
    variables["task"] = {"id": task.id, "type": task.type}
    return dict(renderer(variables, services).render_value(dict(legacy)))


def _flow_outputs(
    child_flow: FlowSpec, child: Execution, renderer: Any, services: Any
) -> dict[str, Any]:
    """The child flow's `outputs` as the child rendered and typed them when it ended; when it
    could not (it failed first), rendered now, so the error says why."""
    if child.outputs is not None:
        return dict(child.outputs)
    templates = renderer(output_variables(child_flow, child), services)
    return {
        str(output.get("id")): templates.render_value(output.get("value"))
        for output in child_flow.outputs
    }


def outputs_base(parent: Execution, task_run: TaskRun) -> str:
    """Where a ForEachItem's children leave their outputs (Kestra's
    `subflowOutputsBaseUri`: a storage path, without the scheme)."""
    namespace = parent.namespace.replace(".", "/")
    return (
        f"/{namespace}/{parent.flow_id}/executions/{parent.id}/tasks/"
        f"{task_run.task_id}/{task_run.id}"
    )


def _batch_result(
    parent: Execution,
    task_run: TaskRun,
    child_flow: FlowSpec,
    child: Execution,
    renderer: Any,
    services: Any,
    storage: Any,
) -> SubflowResult:
    entry = task_run.engine_state[SUBFLOWS][child.id]
    logs: list[tuple[str, str]] = []
    if child_flow.outputs and storage is not None:
        try:
            values = _flow_outputs(child_flow, child, renderer, services)
            line = json.dumps(values, separators=(",", ":"), ensure_ascii=False, default=str)
            name = f"{outputs_base(parent, task_run)}/{entry.get('iteration')}/{OUTPUTS_FILE}"
            storage.put(name.lstrip("/"), (line + "\n").encode())
        except (RenderError, OSError, ValueError) as error:
            logs.append(("WARN", f"Failed to extract outputs with the error: '{error}'"))
    return SubflowResult(task_run.id, child.id, child.current, None, None, tuple(logs))


def iterations(task_run: TaskRun, wait: bool) -> dict[str, int]:
    """Kestra's `iterations` output: batches per state (CREATED: not started yet, RUNNING:
    started and not ended; no CREATED count when the task does not wait)."""
    entries = list((task_run.engine_state.get(SUBFLOWS) or {}).values())
    counts: dict[str, int] = {}
    if wait:
        counts["CREATED"] = int(task_run.engine_state.get(BATCHES) or 0) - len(entries)
    counts["RUNNING"] = sum(1 for entry in entries if entry.get("state") is None)
    for entry in entries:
        if entry.get("state") is not None:
            counts[entry["state"]] = counts.get(entry["state"], 0) + 1
    return counts


def batches_state(counts: Mapping[str, int], transmit_failed: bool) -> State:
    """Kestra's `findTerminalState` over the batches (the executable part has no
    allowFailure of its own: the ForEachItem's applies to the ForEachItem)."""
    if not transmit_failed:
        return State.SUCCESS
    for state in (State.FAILED, State.KILLED, State.WARNING):
        if counts.get(state.value, 0) > 0:
            return state
    return State.SUCCESS


# --- helpers ------------------------------------------------------------------------------
def _find(execution: Execution, task_run_id: str) -> TaskRun | None:
    try:
        return execution.task_run(task_run_id)
    except KeyError:
        return None


def _waiting(task_run: TaskRun) -> bool:
    last = task_run.last_attempt
    return (
        task_run.current is State.RUNNING
        and last is not None
        and last.state.current is State.RUNNING
    )


# --- commands: the platform tells the parent -----------------------------------------


def subflow_started(
    execution: Execution, request: StartSubflow, child_id: str | None, error: str | None = None
) -> list[Action]:
    """The platform carried out `request`: the child `child_id` exists, or `error` says why
    it could not (logged; the task run's attempt FAILS). With `wait: false` the child counts
    as done at once. Nothing when the request is no longer wanted (`launchable`)."""
    if not launchable(execution, request):
        return []
    task_run = execution.task_run(request.task_run_id)
    if child_id is None:
        message = error or "The subflow execution could not be created"
        return [
            EmitLog("ERROR", message, task_run.id),
            FinishAttempt(task_run.id, State.FAILED, task_run.outputs or {}),
        ]
    entries = dict(task_run.engine_state.get(SUBFLOWS) or {})
    done = None if request.wait else State.SUCCESS.value
    entries[child_id] = {"iteration": request.iteration, "state": done}
    engine_state = {**task_run.engine_state, SUBFLOWS: entries}
    name = f"{request.namespace}.{request.flow_id}"
    log = EmitLog("INFO", f"Created new execution {child_id} of flow {name}", task_run.id)
    if request.iteration is not None:
        return [log, *_batches_update(execution, task_run, engine_state)]
    outputs = {"executionId": child_id}
    update = SetTaskRunState(task_run.id, State.RUNNING, outputs, engine_state)
    if request.wait:
        return [log, update]
    return [log, update, FinishAttempt(task_run.id, State.SUCCESS, outputs)]


def accept_subflow_result(execution: Execution, result: SubflowResult) -> list[Action]:
    """A child ended: its parent task run records it once (a duplicate or a stale result
    gives nothing). A Subflow's attempt ends with the result's state; a ForEachItem's
    batches are counted, and the attempt ends when the last one has."""
    try:
        task_run = execution.task_run(result.task_run_id)
    except KeyError:
        return []
    entries = dict(task_run.engine_state.get(SUBFLOWS) or {})
    entry = entries.get(result.execution_id)
    last = task_run.last_attempt
    if (
        entry is None
        or entry.get("state") is not None
        or task_run.current is not State.RUNNING
        or last is None
        or last.state.current is not State.RUNNING
    ):
        return []
    entries[result.execution_id] = {**entry, "state": result.child_state.value}
    engine_state = {**task_run.engine_state, SUBFLOWS: entries}
    logs: list[Action] = [EmitLog(level, text, task_run.id) for level, text in result.logs]
    if result.attempt_state is None:
        return [*logs, *_batches_update(execution, task_run, engine_state)]
    return [
        *logs,
        SetTaskRunState(task_run.id, State.RUNNING, engine_state=engine_state),
        FinishAttempt(task_run.id, result.attempt_state, dict(result.outputs or {})),
    ]


def _batches_update(
    execution: Execution, task_run: TaskRun, engine_state: dict[str, Any]
) -> list[Action]:
    """A ForEachItem's `_items` run with its children `engine_state`: its outputs
    (`numberOfBatches`, `iterations`) and, once every batch has ended, its attempt."""
    wait = bool(engine_state.get(WAIT, True))
    counts = iterations(replace(task_run, engine_state=engine_state), wait)
    batches = int(engine_state.get(BATCHES) or 0)
    outputs: dict[str, Any] = {"numberOfBatches": batches, "iterations": counts}
    actions: list[Action] = [SetTaskRunState(task_run.id, State.RUNNING, outputs, engine_state)]
    entries = engine_state.get(SUBFLOWS) or {}
    if sum(1 for entry in entries.values() if entry.get("state") is not None) == batches:
        outputs = {**outputs, "subflowOutputsBaseUri": outputs_base(execution, task_run)}
        state = batches_state(counts, bool(engine_state.get(TRANSMIT_FAILED, True)))
        actions.append(FinishAttempt(task_run.id, state, outputs))
    return actions
