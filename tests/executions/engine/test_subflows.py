"""Subflow and ForEachItem in the engine, through the in-process runner: the child is made
from the flow a lookup finds, run to its end, and its result goes back to the parent."""

from __future__ import annotations

import json
import textwrap

import pytest

from executions.engine.actions import KillTaskRun, SetExecutionState, StartSubflow
from executions.engine.flow import FlowSpec, load_flow
from executions.engine.local import MemoryStorage
from executions.engine.model import CORRELATION_ID, Label
from executions.engine.runner import RunResult
from executions.engine.states import State
from executions.engine.subflows import (
    SubflowError,
    SubflowResult,
    accept_subflow_result,
    not_found,
    subflow_started,
)
from executions.engine.tasks.for_each_item import lines_of, size_in_bytes, split_lines
from tests.executions.engine.helpers import Stepper, run
from tests.executions.engine.test_conformance import FLOWS as CORPUS_DIR
from tests.executions.engine.test_conformance import corpus

NS = "company.team"


def spec(flow_id: str, body: str) -> FlowSpec:
    return load_flow(f"id: {flow_id}\nnamespace: {NS}\n" + textwrap.dedent(body))


CHILD = spec(
    "child",
    """
    inputs:
      - id: name
        type: STRING
        defaults: nobody
    labels:
      childLabel: fromChild
    tasks:
      - id: hello
        type: io.kestra.plugin.core.debug.Return
        format: "hello {{ inputs.name }}"
    outputs:
      - id: greeting
        type: STRING
        value: "{{ outputs.hello.value }}"
    """,
)
FAILING = spec(
    "failing",
    """
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
    """,
)
WARNING = spec(
    "warning",
    """
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
        allowFailure: true
    """,
)
TYPED = spec(
    "typed",
    """
    inputs:
      - id: count
        type: INT
      - id: level
        type: SELECT
        values: [LOW, HIGH]
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "{{ inputs.count }}"
    """,
)
DISABLED = spec(
    "disabled",
    """
    disabled: true
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: never
    """,
)
# two flows calling each other: validation cannot see it, the depth limit stops it
PING = spec(
    "ping",
    """
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: company.team
        flowId: pong
    """,
)
PONG = spec(
    "pong",
    """
    tasks:
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: company.team
        flowId: ping
    """,
)
BATCH = spec(
    "batch",
    """
    inputs:
      - id: items
        type: STRING
      - id: number
        type: INT
    tasks:
      - id: read
        type: io.kestra.plugin.core.debug.Return
        format: "{{ inputs.number }}"
    outputs:
      - id: number
        type: INT
        value: "{{ outputs.read.value }}"
    """,
)
BATCH_FAILING = spec(
    "batch-failing",
    """
    inputs:
      - id: items
        type: STRING
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
    """,
)
FLOWS = {f.id: f for f in (CHILD, FAILING, WARNING, TYPED, DISABLED, PING, PONG, BATCH)}
FLOWS[BATCH_FAILING.id] = BATCH_FAILING


def lookup(namespace: str, flow_id: str, revision: int | None) -> FlowSpec:
    if namespace == NS and flow_id in FLOWS:
        return FLOWS[flow_id]
    raise not_found(namespace, flow_id, revision)


def run_parent(body: str, inputs: dict | None = None, **options) -> RunResult:
    options.setdefault("flows", lookup)
    options.setdefault("storage", MemoryStorage())
    return run(spec("parent", body), inputs or {}, **options)


def subflow(flow_id: str, extra: str = "", task_id: str = "launch") -> str:
    task = f"""
    tasks:
      - id: {task_id}
        type: io.kestra.plugin.core.flow.Subflow
        namespace: company.team
        flowId: {flow_id}
"""
    return task + textwrap.indent(textwrap.dedent(extra), " " * 8)


def errors(result: RunResult) -> list[str]:
    return [line.message for line in result.logs if line.level == "ERROR"]


# --- Subflow ----------------------------------------------------------------------------
def test_it_waits_for_the_child_and_gives_its_id_state_and_outputs():
    result = run_parent(
        subflow("child", "inputs:\n  name: Ada\n")
        + """
      - id: after
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.launch.outputs.greeting }} ({{ outputs.launch.state }})"
    """
    )
    assert result.execution.current is State.SUCCESS
    (child,) = result.children
    launch = result.task_run("launch")
    assert launch.outputs == {
        "executionId": child.execution.id,
        "state": "SUCCESS",
        "outputs": {"greeting": "hello Ada"},
    }
    assert [a.state.current for a in launch.attempts] == [State.SUCCESS]
    assert result.task_run("after").outputs["value"] == "hello Ada (SUCCESS)"
    assert child.execution.inputs == {"name": "Ada"}


def test_the_child_carries_kestras_trigger_and_the_roots_correlation_id():
    result = run_parent(subflow("ping"), max_depth=2)
    parent = result.execution
    child = result.children[0].execution
    grand_child = result.children[0].children[0].execution
    assert child.trigger == {
        "id": "launch",
        "type": "io.kestra.plugin.core.flow.Subflow",
        "variables": {
            "executionId": parent.id,
            "namespace": NS,
            "flowId": "parent",
            "flowRevision": 1,
        },
    }
    assert grand_child.trigger["variables"]["executionId"] == child.id
    assert child.label_map()[CORRELATION_ID] == parent.id
    assert grand_child.label_map()[CORRELATION_ID] == parent.id


def test_without_inherit_labels_the_child_gets_only_system_labels_and_its_own():
    body = """
    labels:
      parentLabel: fromParent
    """ + subflow("child", "labels:\n  taskLabel: '{{ flow.id }}'\n")
    result = run_parent(body, labels=(Label("launchedWith", "api"),))
    child = result.children[0].execution
    assert child.label_map() == {
        "childLabel": "fromChild",
        CORRELATION_ID: result.execution.id,
        "taskLabel": "parent",
    }


def test_with_inherit_labels_the_child_gets_every_label_of_the_parent():
    body = """
    labels:
      parentLabel: fromParent
    """ + subflow("child", "inheritLabels: true\nlabels:\n  - key: taskLabel\n    value: x\n")
    result = run_parent(body, labels=(Label("launchedWith", "api"),))
    assert result.children[0].execution.label_map() == {
        "childLabel": "fromChild",
        "parentLabel": "fromParent",
        "launchedWith": "api",
        CORRELATION_ID: result.execution.id,
        "taskLabel": "x",
    }


@pytest.mark.parametrize(
    ("child", "extra", "task_state"),
    [
        ("failing", "", State.FAILED),
        ("failing", "transmitFailed: false\n", State.SUCCESS),
        ("failing", "allowFailure: true\n", State.WARNING),
        ("warning", "", State.WARNING),
        ("warning", "allowWarning: true\n", State.SUCCESS),
        ("warning", "transmitFailed: false\n", State.SUCCESS),
    ],
)
def test_transmit_failed_and_allow_failure_decide_what_the_childs_end_means(
    child, extra, task_state
):
    result = run_parent(subflow(child, extra))
    assert result.task_run("launch").current is task_state
    assert result.task_run("launch").outputs["state"] == result.children[0].execution.current
    assert result.execution.current is task_state


def test_without_wait_the_task_succeeds_once_the_child_exists():
    result = run_parent(subflow("failing", "wait: false\n"))
    assert result.execution.current is State.SUCCESS
    (child,) = result.children
    assert child.execution.current is State.FAILED
    assert result.task_run("launch").outputs == {"executionId": child.execution.id}


def test_deprecated_outputs_are_rendered_in_the_childs_context():
    result = run_parent(subflow("failing", "outputs:\n  id: '{{ execution.id }}'\n"))
    launch = result.task_run("launch")
    assert launch.outputs["outputs"] == {"id": result.children[0].execution.id}


def test_outputs_that_cannot_be_extracted_fail_the_task():
    result = run_parent(subflow("failing", "transmitFailed: false\noutputs:\n  x: '{{ nope }}'\n"))
    assert result.task_run("launch").current is State.FAILED
    assert any(
        line.level == "WARN" and line.message.startswith("Failed to extract outputs")
        for line in result.logs
    )


def test_a_missing_flow_fails_the_task_naming_its_namespace_and_id():
    result = run_parent(subflow("nowhere"))
    assert result.execution.current is State.FAILED
    assert result.children == []
    assert errors(result) == ["Unable to find flow 'company.team'.'nowhere' with revision '0'"]


def test_a_disabled_flow_fails_the_task():
    result = run_parent(subflow("disabled"))
    assert result.task_run("launch").current is State.FAILED
    assert errors(result) == ["Cannot execute flow 'company.team.disabled': it is disabled"]


def test_invalid_child_inputs_fail_the_task_with_every_message():
    result = run_parent(subflow("typed", "inputs:\n  count: many\n  level: MEDIUM\n"))
    assert result.task_run("launch").current is State.FAILED
    (message,) = errors(result)
    assert message.startswith("Invalid inputs for flow 'company.team.typed': ")
    assert "inputs.count" in message
    assert "inputs.level" in message
    assert result.children == []


def test_a_recursion_deeper_than_the_limit_fails_instead_of_going_on():
    result = run_parent(subflow("ping"), max_depth=5)
    assert result.execution.current is State.FAILED
    chain, level = [], result
    while level.children:
        level = level.children[0]
        chain.append(level.execution)
    assert len(chain) == 5
    assert all(execution.current is State.FAILED for execution in chain)
    (message,) = errors(level)
    assert "more than 5 levels of subflows" in message


def test_a_failed_subflow_is_retried_with_a_new_child():
    result = run_parent(
        subflow("failing", "retry:\n  type: constant\n  interval: PT1S\n  maxAttempt: 2\n")
    )
    launch = result.task_run("launch")
    assert launch.current is State.FAILED
    assert len(launch.attempts) == 2
    assert len(result.children) == 2
    assert launch.outputs["executionId"] == result.children[1].execution.id


def test_run_if_false_skips_the_subflow():
    result = run_parent(subflow("child", "runIf: 'false'\n"))
    assert result.task_run("launch").current is State.SKIPPED
    assert result.children == []


def test_subflows_need_somewhere_to_find_flows():
    result = run_parent(subflow("child"), flows=None)
    assert result.execution.current is State.FAILED
    assert "no flows to start subflows from" in errors(result)[0]


def test_the_legacy_flow_task_type_is_a_subflow():
    body = subflow("child").replace(
        "io.kestra.plugin.core.flow.Subflow", "io.kestra.core.tasks.flows.Flow"
    )
    result = run_parent(body)
    assert result.children[0].execution.trigger["type"] == "io.kestra.plugin.core.flow.Subflow"
    assert result.execution.current is State.SUCCESS


# --- the commands, one by one -------------------------------------------------------------
def _started() -> Stepper:
    stepper = Stepper(subflow("child"))
    stepper.decide()
    return stepper


def test_the_decision_asks_for_the_child_and_waits():
    stepper = _started()
    (request,) = [a for a in stepper.actions if isinstance(a, StartSubflow)]
    assert (request.namespace, request.flow_id, request.wait) == (NS, "child", True)
    assert stepper.state("launch") is State.RUNNING
    assert "RunTaskRun" not in stepper.kinds()


def test_a_child_is_started_once_and_its_result_taken_once():
    stepper = _started()
    (request,) = [a for a in stepper.actions if isinstance(a, StartSubflow)]
    stepper.apply(*subflow_started(stepper.execution, request, "child-1"))
    assert subflow_started(stepper.execution, request, "child-2") == []
    result = SubflowResult(
        stepper.run_of("launch").id, "child-1", State.SUCCESS, State.SUCCESS, {"state": "SUCCESS"}
    )
    stepper.apply(*accept_subflow_result(stepper.execution, result))
    assert accept_subflow_result(stepper.execution, result) == []
    stale = SubflowResult(stepper.run_of("launch").id, "other", State.FAILED, State.FAILED)
    assert accept_subflow_result(stepper.execution, stale) == []
    stepper.decide()
    assert stepper.execution.current is State.SUCCESS


def test_killing_the_parent_asks_to_stop_the_running_subflow():
    stepper = _started()
    (request,) = [a for a in stepper.actions if isinstance(a, StartSubflow)]
    stepper.apply(*subflow_started(stepper.execution, request, "child-1"))
    stepper.apply(SetExecutionState(State.KILLING))
    actions = stepper.decide()
    assert KillTaskRun(stepper.run_of("launch").id) in actions
    assert stepper.execution.current is State.KILLED
    killed = SubflowResult(stepper.run_of("launch").id, "child-1", State.KILLED, State.KILLED)
    stepper.apply(*accept_subflow_result(stepper.execution, killed))
    stepper.decide()
    assert stepper.state("launch") is State.KILLED


def test_not_found_names_the_revision_asked_for():
    assert str(not_found(NS, "x", 3)) == "Unable to find flow 'company.team'.'x' with revision '3'"
    assert isinstance(not_found(NS, "x", None), SubflowError)


# --- ForEachItem --------------------------------------------------------------------------
FOR_EACH_ITEM = """
inputs:
  - id: file
    type: STRING
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      rows: 4
    namespace: company.team
    flowId: %(flow)s
    inputs:
      items: "{{ taskrun.items }}"
      number: "{{ taskrun.iteration }}"
%(extra)s"""


def for_each_item(
    lines: int, flow: str = "batch", extra: str = ""
) -> tuple[RunResult, MemoryStorage]:
    storage = MemoryStorage()
    content = "".join(f"{n:>20}\n" for n in range(lines)).encode()
    uri = storage.put("company/team/parent/executions/e/inputs/file/items.txt", content)
    body = FOR_EACH_ITEM % {"flow": flow, "extra": textwrap.indent(extra, "    ")}
    if flow == "batch-failing":
        body = body.replace('      number: "{{ taskrun.iteration }}"\n', "")
    return run_parent(body, {"file": uri}, storage=storage), storage


def test_it_starts_one_execution_per_batch_and_merges_their_outputs():
    result, storage = for_each_item(102)
    assert result.execution.current is State.SUCCESS
    assert [r.task_id for r in result.execution.task_runs] == [
        "each",
        "each_split",
        "each_items",
        "each_merge",
    ]
    items = result.task_run("each_items")
    assert items.outputs["numberOfBatches"] == 26
    assert items.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 26}
    assert [a.state.current for a in items.attempts] == [State.SUCCESS]
    assert len(result.children) == 26
    first, last = result.children[0].execution, result.children[-1].execution
    assert storage.get(first.inputs["items"]) == b"".join(f"{n:>20}\n".encode() for n in range(4))
    assert first.inputs["items"].endswith(".txt")
    assert storage.get(last.inputs["items"]).count(b"\n") == 2
    assert (first.inputs["number"], last.inputs["number"]) == (1, 26)
    assert first.label_map()[CORRELATION_ID] == result.execution.id
    merged = storage.get(result.task_run("each_merge").outputs["subflowOutputs"])
    assert [json.loads(line) for line in merged.decode().splitlines()] == [
        {"number": n} for n in range(1, 27)
    ]


def test_failed_batches_fail_the_for_each_item():
    result, _ = for_each_item(10, "batch-failing")
    assert result.execution.current is State.FAILED
    assert len(result.execution.task_runs) == 3  # no merge after a failure
    items = result.task_run("each_items")
    assert items.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "FAILED": 3}


def test_allow_failure_and_transmit_failed_apply_to_the_batches():
    result, _ = for_each_item(10, "batch-failing", "transmitFailed: false\n")
    assert result.execution.current is State.SUCCESS
    result, _ = for_each_item(10, "batch-failing", "allowFailure: true\n")
    assert result.task_run("each").current is State.WARNING
    assert result.task_run("each_items").current is State.FAILED


def test_without_wait_batches_count_as_done_once_started():
    result, _ = for_each_item(8, "batch-failing", "wait: false\n")
    assert result.execution.current is State.SUCCESS
    assert result.task_run("each_items").outputs["iterations"] == {"RUNNING": 0, "SUCCESS": 2}


def test_an_empty_file_starts_nothing_and_succeeds():
    result, _ = for_each_item(0)
    assert result.execution.current is State.SUCCESS
    assert len(result.execution.task_runs) == 4
    assert result.children == []
    assert result.task_run("each_items").outputs["numberOfBatches"] == 0
    assert result.task_run("each_merge").outputs == {}


def test_items_must_be_an_internal_storage_uri():
    result = run_parent(FOR_EACH_ITEM % {"flow": "batch", "extra": ""}, {"file": "/etc/passwd"})
    assert result.execution.current is State.FAILED
    assert errors(result) == [
        "Unable to split the items from /etc/passwd, this is not an internal storage URI!"
    ]


def test_a_for_each_item_inside_a_foreach_merges_the_outputs_of_its_own_batches():
    storage = MemoryStorage()
    uri = storage.put("company/team/parent/executions/e/inputs/file/items.txt", b"a\nb\nc\n")
    body = """
    tasks:
      - id: loop
        type: io.kestra.plugin.core.flow.ForEach
        values: ["x", "y"]
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEachItem
            items: "ITEMS"
            batch:
              partitions: 2
            namespace: company.team
            flowId: batch
            inputs:
              items: "{{ taskrun.items }}"
              number: "{{ taskrun.iteration }}"
    """.replace("ITEMS", uri)
    result = run_parent(body, storage=storage)
    assert result.execution.current is State.SUCCESS
    assert len(result.children) == 4
    merges = [r for r in result.execution.task_runs if r.task_id == "each_merge"]
    assert len({r.outputs["subflowOutputs"] for r in merges}) == 2
    for merge in merges:
        assert storage.get(merge.outputs["subflowOutputs"]).count(b"\n") == 2


# --- splitting ----------------------------------------------------------------------------
def test_lines_end_like_javas_read_line():
    assert lines_of(b"a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    assert lines_of(b"a\n\nb\n") == ["a", "", "b"]
    assert lines_of(b"") == []


def test_batches_by_rows_bytes_or_partitions():
    lines = ["aa", "bb", "cc", "dd", "ee"]
    assert split_lines(lines, {"rows": 2}, "\n") == ["aa\nbb\n", "cc\ndd\n", "ee\n"]
    assert split_lines(lines, {}, ";") == ["aa;", "bb;", "cc;", "dd;", "ee;"]
    assert split_lines(lines, {"bytes": "6"}, "\n") == ["aa\nbb\n", "cc\ndd\n", "ee\n"]
    assert split_lines(lines, {"partitions": 2}, "\n") == ["aa\ncc\nee\n", "bb\ndd\n"]
    assert split_lines(lines[:1], {"partitions": 3}, "\n") == ["aa\n"]
    assert size_in_bytes("10KB") == 10240
    assert size_in_bytes("2mb") == 2 * 1024 * 1024


@pytest.mark.parametrize("batch", [{"rows": 0}, {"rows": "x"}, {"bytes": "lots"}])
def test_an_invalid_batch_fails_the_split_with_its_value(batch):
    from executions.engine.tasks.base import TaskFailed

    with pytest.raises(TaskFailed, match="Invalid"):
        split_lines(["a"], batch, "\n")


@pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason="shared/kestra-conformance is missing")
def test_the_corpus_reads_as_a_flows_directory():
    assert corpus().lookup("io.kestra.tests", "switch", None).id == "switch"
