"""Kestra's conformance flows end to end through `run_flow`, checked against EXPECTED.md.

Every case runs with `flows.expressions` when it is importable; the cases whose templates
the tests' small fake renderer understands also run with it, so the engine is checked even
when the expression language is not there. Cases needing real Pebble (ternaries, `~`,
`errorLogs()`) are marked `pebble`. Flows using features the engine core does not have yet
are listed in SKIPPED with the reason.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from executions.engine.actions import Action
from executions.engine.commands import first_paused, resume
from executions.engine.flow import FlowSpec, load_flow
from executions.engine.flowables.waits import on_resume_definitions
from executions.engine.inputs import FileUpload, resolve_inputs
from executions.engine.inputs.files import ExecutionInputFiles
from executions.engine.local import FlowDirectory, MemoryKV, MemoryStorage
from executions.engine.model import CORRELATION_ID, Execution, Label, TaskRun
from executions.engine.rendering import expressions_renderer
from executions.engine.runner import RunResult
from executions.engine.states import State
from tests.executions.engine.fakes import fake_renderer
from tests.executions.engine.helpers import run
from tests.executions.engine.inputs.test_resolution import KESTRA_VALID

CONFORMANCE = Path(__file__).resolve().parents[4] / "shared" / "kestra-conformance"
FLOWS = CONFORMANCE / "flows"


def _real_expressions() -> bool:
    if importlib.util.find_spec("flows.expressions") is None:
        return False
    try:
        module = importlib.import_module("flows.expressions")
    except Exception:  # being written, or broken: these cases are skipped
        return False
    return all(hasattr(module, name) for name in ("render", "RenderContext", "ExpressionError"))


@dataclass
class Case:
    file: str
    check: Callable[[RunResult], None]
    inputs: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    pebble: bool = False  # needs the real expression language
    labels: tuple[Label, ...] = ()
    # `inputs` as a user gives them (text, FileUpload), typed and validated as the API does
    # (executions.engine.inputs); without it, `inputs` are already typed
    resolve: bool = False
    kv: dict[str, Any] = field(default_factory=dict)  # KV entries of the flow's namespace

    @property
    def id(self) -> str:
        return f"{self.file}[{self.label}]" if self.label else self.file


def _ids(result: RunResult) -> list[str]:
    return [task_run.task_id for task_run in result.execution.task_runs]


def _state(result: RunResult, task_id: str) -> State:
    return result.task_run(task_id).current


def ends(state: State, count: int | None = None, **task_states: State) -> Callable:
    def check(result: RunResult) -> None:
        assert result.execution.current is state
        if count is not None:
            assert len(result.execution.task_runs) == count
        for task_id, expected in task_states.items():
            assert _state(result, task_id.replace("_", "-")) is expected

    return check


def runs(count: int) -> Callable:
    def check(result: RunResult) -> None:
        assert len(result.execution.task_runs) == count

    return check


def _return(result: RunResult) -> None:
    values = [task_run.outputs["value"] for task_run in result.execution.task_runs]
    assert len(values) == 3
    assert datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    assert values[1:] == ["task-id", "return"]


def _output_values(result: RunResult) -> None:
    ends(State.SUCCESS, 1)(result)
    values = result.task_run("return").outputs["values"]
    assert (values["output1"], values["output2"]) == ("xyz", "abc")


def _full(result: RunResult) -> None:
    ends(State.SUCCESS, 13)(result)
    assert "value1" in result.task_run("t2").outputs["value"]


def _attempts(task_id: str, count: int, state: State, runs_count: int | None = None) -> Callable:
    def check(result: RunResult) -> None:
        ends(state, runs_count)(result)
        assert len(result.task_run(task_id).attempts) == count

    return check


def _allow_failure(crashed: bool) -> Callable:
    def check(result: RunResult) -> None:
        common = {
            "first": State.WARNING,
            "1-1-allow-failure": State.WARNING,
            "1-1-1_seq": State.FAILED,
            "1-1-1-1": State.SUCCESS,
            "ko": State.FAILED,
            "local-error": State.SUCCESS,
            "1-2-todo": State.SUCCESS,
        }
        for task_id, state in common.items():
            assert _state(result, task_id) is state
        if crashed:
            ends(State.FAILED, 10)(result)
            assert _state(result, "global-error") is State.SUCCESS
            assert _state(result, "switch") is State.FAILED
            assert _state(result, "crash") is State.FAILED
        else:
            ends(State.WARNING, 9)(result)
            assert "global-error" not in _ids(result)
            assert _state(result, "last") is State.SUCCESS

    return check


def _switch(expected: list[str], state: State | None, outputs: dict | None = None) -> Callable:
    def check(result: RunResult) -> None:
        assert _ids(result)[1 : 1 + len(expected)] == expected
        if state is not None:
            assert result.execution.current is state
        if outputs is not None:
            assert result.task_run("parent-seq").outputs == outputs

    return check


def _if_branch(branch: str | None, count: int) -> Callable:
    def check(result: RunResult) -> None:
        ends(State.SUCCESS, count)(result)
        if branch is not None:
            assert _state(result, branch) is State.SUCCESS

    return check


def _each_null(result: RunResult) -> None:
    ends(State.FAILED, 1)(result)
    assert any(
        "Found '1' null values on Each, with values=[1, null, {key=my-key, value=my-value}]"
        in line.message
        for line in result.logs
    )


def _each_nested(result: RunResult) -> None:
    ends(State.SUCCESS, 23)(result)
    runs_ = result.execution.task_runs
    by_id = {task_run.id: task_run for task_run in runs_}

    def value_of(task_id: str, *values: str) -> str:
        for task_run in runs_:
            path = [task_run.value]
            parent = by_id.get(task_run.parent_task_run_id or "")
            while parent is not None:
                if parent.value is not None:
                    path.insert(0, parent.value)
                parent = by_id.get(parent.parent_task_run_id or "")
            if task_run.task_id == task_id and path == list(values):
                return task_run.outputs["value"]
        raise AssertionError(f"no {task_id} {values}")

    assert value_of("1-2-1_return", "s1", "a a") in result.task_run("2_return").outputs["value"]
    assert value_of("1-1_return", "s1") in value_of("1-3_return", "s1")
    assert "get " + value_of("1-2-1_return", "s1", "a a") in value_of("1-2-2_return", "s1", "a a")


def _variables_invalid(result: RunResult) -> None:
    ends(State.FAILED, 2)(result)
    assert result.execution.task_runs[1].current is State.FAILED
    assert any(
        "Unable to find `inputs` used in the expression `{{inputs.invalid}}`" in line.message
        for line in result.logs
    )


def _errors(result: RunResult) -> None:
    assert len(result.execution.task_runs) == 7
    assert any(line.message == "- task: failed, message: Task failure" for line in result.logs)


def _retry_new_execution(result: RunResult) -> None:
    assert sorted(e.current for e in result.executions) == sorted(
        [State.RETRIED, State.RETRIED, State.FAILED]
    )


def _retry_flowable(result: RunResult) -> None:
    assert result.execution.current is State.FAILED
    assert len(result.execution.task_runs[1].attempts) == 3


def _labels_update(result: RunResult) -> None:
    ends(State.SUCCESS, 4)(result)
    execution = result.execution
    assert execution.label_map() == {
        CORRELATION_ID: execution.id,
        "flowLabelKey": "flowLabelValue",
        "overriddenFlowLabelKey": "io.kestra.tests.labels-update-task",
        "keyFromJson": "valueFromJson",
        "keyFromMap": "valueFromMap",
        "keyFromList": "valueFromList",
        "keyFromExecution": "valueFromExecution",
        "overriddenExecutionLabelKey": result.task_run("override-labels").id,
    }


def _primitive_labels(result: RunResult) -> None:
    ends(State.SUCCESS, 1)(result)
    execution = result.execution
    assert execution.label_map() == {
        CORRELATION_ID: execution.id,
        "intValue": "42",
        "boolValue": "true",
        "floatValue": "3.14",
        "taskRunId": result.task_run("update-labels").id,
        "existingLabel": "someValue",
    }


def _outputs(expected: dict) -> Callable:
    def check(result: RunResult) -> None:
        ends(State.SUCCESS)(result)
        assert result.execution.outputs == expected

    return check


def _outputs_failed(result: RunResult) -> None:
    ends(State.FAILED)(result)
    assert result.execution.outputs is None


def _subflow_chain(result: RunResult) -> None:
    """subflow-parent → subflow-child → subflow-grand-child share the root's correlationId."""
    ends(State.SUCCESS, 1)(result)
    (child,) = result.children
    (grand_child,) = child.children
    for run_ in (child, grand_child):
        assert run_.execution.current is State.SUCCESS
        assert run_.execution.label_map()[CORRELATION_ID] == result.execution.id


def _subflow_middle(result: RunResult) -> None:
    ends(State.SUCCESS, 1)(result)
    (grand_child,) = result.children
    assert grand_child.execution.current is State.SUCCESS
    assert grand_child.execution.label_map()[CORRELATION_ID] == result.execution.id


def _grand_child(result: RunResult) -> None:
    ends(State.SUCCESS, 1)(result)
    message = f"My grandparent is {result.execution.id}"
    assert any(line.message == message for line in result.logs)


def _task_flow(state: State, child_state: State, child_runs: int, extracted: str | None):
    def check(result: RunResult) -> None:
        ends(state, 1)(result)
        launch = result.task_run("launch")
        assert len(launch.attempts) == 1
        assert launch.attempts[0].state.current is state
        (child,) = result.children
        execution, parent = child.execution, result.execution
        assert launch.outputs["executionId"] == execution.id
        assert execution.current is child_state
        assert len(execution.task_runs) == child_runs
        if extracted is not None:
            assert extracted in launch.outputs["outputs"]["extracted"]
            assert launch.outputs["state"] == execution.current.value
        assert execution.trigger["type"] == "io.kestra.plugin.core.flow.Subflow"
        variables = execution.trigger["variables"]
        assert (variables["executionId"], variables["flowId"], variables["namespace"]) == (
            parent.id,
            parent.flow_id,
            parent.namespace,
        )
        assert execution.label_map() == {
            CORRELATION_ID: parent.id,
            "mainFlowExecutionLabel": "execFoo",
            "mainFlowLabel": "flowFoo",
            "launchTaskLabel": "launchFoo",
            "switchFlowLabel": "switchFoo",
        }
        assert len(execution.labels) == 5

    return check


def _kv_found(result: RunResult) -> None:
    ends(State.SUCCESS, 2)(result)
    assert [r.outputs["value"] for r in result.execution.task_runs] == ["value", "value"]


KV_MISSING = "The key 'my-key' does not exist in the namespace 'io.kestra.tests'."


def _kv_missing(result: RunResult) -> None:
    """`?? null` makes [0] empty; `errorOnMissing` fails [1] (so the execution, as no task
    allows the failure: Kestra's KvFunctionTest does not assert it)."""
    ends(State.FAILED, 2, get=State.SUCCESS, getWithArgs=State.FAILED)(result)
    assert result.task_run("get").outputs["value"] == ""
    failed = result.task_run("getWithArgs")
    assert any(KV_MISSING in line.message for line in result.logs if line.task_run_id == failed.id)


FILE_URI = r"kestra:///io/kestra/tests/inputs/executions/.*/inputs/file/application-test.yml"


def _inputs(json_text: str) -> Callable:
    """Kestra's InputsTest `inputFlow` (and `inputEmptyJsonFlow` for `json={}`): the typed
    inputs as the tasks render them; the SECRET one in clear for the task only."""

    def check(result: RunResult) -> None:
        ends(State.SUCCESS, 14)(result)
        value = {r.task_id: r.outputs.get("value") for r in result.execution.task_runs}
        assert re.fullmatch(FILE_URI, value["file"])
        assert value["secret"] == "secret"
        assert value["optional"] == ""
        assert (value["string"], value["int"], value["float"]) == ("myString", "42", "42.42")
        assert value["instant"] == "2019-10-06T18:27:49Z"
        items = [r.outputs["value"] for r in result.execution.task_runs if r.task_id == "log"]
        assert items == ["1", "2", "3"]
        assert value["json"] == value["jsonOutput"] == json_text
        assert json.loads(value["yamlOutput"]) == {"some": "property", "alist": ["of", "values"]}
        inputs = result.execution.inputs
        assert inputs["file"] == value["file"]
        assert (inputs["int"], inputs["float"], inputs["bool"]) == (42, 42.42, False)
        assert inputs["nested"] == {"string": "a string", "bool": True, "more": {"int": 123}}
        assert inputs["array"] == [1, 2, 3]
        assert inputs["json"] == json.loads(json_text)
        assert inputs["instantDefaults"] == "2013-08-09T14:19:00Z"
        assert (inputs["optional"], inputs["optionalFile"], inputs["empty"]) == (None, None, "")

    return check


TASK_FLOW_LABELS = (Label("mainFlowExecutionLabel", "execFoo"),)

LABELS_INPUTS = {
    "labelsJson": {"keyFromJson": "valueFromJson"},
    "labelsMapKey": "keyFromMap",
    "labelsMapValue": "valueFromMap",
    "labelsListKey": "keyFromList",
    "labelsListValue": "valueFromList",
}


def _sla_max_duration_failed(result: RunResult) -> None:
    """FAILED by the SLA; the sleeping task run, unfinished then, FAILED with it."""
    ends(State.FAILED, 1, sleep=State.FAILED)(result)
    lines = [(line.level, line.message) for line in result.logs if "SLA" in line.message]
    reason = r"execution duration of PT[0-9.]+S exceed the maximum duration of PT0\.5S\."
    assert [level for level, _ in lines] == ["WARN", "ERROR"]
    violated = f"SLA 'maxDuration' violated: {reason}"
    assert re.fullmatch(violated, lines[0][1])
    assert re.fullmatch(f"Execution failed due to {violated}", lines[1][1])


def _sla_condition(state: State, labelled: bool) -> Callable[[RunResult], None]:
    def check(result: RunResult) -> None:
        assert result.execution.current is state
        assert (Label("sla", "violated") in result.execution.labels) is labelled
        violated = [line.message for line in result.logs if "SLA 'condition'" in line.message]
        assert len(violated) == (0 if state is State.SUCCESS and not labelled else 1)

    return check


# Run with the scheduler process on Celery: tests/executions/test_sla_celery.py
SLA_MAX_DURATION = {"sla-max-duration-fail.yaml", "sla-max-duration-ok.yaml"}

CASES = [
    Case("minimal.yaml", ends(State.SUCCESS)),
    Case("return.yaml", _return),
    Case("output-values.yml", _output_values),
    Case("sleep-task-flow.yaml", ends(State.SUCCESS)),
    Case("full.yaml", _full),
    Case("sequential.yaml", ends(State.SUCCESS, 11)),
    Case("sequential-with-global-errors.yaml", ends(State.FAILED, 6)),
    Case("sequential-with-local-errors.yaml", ends(State.FAILED, 6)),
    Case("parallel.yaml", runs(8)),
    Case("parallel-nested.yaml", runs(11)),
    Case("if.yaml", ends(State.SUCCESS, 12), {"if1": True, "if2": False, "if3": True}),
    *[
        Case("if-condition.yaml", _if_branch("when-true", 2), {"param": value}, label=repr(value))
        for value in (True, "true", 1)
    ],
    *[
        Case("if-condition.yaml", _if_branch("when-false", 2), {"param": value}, label=repr(value))
        for value in (False, "false", 0, "-0")
    ],
    Case("if-without-else.yaml", _if_branch("when-true", 2), {"param": True}, label="true"),
    Case("if-without-else.yaml", _if_branch(None, 1), {"param": False}, label="false"),
    Case(
        "switch.yaml",
        _switch(["t1"], None, {"value": "FIRST", "defaults": False}),
        {"string": "FIRST"},
        label="FIRST",
    ),
    Case("switch.yaml", _switch(["t2", "t2_sub"], None), {"string": "SECOND"}, label="SECOND"),
    Case(
        "switch.yaml",
        _switch(["t3", "failed", "error-t1"], State.FAILED),
        {"string": "THIRD"},
        label="THIRD",
    ),
    Case(
        "switch.yaml",
        _switch(["default"], None, {"value": "DEFAULT", "defaults": True}),
        {"string": "DEFAULT"},
        label="DEFAULT",
    ),
    Case("switch-impossible.yaml", ends(State.FAILED), {"string": "impossible"}),
    Case("each-sequential.yaml", ends(State.WARNING, 11), pebble=True),
    Case("each-sequential-nested.yaml", _each_nested),
    Case("each-parallel.yaml", ends(State.SUCCESS, 8)),
    Case("each-empty.yaml", ends(State.SUCCESS, 2)),
    Case("each-null.yaml", _each_null),
    Case("foreach-non-concurrent.yaml", ends(State.SUCCESS, 7)),
    Case("foreach-concurrent.yaml", ends(State.SUCCESS, 7)),
    Case("foreach-concurrent-no-limit.yaml", ends(State.SUCCESS, 7)),
    Case("disable-simple.yaml", runs(2)),
    Case("disable-flowable.yaml", runs(10)),
    Case("errors.yaml", _errors, pebble=True),
    Case(
        "fail-on-condition.yaml",
        ends(State.FAILED, 2, fail=State.FAILED),
        {"param": "fail"},
        label="fail",
    ),
    Case(
        "fail-on-condition.yaml",
        ends(State.SUCCESS, 3, fail=State.SUCCESS),
        {"param": "success"},
        label="success",
    ),
    Case("fail-on-switch.yaml", ends(State.FAILED, 1, switch=State.FAILED), {"param": "fail"}),
    Case("variables-invalid.yaml", _variables_invalid),
    Case("allow-failure.yaml", _allow_failure(crashed=False), label="no input"),
    Case("allow-failure.yaml", _allow_failure(crashed=True), {"crash": "1"}, label="crash"),
    Case("task-allow-failure-runnable.yml", _attempts("fail", 3, State.WARNING, 2)),
    Case("task-allow-failure-flowable.yml", ends(State.WARNING, 3)),
    Case("task-allow-warning-runnable.yml", _attempts("fail", 3, State.SUCCESS, 2)),
    Case("task-allow-warning-flowable.yml", ends(State.SUCCESS, 3)),
    Case(
        "task-runif.yml",
        ends(
            State.FAILED,
            4,
            executed=State.SUCCESS,
            notexecuted=State.SKIPPED,
            willfailedtheflow=State.FAILED,
        ),
    ),
    Case("retry-success.yaml", _attempts("failed", 4, State.WARNING, 1), pebble=True),
    Case("retry-failed.yaml", _attempts("failed", 5, State.FAILED, 2)),
    Case("retry-fail.yaml", _attempts("keepFailingWithRetry", 3, State.FAILED, 2)),
    Case("retry-expo.yaml", _attempts("failed", 3, State.FAILED, 1)),
    Case("retry-failed-task-attempts.yml", _attempts("fail", 4, State.FAILED)),
    Case("retry-failed-flow-attempts.yml", _attempts("fail", 4, State.FAILED)),
    Case("retry-new-execution-task-attempts.yml", _retry_new_execution),
    Case("retry-flowable.yaml", _retry_flowable),
    Case(
        "labels-update-task.yml",
        _labels_update,
        LABELS_INPUTS,
        pebble=True,
        labels=(
            Label("keyFromExecution", "valueFromExecution"),
            Label("overriddenExecutionLabelKey", "executionValueThatWillGetOverridden"),
        ),
    ),
    Case(
        "primitive-labels-flow.yml",
        _primitive_labels,
        {"intLabel": 42, "floatLabel": 3.14, "boolLabel": True},
        labels=(Label("existingLabel", "someValue"),),
    ),
    Case("flow-with-outputs.yml", _outputs({"key": '{"value":"flow-with-outputs"}'})),
    Case("flow-with-array-outputs.yml", _outputs({"myout": ["1rstValue", "2ndValue"]})),
    Case("flow-with-outputs-failed.yml", _outputs_failed),
    Case("subflow-parent.yaml", _subflow_chain),
    Case("subflow-child.yaml", _subflow_middle),
    Case("subflow-grand-child.yaml", _grand_child),
    *[
        Case(
            "task-flow.yaml",
            _task_flow(state, child_state, child_runs, extracted),
            {"string": value},
            label=value,
            pebble=True,  # `??` in the deprecated `outputs` mapping
            labels=TASK_FLOW_LABELS,
        )
        for value, state, child_state, child_runs, extracted in (
            ("OK", State.SUCCESS, State.SUCCESS, 2, "default > amazing"),
            ("THIRD", State.FAILED, State.FAILED, 4, "Error Trigger ! error-t1"),
            ("FIRST", State.FAILED, State.SUCCESS, 2, None),
        )
    ],
    Case("task-allow-failure-executable-flow.yml", ends(State.WARNING, 2, fail=State.WARNING)),
    Case(
        "for-each-item-subflow-failed.yaml",
        ends(State.FAILED, 1, per_item=State.FAILED),
        {"items": "You will fail"},
    ),
    Case("inputs.yaml", _inputs('{"a":"b"}'), KESTRA_VALID, resolve=True),
    Case(
        "inputs.yaml",
        _inputs("{}"),
        {**KESTRA_VALID, "json": "{}"},
        label="json={}",
        resolve=True,
    ),
    Case("kv.yaml", _kv_found, label="key set", pebble=True, kv={"my-key": {"field": "value"}}),
    Case("kv.yaml", _kv_missing, {"errorOnMissing": True}, label="no key", pebble=True),
    Case("sla-max-duration-fail.yaml", _sla_max_duration_failed),
    Case("sla-max-duration-ok.yaml", ends(State.SUCCESS, 1, sleep=State.SUCCESS)),
    *[
        Case(
            "sla-execution-condition.yaml",
            _sla_condition(state, labelled),
            {"string": value},
            label=value,
        )
        for value, state, labelled in (
            ("PASS", State.SUCCESS, False),
            ("CANCEL", State.CANCELLED, False),
            ("LABEL", State.SUCCESS, True),
        )
    ],
]

# --- flows that wait: Pause (resumed by a user, or by its delay or timeout) and WaitFor ---


@dataclass
class Resume:
    """What a user does once the execution is PAUSED waiting for them: `paused` checks it,
    then its `onResume` values `inputs(execution)` are sent; with `refused`, they must be
    refused with that message, and the execution is left paused."""

    inputs: Callable[[Execution], dict[str, Any]] = lambda execution: {}
    paused: Callable[[Execution], None] | None = None
    refused: str | None = None


@dataclass
class WaitCase:
    file: str
    check: Callable[[RunResult, Any], None]  # (result, the run's storage)
    resumes: tuple[Resume, ...] = ()
    label: str = ""
    pebble: bool = False

    @property
    def id(self) -> str:
        return f"{self.file}[{self.label}]" if self.label else self.file


def resolve_resume(
    execution: Execution, spec: FlowSpec, step: Resume, storage: Any
) -> list[Action] | None:
    """The commands a user's resume gives: its `onResume` values typed and validated as the
    API does, or None when they are refused (and `step` expected so)."""
    if step.paused is not None:
        step.paused(execution)
    paused = first_paused(execution)
    definitions = on_resume_definitions(spec.find(paused.task_id) if paused else None)
    files = ExecutionInputFiles(storage, execution.namespace, execution.flow_id, execution.id)
    resolution = resolve_inputs(definitions, step.inputs(execution), files=files, path="onResume")
    messages = [violation.message for violation in resolution.violations]
    if step.refused is not None:
        assert messages == [step.refused]
        return None
    assert messages == []
    return resume(execution, spec, resolution.nested() if definitions else None)


def _paused_at(count: int) -> Callable[[Execution], None]:
    def check(execution: Execution) -> None:
        assert execution.current is State.PAUSED
        assert len(execution.task_runs) == count
        assert execution.task_runs[0].current is State.PAUSED

    return check


def _history(task_run: TaskRun, state: State) -> int:
    return task_run.state.count(state)


def _pause_delay(result: RunResult, storage: Any) -> None:
    ends(State.SUCCESS, 3)(result)
    pause = result.task_run("pause")
    assert (_history(pause, State.PAUSED), _history(pause, State.RUNNING)) == (1, 2)


def _pause_timeout(result: RunResult, storage: Any) -> None:
    ends(State.FAILED, 1)(result)
    pause = result.task_run("pause")
    counts = [_history(pause, state) for state in (State.RUNNING, State.PAUSED, State.FAILED)]
    assert counts == [1, 1, 1]


def _on_resume(result: RunResult, storage: Any) -> None:
    ends(State.SUCCESS, 2)(result)
    values = result.task_run("last").outputs["values"]
    assert values["asked"] == "restarted"
    assert values["data"].startswith("kestra://")
    assert storage.get(values["data"]) == result.execution.id.encode()


def _last_values(**expected: str) -> Callable[[RunResult, Any], None]:
    def check(result: RunResult, storage: Any) -> None:
        ends(State.SUCCESS)(result)
        values = result.execution.task_runs[-1].outputs["values"]
        assert {key: values[key] for key in expected} == expected

    return check


def _wait_for(result: RunResult, storage: Any) -> None:
    ends(State.SUCCESS)(result)
    assert "iterationCount" in result.execution.task_runs[0].outputs


def _final(state: State, count: int | None = None) -> Callable[[RunResult, Any], None]:
    return lambda result, storage: ends(state, count)(result)


MISSING_ASKED = "Invalid input for `asked`, missing required input, but received `null`"
WAIT_CASES = [
    WaitCase("pause.yaml", _final(State.SUCCESS, 3), (Resume(paused=_paused_at(1)),)),
    WaitCase("pause-delay.yaml", _pause_delay),
    WaitCase("pause-timeout.yaml", _pause_timeout),
    WaitCase("pause_no_tasks.yaml", _final(State.SUCCESS, 2), (Resume(paused=_paused_at(1)),)),
    WaitCase(
        "pause_on_resume.yaml",
        _on_resume,
        (
            Resume(
                lambda execution: {
                    "asked": "restarted",
                    "data": FileUpload("data.txt", execution.id.encode()),
                },
                paused=_paused_at(1),
            ),
        ),
        label="resumed",
    ),
    WaitCase(
        "pause_on_resume.yaml",
        _final(State.PAUSED, 1),
        (Resume(refused=MISSING_ASKED),),
        label="missing input",
    ),
    WaitCase(
        "pause_on_resume_optional.yaml",
        _last_values(asked="MISSING"),
        (Resume(),),
        pebble=True,  # `??`
    ),
    WaitCase("waitfor.yaml", _wait_for, pebble=True),  # `+` in the child's values
    WaitCase("waitfor-max-iterations.yaml", _final(State.FAILED), pebble=True),
    WaitCase("waitfor-no-success.yaml", _final(State.SUCCESS), pebble=True),
    WaitCase("waitfor-multiple-tasks.yaml", _last_values(count="4"), pebble=True),
]

CONCURRENCY = (
    "two executions of one flow, limited by the Django side: "
    "tests/executions/test_concurrency.py runs it on a real worker"
)
SKIPPED = {
    "flow-concurrency-cancel-pause.yml": CONCURRENCY,
    "flow-concurrency-queue-pause.yml": CONCURRENCY,
}

# Flows whose trigger runs outside the engine core, each with the test that runs it.
FLOW_TRIGGERS = "tests/triggers/test_flow_triggers.py"
FLOW_TRIGGERS_CELERY = "tests/triggers/test_flow_triggers_celery.py"
RUN_ELSEWHERE = {
    "webhook.yaml": "tests/triggers/test_webhooks_celery.py",
    "flow-trigger-preconditions-flow-a.yaml": FLOW_TRIGGERS,
    "flow-trigger-preconditions-flow-b.yaml": FLOW_TRIGGERS,
    "flow-trigger-preconditions-flow-listen.yaml": FLOW_TRIGGERS,
    "trigger-flow.yaml": FLOW_TRIGGERS,
    "trigger-flow-listener.yaml": FLOW_TRIGGERS,
    "trigger-flow-with-pause.yaml": FLOW_TRIGGERS_CELERY,
    "trigger-flow-listener-with-pause.yaml": FLOW_TRIGGERS_CELERY,
}

# The fake renders everything but the `pebble` cases; flows.expressions renders every case
# (the end-to-end check).
RUNS = [(case, "fake") for case in CASES if not case.pebble] + [(case, "pebble") for case in CASES]


@pytest.mark.skipif(not FLOWS.is_dir(), reason="shared/kestra-conformance is missing")
@pytest.mark.parametrize(
    ("case", "renderer"), RUNS, ids=[f"{renderer}-{case.id}" for case, renderer in RUNS]
)
def test_it_runs_the_conformance_flow_like_kestra(
    case: Case, renderer: str, request: pytest.FixtureRequest
) -> None:
    render = fake_renderer
    if renderer == "pebble":
        if not _real_expressions():
            pytest.skip("needs flows.expressions (Pebble) for this flow's templates")
        render = expressions_renderer
    spec = load_flow((FLOWS / case.file).read_text())
    storage, kv = MemoryStorage(), MemoryKV(spec.namespace)
    for key, value in case.kv.items():
        kv.set(key, value)
    inputs = dict(case.inputs)
    if case.resolve:  # typed and validated as the API and `flow test` do
        files = ExecutionInputFiles(storage, spec.namespace, spec.id, EXECUTION_ID)
        resolution = resolve_inputs(list(spec.inputs), inputs, files=files)
        assert resolution.violations == []
        inputs = resolution.nested()
    result = run(
        spec,
        inputs,
        renderer=render,
        labels=case.labels,
        flows=corpus().lookup,
        storage=storage,
        kv=kv,
        execution_id=EXECUTION_ID,
    )
    case.check(result)
    check_uploads(case, result, storage)


def check_uploads(case: Case, result: RunResult, storage: Any) -> None:
    """Each file given for a FILE input is in the storage, under the input's URI."""
    for input_id, value in case.inputs.items():
        if isinstance(value, FileUpload):
            assert storage.get(result.execution.inputs[input_id]) == value.data


EXECUTION_ID = "conformance"


@cache
def corpus() -> FlowDirectory:
    """The corpus as the flows its Subflows start (as `flow test --flows-dir` reads it)."""
    flows = FlowDirectory.read(FLOWS)
    assert not flows.errors, flows.errors
    assert not flows.warnings, flows.warnings
    return flows


@pytest.mark.skipif(not FLOWS.is_dir(), reason="shared/kestra-conformance is missing")
@pytest.mark.parametrize("file", sorted(SKIPPED))
def test_it_lists_the_conformance_flows_it_does_not_run_yet(file: str) -> None:
    assert (FLOWS / file).is_file()
    pytest.skip(SKIPPED[file])


@pytest.mark.skipif(not FLOWS.is_dir(), reason="shared/kestra-conformance is missing")
def test_it_accounts_for_every_conformance_flow() -> None:
    files = {path.name for path in FLOWS.iterdir() if path.suffix in (".yaml", ".yml")}
    covered = {case.file for case in [*CASES, *WAIT_CASES]} | set(SKIPPED) | set(RUN_ELSEWHERE)
    assert files == covered


@pytest.mark.parametrize("file", sorted(RUN_ELSEWHERE))
def test_it_runs_some_conformance_flows_in_other_tests(file: str) -> None:
    test_module = Path(__file__).resolve().parents[3] / RUN_ELSEWHERE[file]
    assert file in test_module.read_text()


WAIT_RUNS = [(case, "fake") for case in WAIT_CASES if not case.pebble] + [
    (case, "pebble") for case in WAIT_CASES
]


@pytest.mark.skipif(not FLOWS.is_dir(), reason="shared/kestra-conformance is missing")
@pytest.mark.parametrize(
    ("case", "renderer"), WAIT_RUNS, ids=[f"{renderer}-{case.id}" for case, renderer in WAIT_RUNS]
)
def test_it_runs_the_waiting_conformance_flow_like_kestra(case: WaitCase, renderer: str) -> None:
    render = fake_renderer
    if renderer == "pebble":
        if not _real_expressions():
            pytest.skip("needs flows.expressions (Pebble) for this flow's templates")
        render = expressions_renderer
    spec = load_flow((FLOWS / case.file).read_text())
    storage = MemoryStorage()
    steps = list(case.resumes)

    def on_pause(execution: Execution) -> list[Action] | None:
        return resolve_resume(execution, spec, steps.pop(0), storage) if steps else None

    result = run(spec, {}, renderer=render, storage=storage, on_pause=on_pause)
    assert steps == []  # every resume was needed
    case.check(result, storage)
